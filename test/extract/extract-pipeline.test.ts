import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent, Reject } from '../../src/core/audit-event.js';
import { extract } from '../../src/extract/extract-pipeline.js';
import { RejectLog } from '../../src/ingest/reject-log.js';
import { LocalSource } from '../../src/ingest/sources/local/local-source.js';
import type { Source } from '../../src/ingest/source.js';
import { collect, makeTree, okeraLine, pgJsonLine } from '../helpers/temp-tree.js';

const DAY = 86_400_000;
const D20 = Date.UTC(2026, 10, 20);
const at = (offsetMs: number) => D20 + offsetMs;

/** Wraps a source to record which objects were opened, and their streams. */
function watched(inner: Source): { source: Source; opened: string[]; streams: Readable[] } {
  const opened: string[] = [];
  const streams: Readable[] = [];
  return {
    opened,
    streams,
    source: {
      url: inner.url,
      listDir: (p, s) => inner.listDir(p, s),
      open: async (key, o) => {
        opened.push(key);
        const stream = await inner.open(key, o);
        streams.push(stream);
        return stream;
      },
      close: () => inner.close(),
    },
  };
}

function rejectsInMemory(): { log: RejectLog; written: Reject[] } {
  const written: Reject[] = [];
  return { log: new RejectLog({ write: async (b) => void written.push(...b) }), written };
}

describe('extract over a date-partitioned folder', () => {
  let tree: Awaited<ReturnType<typeof makeTree>>;
  beforeAll(async () => {
    tree = await makeTree({
      'okera/ymd=2026-11-19/p1.log': [okeraLine({ request_id: 'd19', start_unix_time: at(-2 * 3_600_000) })].join('\n'),
      'okera/ymd=2026-11-20/p1.log': { gzip: [1, 5, 9].map((h) => okeraLine({ request_id: `p1-${h}`, start_unix_time: at(h * 3_600_000) })).join('\n') + '\n' },
      'okera/ymd=2026-11-20/p2.log': [2, 6].map((h) => okeraLine({ request_id: `p2-${h}`, start_unix_time: at(h * 3_600_000), statement: 'GRANT SELECT ON TABLE sales.orders TO ROLE analyst' })).join('\n'),
      // A file of the next day holding a record from just before midnight: the lookback must find it.
      'okera/ymd=2026-11-21/p1.log': [okeraLine({ request_id: 'late-evening', start_unix_time: at(DAY - 20 * 60_000) }), okeraLine({ request_id: 'd21', start_unix_time: at(DAY + 3_600_000) })].join('\n'),
      'okera/ymd=2026-11-25/p1.log': okeraLine({ request_id: 'd25', start_unix_time: at(5 * DAY) }),
      'okera/ymd=2026-11-20/_SUCCESS': '',
      'pg/2026/11/20/postgresql.json': [
        pgJsonLine({ line_num: 1, timestamp: '2026-11-20 03:00:00.000 UTC', message: 'statement: CREATE TABLE t (id int); INSERT INTO t VALUES (1)' }),
        pgJsonLine({ line_num: 2, timestamp: '2026-11-20 03:00:00.010 UTC', message: 'duration: 10.000 ms' }),
      ].join('\n'),
      'pg/2026/11/23/postgresql.json': pgJsonLine({ timestamp: '2026-11-23 03:00:00.000 UTC', message: 'statement: SELECT 1' }),
    });
  });
  afterAll(() => tree.cleanup());

  const run = async (filter = {}) => {
    const w = watched(new LocalSource(tree.root));
    const r = rejectsInMemory();
    const { events, stats } = extract({ source: w.source, window: { from: D20, to: D20 + DAY }, rejects: r.log, filter });
    return { events: await collect(events), stats, opened: w.opened.sort(), rejects: r.written };
  };

  it('yields the window in (ts, id) order across objects and formats', async () => {
    const { events } = await run();
    expect(events.map((e) => e.id)).toEqual(['p1-1', 'p2-2', '6736a1b2.1092:1#1', '6736a1b2.1092:1#2', 'p1-5', 'p2-6', 'p1-9', 'late-evening']);
    const ts = events.map((e) => e.ts);
    expect([...ts].sort((a, b) => a - b)).toEqual(ts);
  });

  it('never opens files of partitions outside the window widened by the lookback', async () => {
    const { opened, stats } = await run();
    expect(opened).toEqual(['okera/ymd=2026-11-20/p1.log', 'okera/ymd=2026-11-20/p2.log', 'okera/ymd=2026-11-21/p1.log', 'pg/2026/11/20/postgresql.json']);
    expect(stats.ingest.outsideWindow).toBe(1); // d21, read only because its file shares the lookback partition
    expect(stats.ingest.objectsSkipped).toBe(1); // _SUCCESS
  });

  it('splits a record holding several statements into numbered events that classify separately', async () => {
    const { events } = await run();
    const split = events.filter((e) => e.id.startsWith('6736a1b2.1092:1#'));
    expect(split.map((e) => [e.id, e.statement, e.kind, e.command])).toEqual([
      ['6736a1b2.1092:1#1', 'CREATE TABLE t (id int)', 'ddl', 'CREATE TABLE'],
      ['6736a1b2.1092:1#2', 'INSERT INTO t VALUES (1)', 'dml', 'INSERT'],
    ]);
  });

  it('writes events with exactly the field names of the public contract', async () => {
    const { events } = await run();
    const e: AuditEvent = events[0]!;
    expect(Object.keys(e)).toEqual([
      'id', 'ts', 'end', 'durationMs', 'user', 'database', 'session', 'client', 'statement', 'ok', 'error',
      'kind', 'command', 'fingerprint', 'fingerprintId', 'source', 'extra',
    ]);
    expect(e.fingerprintId).toMatch(/^[0-9a-f]{16}$/);
  });

  it('filters by kind, user, database and outcome', async () => {
    expect((await run({ kinds: ['dcl'] })).events.map((e) => e.id)).toEqual(['p2-2', 'p2-6']);
    expect((await run({ databases: ['appdb'] })).events).toHaveLength(2);
    expect((await run({ users: ['nobody'] })).events).toHaveLength(0);
    const okOnly = await run({ okOnly: true });
    expect(okOnly.events.every((e) => e.ok === true)).toBe(true);
  });
});

describe('extract stopped early', () => {
  it('closes every stream it opened, prefetched ones included', async () => {
    const spec: Record<string, string> = {};
    for (let d = 0; d < 3; d++) {
      const lines = Array.from({ length: 20_000 }, (_, i) => okeraLine({ request_id: `d${d}-${i}`, start_unix_time: at(d * DAY + i * 1000) }));
      spec[`ymd=2026-11-2${d}/p.log`] = lines.join('\n');
    }
    const big = await makeTree(spec);
    try {
      const { source, streams } = watched(new LocalSource(big.root));
      const { events } = extract({ source, window: { from: D20, to: D20 + 3 * DAY }, rejects: rejectsInMemory().log });
      for await (const batch of events) {
        expect(batch.length).toBeGreaterThan(0);
        expect(streams.some((s) => !s.destroyed)).toBe(true); // still reading when we stop
        break;
      }
      expect(streams).toHaveLength(3); // the first day, and the next two prefetched
      expect(streams.map((s) => s.destroyed)).toEqual([true, true, true]);
    } finally {
      await big.cleanup();
    }
  });
});

describe('extract over other layouts', () => {
  it('reads every file of a flat folder and keeps the records inside the window', async () => {
    const flat = await makeTree({
      'a.log': [okeraLine({ request_id: 'in-1', start_unix_time: at(3_600_000) }), okeraLine({ request_id: 'before', start_unix_time: at(-DAY) })].join('\n'),
      'b.log': [okeraLine({ request_id: 'after', start_unix_time: at(2 * DAY) }), okeraLine({ request_id: 'in-2', start_unix_time: at(7_200_000) })].join('\n'),
    });
    try {
      const w = watched(new LocalSource(flat.root));
      const { events, stats } = extract({ source: w.source, window: { from: D20, to: D20 + DAY }, rejects: rejectsInMemory().log, layout: 'flat' });
      expect((await collect(events)).map((e) => e.id)).toEqual(['in-1', 'in-2']);
      expect(w.opened.sort()).toEqual(['a.log', 'b.log']);
      expect(stats.ingest.outsideWindow).toBe(2);
    } finally {
      await flat.cleanup();
    }
  });

  it('prunes by a --layout template', async () => {
    const t = await makeTree({
      'logs/2026-11-19/x.log': okeraLine({ request_id: 'd19', start_unix_time: at(-DAY + 1000) }),
      'logs/2026-11-20/x.log': okeraLine({ request_id: 'd20', start_unix_time: at(1000) }),
      'logs/2026-11-22/x.log': okeraLine({ request_id: 'd22', start_unix_time: at(2 * DAY + 1000) }),
    });
    try {
      const w = watched(new LocalSource(t.root));
      const { events } = extract({ source: w.source, window: { from: D20, to: D20 + DAY }, rejects: rejectsInMemory().log, layout: 'logs/{yyyy}-{MM}-{dd}' });
      expect((await collect(events)).map((e) => e.id)).toEqual(['d20']);
      expect(w.opened).toEqual(['logs/2026-11-20/x.log']);
    } finally {
      await t.cleanup();
    }
  });
});
