import { MinHeap } from '../../src/extract/min-heap.js';

/** Records waiting to be written, ordered by (ts, seq); seq keeps equal timestamps in insertion order. */
export interface Timed {
  ts: number;
  seq: number;
}

/** The pipeline's own heap, ordered for the generator's pending records. */
export function timeHeap<T extends Timed>(): MinHeap<T> {
  return new MinHeap<T>((a, b) => a.ts < b.ts || (a.ts === b.ts && a.seq < b.seq));
}
