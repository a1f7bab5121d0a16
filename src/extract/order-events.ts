import type { BaseEvent } from '../core/audit-event.js';
import type { ObjectRef } from '../ingest/source.js';
import { MinHeap } from './min-heap.js';

/** The order of the whole pipeline: start time, then id, so ties are broken the same way on every run. */
export function compareEvents(a: BaseEvent, b: BaseEvent): number {
  return a.ts - b.ts || compareIds(a.id, b.id);
}

/**
 * Orders ids with their digit runs compared as numbers: `s:9` before `s:10`. Ids made
 * of a session and a line number (PostgreSQL's `session_id:line_num`) then follow the
 * session's own order when two statements share a millisecond.
 */
export function compareIds(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  // Back up to the start of a digit run the two share, so the whole numbers are compared.
  while (i > 0 && isDigit(a.charCodeAt(i - 1))) i--;
  if (i < n && isDigit(a.charCodeAt(i)) && isDigit(b.charCodeAt(i))) {
    let ea = i;
    let eb = i;
    while (ea < a.length && isDigit(a.charCodeAt(ea))) ea++;
    while (eb < b.length && isDigit(b.charCodeAt(eb))) eb++;
    let sa = i;
    let sb = i;
    while (sa < ea - 1 && a.charCodeAt(sa) === 48) sa++;
    while (sb < eb - 1 && b.charCodeAt(sb) === 48) sb++;
    const byLength = ea - sa - (eb - sb);
    if (byLength !== 0) return byLength;
    const ra = a.slice(sa, ea);
    const rb = b.slice(sb, eb);
    if (ra !== rb) return ra < rb ? -1 : 1;
    const rest = compareIds(a.slice(ea), b.slice(eb));
    return rest !== 0 ? rest : ea - eb;
  }
  return a < b ? -1 : 1;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Called for a record that arrives after later records were already passed on. */
export type LateHandler = (event: BaseEvent, after: BaseEvent) => void;

/** How far out of order a record may arrive and still be placed. */
export interface ReorderWindow {
  /** In log time: a record is held until records this much later have been read (default 1 h). */
  spanMs: number;
  /** In records, so memory stays bounded on a burst: past it the oldest are passed on early (default 100,000). */
  maxRecords: number;
}

/**
 * Sorts a nearly ordered stream. Logs are written when statements end, so start times
 * arrive late by up to the longest statement's duration; a record is held until the
 * stream has reached `spanMs` past it. A record later than that cannot be placed and
 * goes to `onLate`, never silently out of order.
 */
export async function* reorderWithin(
  input: AsyncIterable<BaseEvent[]>,
  window: ReorderWindow,
  onLate: LateHandler,
): AsyncGenerator<BaseEvent[]> {
  // A sorted array with a moving head rather than a heap: most records arrive in order
  // or a few places late, so inserting near the tail is cheaper than sifting.
  let held: BaseEvent[] = [];
  let head = 0;
  let last: BaseEvent | null = null;
  let newest = -Infinity;
  for await (const batch of input) {
    const out: BaseEvent[] = [];
    for (const e of batch) {
      if (last !== null && compareEvents(e, last) < 0) {
        onLate(e, last);
        continue;
      }
      insertSorted(held, head, e);
      if (e.ts > newest) newest = e.ts;
      const watermark = newest - window.spanMs;
      while (head < held.length && (held[head]!.ts <= watermark || held.length - head > window.maxRecords)) {
        last = held[head++]!;
        out.push(last);
      }
    }
    if (head > 4096 && head * 2 > held.length) {
      held = held.slice(head);
      head = 0;
    }
    if (out.length > 0) yield out;
  }
  if (head < held.length) yield held.slice(head);
}

/** Inserts `e` into the sorted run `a[from..]`, after any equal record. */
function insertSorted(a: BaseEvent[], from: number, e: BaseEvent): void {
  let hi = a.length;
  if (hi === from || compareEvents(a[hi - 1]!, e) <= 0) {
    a.push(e);
    return;
  }
  let lo = from;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareEvents(a[mid]!, e) <= 0) lo = mid + 1;
    else hi = mid;
  }
  a.splice(lo, 0, e);
}

export interface MergeOptions {
  /**
   * Called for the next objects (up to `prefetchCount`, default 8) each time one is
   * opened, so their bytes can start flowing before the merge needs them. Only I/O is
   * started there: decoding waits until the merge reaches the object, which keeps
   * memory to the objects whose time ranges overlap.
   */
  prefetch?: (object: ObjectRef) => void;
  prefetchCount?: number;
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
  const prefetchCount = Math.max(0, options.prefetchCount ?? 8);
  const batchSize = options.batchSize ?? 4096;
  const heap = new MinHeap<Cursor>((a, b) => compareEvents(a.batch[a.index]!, b.batch[b.index]!) < 0);
  // Streams not yet exhausted, so an early stop can close them.
  const opened = new Set<Cursor>();

  let next = 0;
  let last: BaseEvent | null = null;
  let out: BaseEvent[] = [];
  try {
    for (;;) {
      while (next < objects.length) {
        const top = heap.peek();
        if (top && objects[next]!.minTs > top.batch[top.index]!.ts) break;
        const object = objects[next++]!;
        for (let j = next; j < Math.min(objects.length, next + prefetchCount); j++) options.prefetch?.(objects[j]!);
        const iter = open(object)[Symbol.asyncIterator]();
        const cursor: Cursor = { batch: [], index: 0, iter };
        opened.add(cursor);
        const batch = await nextNonEmpty(iter);
        if (batch) {
          cursor.batch = batch;
          heap.push(cursor);
        } else opened.delete(cursor);
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
        } else {
          heap.pop();
          opened.delete(top);
        }
      }
      if (out.length >= batchSize) {
        yield out;
        out = [];
      }
    }
    if (out.length > 0) yield out;
  } finally {
    await Promise.allSettled([...opened].map((c) => c.iter.return?.()));
  }
}

async function nextNonEmpty(iter: AsyncIterator<BaseEvent[]>): Promise<BaseEvent[] | null> {
  for (;;) {
    const r = await iter.next();
    if (r.done) return null;
    if (r.value.length > 0) return r.value;
  }
}
