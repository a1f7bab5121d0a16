import type { BaseEvent } from '../core/audit-event.js';

/**
 * Folds records of the same request into one event. Okera writes a request at its start
 * and again at its end with the same id and start time, and the (ts, id) order puts
 * such records next to each other; the later record's end time and status fill in
 * what the earlier one lacks. An id seen again further away (a log shipped twice) is
 * dropped and counted; the ids remembered for that are bounded by 2 × `recentIds`.
 */
export async function* coalesceDuplicates(
  input: AsyncIterable<BaseEvent[]>,
  onDuplicate: (dropped: BaseEvent) => void,
  recentIds = 65_536,
): AsyncGenerator<BaseEvent[]> {
  let prev: BaseEvent | null = null;
  // Two generations of ids instead of one Set trimmed from the front: deleting a Set's
  // oldest entry makes V8 rescan its deleted slots, which turned this loop quadratic.
  let current = new Set<string>();
  let previous = new Set<string>();
  for await (const batch of input) {
    const out: BaseEvent[] = [];
    for (const e of batch) {
      if (prev !== null && prev.id === e.id && prev.ts === e.ts) {
        onDuplicate(e);
        prev = fold(prev, e);
        continue;
      }
      if (current.has(e.id) || previous.has(e.id)) {
        onDuplicate(e);
        continue;
      }
      if (prev !== null) out.push(prev);
      prev = e;
      current.add(e.id);
      if (current.size >= recentIds) {
        previous = current;
        current = new Set();
      }
    }
    if (out.length > 0) yield out;
  }
  if (prev !== null) yield [prev];
}

function fold(a: BaseEvent, b: BaseEvent): BaseEvent {
  const done = b.ok !== null || b.end !== null ? b : a;
  const other = done === b ? a : b;
  return {
    ...other,
    ...done,
    end: done.end ?? other.end,
    durationMs: done.durationMs ?? other.durationMs,
    user: done.user ?? other.user,
    database: done.database ?? other.database,
    session: done.session ?? other.session,
    client: done.client ?? other.client,
    // Provenance points at the start record, where the request begins in the log.
    source: other.source,
  };
}
