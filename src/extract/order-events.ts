import pLimit from 'p-limit';
import type { BaseEvent } from '../core/audit-event.js';
import type { ObjectRef } from '../ingest/source.js';
import { MinHeap } from './min-heap.js';

/** The order of the whole pipeline: start time, then id, so ties are broken the same way on every run. */
export function compareEvents(a: BaseEvent, b: BaseEvent): number {
  return a.ts - b.ts || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Called for a record that arrives after later records were already passed on. */
export type LateHandler = (event: BaseEvent, after: BaseEvent) => void;

/**
 * Sorts a nearly ordered stream with a buffer of at most 2 × `windowSize` records.
 * Logs are written when statements end, so start times arrive slightly out of order;
 * a record displaced by more than the window cannot be placed and goes to `onLate`.
 */
export async function* reorderWithin(
  input: AsyncIterable<BaseEvent[]>,
  windowSize: number,
  onLate: LateHandler,
): AsyncGenerator<BaseEvent[]> {
  let buffer: BaseEvent[] = [];
  let last: BaseEvent | null = null;
  for await (const batch of input) {
    for (const e of batch) {
      if (last !== null && compareEvents(e, last) < 0) onLate(e, last);
      else buffer.push(e);
    }
    if (buffer.length >= 2 * windowSize) {
      // V8's TimSort is near-linear on the long sorted runs these buffers hold.
      buffer.sort(compareEvents);
      const keep = buffer.length - windowSize;
      const out = buffer.slice(0, keep);
      buffer = buffer.slice(keep);
      last = out[out.length - 1]!;
      yield out;
    }
  }
  if (buffer.length > 0) yield buffer.sort(compareEvents);
}

export interface MergeOptions {
  /** Objects opened ahead of need, so their first bytes are ready when the merge reaches them (default 8). */
  prefetch?: number;
  onLate: LateHandler;
  /** Events per output batch (default 4096). */
  batchSize?: number;
}

interface Cursor {
  batch: BaseEvent[];
  index: number;
  iter: AsyncIterator<BaseEvent[]>;
}

/**
 * Merges per-object ordered streams into one stream ordered by (ts, id). Objects are
 * opened lazily in order of the earliest time their partition allows, so a window of
 * many days holds only the objects whose time ranges overlap the merge front open.
 */
export async function* mergeObjects(
  objects: readonly ObjectRef[],
  open: (object: ObjectRef) => AsyncIterable<BaseEvent[]>,
  options: MergeOptions,
): AsyncGenerator<BaseEvent[]> {
  const prefetch = Math.max(1, options.prefetch ?? 8);
  const batchSize = options.batchSize ?? 4096;
  const limit = pLimit(prefetch);
  const started = new Map<number, Promise<Cursor | null>>();
  const heap = new MinHeap<Cursor>((a, b) => compareEvents(a.batch[a.index]!, b.batch[b.index]!) < 0);

  const start = (i: number): Promise<Cursor | null> => {
    let p = started.get(i);
    if (!p) {
      p = limit(async () => {
        const iter = open(objects[i]!)[Symbol.asyncIterator]();
        const batch = await nextNonEmpty(iter);
        return batch ? { batch, index: 0, iter } : null;
      });
      started.set(i, p);
    }
    return p;
  };

  let next = 0;
  let last: BaseEvent | null = null;
  let out: BaseEvent[] = [];
  try {
    for (;;) {
      while (next < objects.length) {
        const top = heap.peek();
        if (top && objects[next]!.minTs > top.batch[top.index]!.ts) break;
        const i = next++;
        const wanted = start(i);
        for (let j = next; j < Math.min(objects.length, next + prefetch); j++) void start(j).catch(() => {});
        const cursor = await wanted;
        started.delete(i);
        if (cursor) heap.push(cursor);
      }
      const top = heap.peek();
      if (!top) break;
      const e = top.batch[top.index]!;
      if (last !== null && compareEvents(e, last) < 0) options.onLate(e, last);
      else {
        out.push(e);
        last = e;
      }
      if (++top.index < top.batch.length) heap.siftDownTop();
      else {
        const batch = await nextNonEmpty(top.iter);
        if (batch) {
          top.batch = batch;
          top.index = 0;
          heap.siftDownTop();
        } else heap.pop();
      }
      if (out.length >= batchSize) {
        yield out;
        out = [];
      }
    }
    if (out.length > 0) yield out;
  } finally {
    const open = [...heap.drain(), ...(await Promise.allSettled(started.values())).map((r) => (r.status === 'fulfilled' ? r.value : null))];
    await Promise.allSettled(open.map((c) => c?.iter.return?.()));
  }
}

async function nextNonEmpty(iter: AsyncIterator<BaseEvent[]>): Promise<BaseEvent[] | null> {
  for (;;) {
    const r = await iter.next();
    if (r.done) return null;
    if (r.value.length > 0) return r.value;
  }
}
