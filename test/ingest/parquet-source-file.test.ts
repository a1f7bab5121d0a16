import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { SourceFile } from '../../src/ingest/decode-object.js';
import { newIngestStats } from '../../src/ingest/ingest-stats.js';
import type { Source } from '../../src/ingest/source.js';

/** A one-object source over `bytes`, streaming `chunk`-byte pieces; `failAfter` breaks a stream after that many chunks. */
function memorySource(bytes: Buffer, chunk = 1000, failAfter?: (streamNo: number) => number | undefined) {
  const opens: number[] = [];
  const streams: Readable[] = [];
  const source: Source = {
    url: 'mem://',
    listDir: async () => ({ prefixes: [], objects: [{ key: 'o', size: bytes.length }] }),
    open: async (_key, o) => {
      const offset = o?.offset ?? 0;
      const n = opens.push(offset);
      const limit = failAfter?.(n);
      async function* pieces() {
        let sent = 0;
        for (let at = offset; at < bytes.length; at += chunk) {
          if (limit !== undefined && sent++ >= limit) throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
          yield bytes.subarray(at, Math.min(bytes.length, at + chunk));
        }
      }
      const s = Readable.from(pieces(), { objectMode: false, highWaterMark: chunk });
      streams.push(s);
      return s;
    },
    close: async () => {},
  };
  return { source, opens, streams };
}

const BYTES = Buffer.from(Array.from({ length: 5 * 1024 * 1024 }, (_, i) => (i * 7) & 0xff));
const slice = (offset: number, length: number) => BYTES.subarray(offset, offset + length);

describe('SourceFile: random access over a Source', () => {
  it('serves reads that move forward from one stream, reading through small gaps', async () => {
    const m = memorySource(BYTES);
    const stats = newIngestStats();
    const file = new SourceFile(m.source, 'o', BYTES.length, stats);
    expect(await file.read(4, 10)).toEqual(slice(4, 10));
    expect(await file.read(14, 2500)).toEqual(slice(14, 2500));
    expect(await file.read(300_000, 5)).toEqual(slice(300_000, 5));
    expect(m.opens).toEqual([4]);
    expect(stats.bytesRead).toBeGreaterThanOrEqual(300_005 - 4);
    await file.close();
    expect(m.streams.every((s) => s.destroyed)).toBe(true);
  });

  it('opens again for a read behind its streams or more than 1 MiB ahead, keeping at most two open', async () => {
    const m = memorySource(BYTES, 64 * 1024);
    const file = new SourceFile(m.source, 'o', BYTES.length, newIngestStats());
    expect(await file.read(BYTES.length - 8, 8)).toEqual(slice(BYTES.length - 8, 8));
    expect(await file.read(100, 50)).toEqual(slice(100, 50));
    expect(await file.read(3 * 1024 * 1024, 50)).toEqual(slice(3 * 1024 * 1024, 50));
    expect(await file.read(10, 20)).toEqual(slice(10, 20));
    expect(m.opens).toEqual([BYTES.length - 8, 100, 3 * 1024 * 1024, 10]);
    expect(m.streams.filter((s) => !s.destroyed).length).toBeLessThanOrEqual(2);
    await file.close();
    expect(m.streams.every((s) => s.destroyed)).toBe(true);
  });

  it('serves reads within the sniffed first chunk without opening, and goes on with the stream after it', async () => {
    const m = memorySource(BYTES);
    const stream = await m.source.open('o', {});
    const it = stream[Symbol.asyncIterator]();
    const head = (await it.next()).value as Buffer;
    const file = new SourceFile(m.source, 'o', BYTES.length, newIngestStats(), undefined, { head, rest: it });
    expect(await file.read(0, 4)).toEqual(slice(0, 4));
    expect(await file.read(500, 1000)).toEqual(slice(500, 1000));
    expect(await file.read(0, 8)).toEqual(slice(0, 8));
    expect(await file.read(2000, 10)).toEqual(slice(2000, 10));
    expect(m.opens).toEqual([0]);
    await file.close();
    expect(stream.destroyed).toBe(true);
  });

  it('takes a prefetched stream as its start', async () => {
    const m = memorySource(BYTES);
    const opened = m.source.open('o', {});
    const file = new SourceFile(m.source, 'o', BYTES.length, newIngestStats(), undefined, { opened });
    expect(await file.read(0, 4)).toEqual(slice(0, 4));
    expect(await file.read(4, 5000)).toEqual(slice(4, 5000));
    expect(m.opens).toEqual([0]);
    await file.close();
    expect(m.streams[0]!.destroyed).toBe(true);
  });

  it('opens a kept stream again once when it fails, as an idle connection would', async () => {
    // The first stream breaks after two chunks; later ones do not.
    const m = memorySource(BYTES, 1000, (n) => (n === 1 ? 2 : undefined));
    const file = new SourceFile(m.source, 'o', BYTES.length, newIngestStats());
    expect(await file.read(0, 500)).toEqual(slice(0, 500));
    expect(await file.read(1500, 2000)).toEqual(slice(1500, 2000));
    expect(m.opens).toEqual([0, 1500]);
    await file.close();
  });

  it('fails a read on a fresh stream, and one past the end of an object shorter than listed', async () => {
    const broken = memorySource(BYTES, 1000, () => 0);
    await expect(new SourceFile(broken.source, 'o', BYTES.length, newIngestStats()).read(0, 10)).rejects.toThrow(/socket hang up/);
    const short = memorySource(BYTES.subarray(0, 100));
    const file = new SourceFile(short.source, 'o', 200, newIngestStats());
    await expect(file.read(50, 100)).rejects.toThrow(/object ended at byte 100, before byte 150 of the 200 its listing gave/);
    await expect(file.read(150, 100)).rejects.toThrow(RangeError);
    await file.close();
  });

  it('serves reads asked for at once one after another', async () => {
    const m = memorySource(BYTES);
    const file = new SourceFile(m.source, 'o', BYTES.length, newIngestStats());
    const parts = await Promise.all([file.read(0, 10), file.read(10, 3000), file.read(3010, 7)]);
    expect(Buffer.concat(parts)).toEqual(slice(0, 3017));
    expect(m.opens).toEqual([0]);
    await file.close();
  });
});
