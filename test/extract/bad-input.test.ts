import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reject } from '../../src/core/audit-event.js';
import { extract } from '../../src/extract/extract-pipeline.js';
import { RejectLog } from '../../src/ingest/reject-log.js';
import { collect, makeTree, okeraLine } from '../helpers/temp-tree.js';

const D20 = Date.UTC(2026, 10, 20);
const good = (id: string, minute: number) => okeraLine({ request_id: id, start_unix_time: D20 + minute * 60_000 });

/** The bad-input corpus: one object per kind of damage, each beside good records. */
async function corpus() {
  const longGzip = gzipSync(Array.from({ length: 3000 }, (_, i) => good(`gz-${i}`, 600 + (i % 60))).join('\n') + '\n');
  return makeTree({
    'ymd=2026-11-20/malformed.log': [good('m-1', 1), '{"request_id": "m-2", "statement": ', good('m-3', 3)].join('\n'),
    'ymd=2026-11-20/truncated.log': longGzip.subarray(0, Math.floor(longGzip.length / 2)),
    'ymd=2026-11-20/latin1.log': Buffer.concat([Buffer.from(good('u-1', 10) + '\n'), Buffer.from('{"request_id":"u-2","statement":"SELECT \'caf'), Buffer.from([0xe9]), Buffer.from('\'"}\n'), Buffer.from(good('u-3', 12) + '\n')]),
    'ymd=2026-11-20/no-time.log': [good('t-1', 20), JSON.stringify({ request_id: 't-2', statement: 'SELECT 2' }), good('t-3', 22)].join('\n'),
    'ymd=2026-11-20/unknown.csv': 'id,when,what\n1,2026-11-20,SELECT 1\n',
    'ymd=2026-11-20/fine.log': [good('f-1', 30), good('f-2', 31)].join('\n'),
  });
}

describe('bad input', () => {
  let tree: Awaited<ReturnType<typeof makeTree>>;
  beforeAll(async () => {
    tree = await corpus();
  });
  afterAll(() => tree.cleanup());

  it('rejects each kind of damage with object and line, and still processes the rest of the window', async () => {
    const written: Reject[] = [];
    const rejects = new RejectLog({ write: async (b) => void written.push(...b) });
    const { events, stats } = extract({ source: tree.root, window: { from: D20, to: D20 + 86_400_000 }, rejects });
    const ids = (await collect(events)).map((e) => e.id);
    const where = written.map((r) => [r.object.split('/').pop(), r.line, r.reason]).sort();
    expect(where).toEqual(
      [
        ['latin1.log', 2, 'invalid-utf8'],
        ['malformed.log', 2, 'malformed-line'],
        ['no-time.log', 2, 'bad-timestamp'],
        ['truncated.log', expect.any(Number), 'truncated-gzip'],
        ['unknown.csv', 1, 'unknown-format'],
      ].sort(),
    );
    for (const id of ['m-1', 'm-3', 'u-1', 'u-3', 't-1', 't-3', 'f-1', 'f-2', 'gz-0']) expect(ids).toContain(id);
    // Every gzip line before the cut is kept, and the cut line is the one reported.
    const gzKept = ids.filter((id) => id.startsWith('gz-')).length;
    const truncated = written.find((r) => r.reason === 'truncated-gzip')!;
    expect(truncated.line).toBe(gzKept + 1);
    expect(rejects.byReason).toEqual({ 'malformed-line': 1, 'truncated-gzip': 1, 'invalid-utf8': 1, 'bad-timestamp': 1, 'unknown-format': 1 });
    expect(stats.ingest.objectsDone).toBe(6);
  });

  it('keeps the offending bytes in the reject: text as is, invalid UTF-8 as base64', async () => {
    const written: Reject[] = [];
    const { events } = extract({
      source: tree.root,
      window: { from: D20, to: D20 + 86_400_000 },
      rejects: new RejectLog({ write: async (b) => void written.push(...b) }),
    });
    await collect(events);
    const bad = written.find((r) => r.reason === 'invalid-utf8')!;
    expect(bad.rawEncoding).toBe('base64');
    expect(Buffer.from(bad.raw!, 'base64').includes(0xe9)).toBe(true);
    expect(written.find((r) => r.reason === 'malformed-line')).toMatchObject({ raw: '{"request_id": "m-2", "statement": ', rawEncoding: 'utf8' });
  });

  it('fails with a clear error once more than --max-rejects records are rejected', async () => {
    const { events } = extract({ source: tree.root, window: { from: D20, to: D20 + 86_400_000 }, rejects: new RejectLog(null, 2) });
    await expect(collect(events)).rejects.toMatchObject({ code: 'too-many-rejects', message: expect.stringMatching(/more than 2 rejects/) });
  });
});
