import { describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import { layoutFromOption } from '../../src/ingest/layout.js';
import { listWindow } from '../../src/ingest/list-window.js';
import type { Source } from '../../src/ingest/source.js';

/** Makes a source holding exactly these objects (key → bytes); `cleanup` removes them. */
export type SourceMaker = (objects: Record<string, Buffer>) => Promise<{ source: Source; cleanup: () => Promise<void> }>;

async function readAll(source: Source, key: string, offset?: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of await source.open(key, offset === undefined ? {} : { offset })) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts);
}

/**
 * The contract every Source keeps: run by each implementation's test file so local
 * folders and buckets behave the same to everything above them.
 */
export function sourceContract(name: string, make: SourceMaker): void {
  describe(`Source contract: ${name}`, () => {
    it('lists the folders and objects directly under a prefix', async () => {
      const { source, cleanup } = await make({
        'a/one.log': Buffer.from('1\n'),
        'a/b/two.log': Buffer.from('2\n'),
        'top.log': Buffer.from('t\n'),
      });
      try {
        const root = await source.listDir('');
        expect(root.prefixes).toEqual(['a/']);
        expect(root.objects.map((o) => o.key)).toEqual(['top.log']);
        const a = await source.listDir('a/');
        expect(a.prefixes).toEqual(['a/b/']);
        // Stores may add an etag; key and size are the contract.
        expect(a.objects.map((o) => ({ key: o.key, size: o.size }))).toEqual([{ key: 'a/one.log', size: 2 }]);
      } finally {
        await cleanup();
      }
    });

    it('streams an object of several MB byte for byte, and from an offset', async () => {
      const big = Buffer.alloc(5 * 1024 * 1024 + 17);
      for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) & 0xff;
      const { source, cleanup } = await make({ 'big.bin': big });
      try {
        expect((await readAll(source, 'big.bin')).equals(big)).toBe(true);
        expect((await readAll(source, 'big.bin', 4_000_000)).equals(big.subarray(4_000_000))).toBe(true);
      } finally {
        await cleanup();
      }
    });

    it('serves empty objects and gzip bytes unchanged', async () => {
      const gz = gzipSync('hello\n');
      const { source, cleanup } = await make({ 'empty.log': Buffer.alloc(0), 'z.log': gz });
      try {
        expect((await readAll(source, 'empty.log')).length).toBe(0);
        expect((await readAll(source, 'z.log')).equals(gz)).toBe(true);
      } finally {
        await cleanup();
      }
    });

    it('handles keys with spaces and unicode', async () => {
      const { source, cleanup } = await make({ 'dt=2026-11-20/audit log ü 日本.json': Buffer.from('x\n') });
      try {
        const listing = await source.listDir('dt=2026-11-20/');
        expect(listing.objects.map((o) => o.key)).toEqual(['dt=2026-11-20/audit log ü 日本.json']);
        expect((await readAll(source, 'dt=2026-11-20/audit log ü 日本.json')).toString()).toBe('x\n');
      } finally {
        await cleanup();
      }
    });

    it('fails clearly when an object does not exist', async () => {
      const { source, cleanup } = await make({ 'a.log': Buffer.from('a\n') });
      try {
        await expect(readAll(source, 'missing.log')).rejects.toThrow();
      } finally {
        await cleanup();
      }
    });

    it('lists only the partitions of a 3-day window inside 60 days', async () => {
      const objects: Record<string, Buffer> = {};
      for (let d = 0; d < 60; d++) {
        const day = new Date(Date.UTC(2026, 8, 1 + d)).toISOString().slice(0, 10);
        objects[`audit/ymd=${day}/planner-1.log`] = Buffer.from('{}\n');
      }
      const { source, cleanup } = await make(objects);
      try {
        const from = Date.UTC(2026, 9, 10);
        const listing = await listWindow(source, {
          layout: layoutFromOption('auto'),
          window: { from, to: from + 3 * 86_400_000 },
          lookbackMs: 3_600_000,
        });
        // The lookback reaches into the day after the window; nothing else is listed.
        expect(listing.objects.map((o) => o.key)).toEqual([
          'audit/ymd=2026-10-10/planner-1.log',
          'audit/ymd=2026-10-11/planner-1.log',
          'audit/ymd=2026-10-12/planner-1.log',
          'audit/ymd=2026-10-13/planner-1.log',
        ]);
        // root + audit/ + the four day partitions
        expect(listing.listCalls).toBe(6);
        expect(listing.prunedPrefixes).toBe(56);
      } finally {
        await cleanup();
      }
    });
  });
}
