import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BaseEvent } from '../../src/core/audit-event.js';
import { coalesceDuplicates } from '../../src/extract/coalesce-duplicates.js';
import { compareEvents, compareIds, mergeObjects, reorderWithin } from '../../src/extract/order-events.js';
import type { ObjectRef } from '../../src/ingest/source.js';
import { collect } from '../helpers/temp-tree.js';

function ev(id: string, ts: number, extra: Partial<BaseEvent> = {}): BaseEvent {
  return {
    id,
    ts,
    end: null,
    durationMs: null,
    user: null,
    database: null,
    session: null,
    client: null,
    statement: 'SELECT 1',
    ok: null,
    error: null,
    source: { format: 'test', object: 'o', line: 1 },
    ...extra,
  };
}

async function* batches(...groups: BaseEvent[][]): AsyncGenerator<BaseEvent[]> {
  for (const g of groups) yield g;
}

function ref(key: string, minTs = -Infinity): ObjectRef {
  return { key, size: null, name: key, minTs, maxTs: Infinity };
}

describe('reorderWithin', () => {
  it('places records that arrive late by less than the window, in log time', async () => {
    const late: BaseEvent[] = [];
    const input = [5, 3, 4, 1, 2, 9, 7, 8, 6].map((t) => ev(`e${t}`, t));
    const out = await collect(reorderWithin(batches(input.slice(0, 4), input.slice(4)), { spanMs: 5, maxRecords: 100 }, (e) => late.push(e)));
    expect(out.map((e) => e.ts)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(late).toEqual([]);
  });

  it('holds a record only until the stream is the window past it', async () => {
    const seen: number[][] = [];
    const input = batches([ev('a', 0)], [ev('b', 50)], [ev('c', 101)], [ev('d', 300)]);
    for await (const b of reorderWithin(input, { spanMs: 100, maxRecords: 100 }, () => {})) seen.push(b.map((e) => e.ts));
    expect(seen).toEqual([[0], [50, 101], [300]]);
  });

  it('reports a record later than the window instead of reordering it silently', async () => {
    const late: BaseEvent[] = [];
    const input = [10, 11, 12, 13, 14, 15, 1].map((t) => ev(`e${t}`, t));
    const out = await collect(reorderWithin(batches(input.slice(0, 6), input.slice(6)), { spanMs: 2, maxRecords: 100 }, (e) => late.push(e)));
    expect(late.map((e) => e.ts)).toEqual([1]);
    expect(out.map((e) => e.ts)).toEqual([10, 11, 12, 13, 14, 15]);
  });

  it('passes the oldest on early when more records than the cap are held, bounding memory', async () => {
    const late: BaseEvent[] = [];
    const input = [1, 2, 3, 4, 0].map((t) => ev(`e${t}`, t));
    const out = await collect(reorderWithin(batches(input), { spanMs: 1_000, maxRecords: 3 }, (e) => late.push(e)));
    expect(out.map((e) => e.ts)).toEqual([1, 2, 3, 4]);
    expect(late.map((e) => e.ts)).toEqual([0]);
  });

  it('breaks ties on equal times by id', () => {
    expect([ev('b', 1), ev('a', 1)].sort(compareEvents).map((e) => e.id)).toEqual(['a', 'b']);
  });
});

describe('mergeObjects', () => {
  it('merges interleaved objects into one (ts, id) order', async () => {
    const streams: Record<string, BaseEvent[]> = {
      a: [ev('a1', 1), ev('a3', 3), ev('a5', 5)],
      b: [ev('b2', 2), ev('b3', 3), ev('b6', 6)],
      c: [],
    };
    const out = await collect(mergeObjects([ref('a'), ref('b'), ref('c')], (o) => batches(streams[o.key]!), { onLate: () => {}, batchSize: 2 }));
    expect(out.map((e) => e.id)).toEqual(['a1', 'b2', 'a3', 'b3', 'a5', 'b6']);
  });

  it('opens an object only when the merge reaches the earliest time its partition allows, and only prefetches the next', async () => {
    const opened: string[] = [];
    const prefetched: string[] = [];
    const seen: string[] = [];
    const objects = [ref('day1', 0), ref('day2', 100), ref('day3', 200)];
    const data: Record<string, BaseEvent[]> = {
      day1: [ev('x', 10), ev('y', 90)],
      day2: [ev('z', 110)],
      day3: [ev('w', 210)],
    };
    const merged = mergeObjects(
      objects,
      (o) => {
        opened.push(o.key);
        return batches(data[o.key]!);
      },
      { onLate: () => {}, prefetch: (o) => prefetched.push(o.key), prefetchCount: 1, batchSize: 1 },
    );
    for await (const b of merged) {
      seen.push(b[0]!.id);
      if (b[0]!.id === 'y') {
        expect(opened).toEqual(['day1']);
        expect(prefetched).toEqual(['day2']);
      }
    }
    expect(seen).toEqual(['x', 'y', 'z', 'w']);
    expect(opened).toEqual(['day1', 'day2', 'day3']);
  });

  it('reports a record earlier than what was already passed on', async () => {
    const late: string[] = [];
    const objects = [ref('a', 0), ref('b', 100)];
    const data: Record<string, BaseEvent[]> = { a: [ev('a1', 50), ev('a2', 150)], b: [ev('b-early', 20), ev('b1', 120)] };
    const out = await collect(mergeObjects(objects, (o) => batches(data[o.key]!), { onLate: (e) => late.push(e.id), prefetchCount: 1 }));
    expect(out.map((e) => e.id)).toEqual(['a1', 'b1', 'a2']);
    expect(late).toEqual(['b-early']);
  });

  it('closes every stream it opened when the consumer stops early', async () => {
    const closed: string[] = [];
    const open = (o: ObjectRef) =>
      (async function* () {
        try {
          yield [ev(`${o.key}1`, 1), ev(`${o.key}2`, 2)];
        } finally {
          closed.push(o.key);
        }
      })();
    for await (const _ of mergeObjects([ref('a'), ref('b')], open, { onLate: () => {}, batchSize: 1 })) break;
    expect(closed.sort()).toEqual(['a', 'b']);
  });
});

describe('coalesceDuplicates', () => {
  it('folds a start record and an end record of one request into one event carrying both times', async () => {
    const dups: BaseEvent[] = [];
    const start = ev('r1', 100, { ok: null, source: { format: 'okera', object: 'p1', line: 3 } });
    const end = ev('r1', 100, { ok: true, end: 130, durationMs: 30, source: { format: 'okera', object: 'p2', line: 9 } });
    const out = await collect(coalesceDuplicates(batches([start, ev('r0', 90)].sort(compareEvents), [end, ev('r2', 101)]), (d) => dups.push(d)));
    expect(out.map((e) => e.id)).toEqual(['r0', 'r1', 'r2']);
    expect(out[1]).toMatchObject({ ts: 100, end: 130, durationMs: 30, ok: true, source: { object: 'p1', line: 3 } });
    expect(dups).toHaveLength(1);
  });

  it('drops a request id seen again later and counts it', async () => {
    const dups: BaseEvent[] = [];
    const out = await collect(coalesceDuplicates(batches([ev('a', 1), ev('b', 2), ev('a', 3)]), (d) => dups.push(d)));
    expect(out.map((e) => e.ts)).toEqual([1, 2]);
    expect(dups.map((d) => d.ts)).toEqual([3]);
  });
});

describe('compareIds', () => {
  it('orders the line numbers of one session as numbers, so s:9 comes before s:10', () => {
    const ids = ['6afb.bc77:10', '6afb.bc77:9', '6afb.bc77:100', '6afb.bc77:11', '6afb.bc76:200', 'a', 'a1', 'a01b', 'a1a', 'q-2#10', 'q-2#2'];
    const sorted = [...ids].sort(compareIds);
    expect(sorted).toEqual(['6afb.bc76:200', '6afb.bc77:9', '6afb.bc77:10', '6afb.bc77:11', '6afb.bc77:100', 'a', 'a1', 'a1a', 'a01b', 'q-2#2', 'q-2#10']);
  });

  it('is a total order consistent with equality', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a0-9:]{0,6}$/), fc.stringMatching(/^[a0-9:]{0,6}$/), fc.stringMatching(/^[a0-9:]{0,6}$/), (a, b, c) => {
        expect(Math.sign(compareIds(a, b)) + Math.sign(compareIds(b, a))).toBe(0);
        expect(compareIds(a, b) === 0).toBe(a === b);
        if (compareIds(a, b) <= 0 && compareIds(b, c) <= 0) expect(compareIds(a, c)).toBeLessThanOrEqual(0);
      }),
      { numRuns: 5000 },
    );
  });
});
