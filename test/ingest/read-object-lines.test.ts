import { describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import { AuditReplayError } from '../../src/core/errors.js';
import { newIngestStats } from '../../src/ingest/ingest-stats.js';
import { readObjectLines, type ObjectProblem } from '../../src/ingest/read-object-lines.js';
import { LocalSource } from '../../src/ingest/sources/local/local-source.js';
import type { ObjectRef } from '../../src/ingest/source.js';
import { makeTree } from '../helpers/temp-tree.js';

async function lines(files: Record<string, Buffer | string>, key: string) {
  const tree = await makeTree(files);
  try {
    const source = new LocalSource(tree.root);
    const ref: ObjectRef = { key, size: null, name: key, minTs: -Infinity, maxTs: Infinity };
    const stats = newIngestStats();
    const problems: ObjectProblem[] = [];
    const out: string[] = [];
    for await (const b of readObjectLines(source, ref, stats, (p) => problems.push(p))) out.push(...b.lines.map(String));
    return { out, problems, stats };
  } finally {
    await tree.cleanup();
  }
}

describe('readObjectLines', () => {
  it('detects gzip by its magic bytes whatever the name says', async () => {
    const r = await lines({ 'plain.gz': 'a\nb\n', 'packed.log': gzipSync('c\nd\n') }, 'packed.log');
    expect(r.out).toEqual(['c', 'd']);
    const p = await lines({ 'plain.gz': 'a\nb\n' }, 'plain.gz');
    expect(p.out).toEqual(['a', 'b']);
  });

  it('reads concatenated gzip members as one stream', async () => {
    const r = await lines({ 'multi.gz': Buffer.concat([gzipSync('a\n'), gzipSync('b\n')]) }, 'multi.gz');
    expect(r.out).toEqual(['a', 'b']);
  });

  it('counts compressed and decompressed bytes separately', async () => {
    const text = 'x'.repeat(1000) + '\n';
    const gz = gzipSync(text);
    const r = await lines({ 'z.log': gz }, 'z.log');
    expect(r.stats.bytesRead).toBe(gz.length);
    expect(r.stats.bytesDecoded).toBe(text.length);
  });

  it('keeps the lines before a truncated gzip and reports where it broke', async () => {
    const body = Array.from({ length: 2000 }, (_, i) => `line ${i} ${'p'.repeat(50)}`).join('\n') + '\n';
    const gz = gzipSync(body);
    const r = await lines({ 'cut.gz': gz.subarray(0, Math.floor(gz.length * 0.6)) }, 'cut.gz');
    expect(r.out.length).toBeGreaterThan(100);
    expect(r.out.length).toBeLessThan(2000);
    expect(r.out.every((l, i) => l === `line ${i} ${'p'.repeat(50)}`)).toBe(true);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatchObject({ reason: 'truncated-gzip', line: r.out.length + 1 });
    expect(r.problems[0]!.message).toMatch(/gzip data ends early after line \d+/);
  });

  it('fails the run when the store refuses the credentials, rather than rejecting object after object', async () => {
    const refused = new AuditReplayError('source-auth', "access to bucket 'b' was refused using profile 'p'");
    const source = { url: 'mem://', listDir: async () => ({ prefixes: [], objects: [] }), open: async () => Promise.reject(refused), close: async () => {} };
    const ref: ObjectRef = { key: 'a.log', size: null, name: 'a.log', minTs: -Infinity, maxTs: Infinity };
    const problems: ObjectProblem[] = [];
    const read = async () => {
      for await (const _ of readObjectLines(source, ref, newIngestStats(), (p) => problems.push(p))) void _;
    };
    await expect(read()).rejects.toBe(refused);
    expect(problems).toEqual([]);
  });

  it('reports an object that cannot be opened as a read error', async () => {
    const tree = await makeTree({ 'a.log': 'a\n' });
    try {
      const source = new LocalSource(tree.root);
      const problems: ObjectProblem[] = [];
      const ref: ObjectRef = { key: 'gone.log', size: null, name: 'gone.log', minTs: -Infinity, maxTs: Infinity };
      for await (const _ of readObjectLines(source, ref, newIngestStats(), (p) => problems.push(p))) void _;
      expect(problems).toMatchObject([{ reason: 'read-error', line: 1 }]);
    } finally {
      await tree.cleanup();
    }
  });
});
