import pLimit from 'p-limit';
import { inShard, type Shard } from '../core/shard.js';
import type { TimeWindow } from '../core/time.js';
import { partitionRange, type DateParts, type Layout } from './layout.js';
import type { ObjectRef, Source } from './source.js';

export interface ListWindowOptions {
  layout: Layout;
  window: TimeWindow;
  /** How far before its partition's start a record may lie (default 1 h). */
  lookbackMs?: number;
  /** Listing requests in flight at once (default 8). */
  concurrency?: number;
  /** Keep only the objects of this shard (by key relative to the source root); default: all. */
  shard?: Shard;
  signal?: AbortSignal;
}

export interface WindowListing {
  /** Objects that can hold records of the window (of the shard, when one is given), ordered by (minTs, key). */
  objects: ObjectRef[];
  /**
   * Objects of the window that belong to other shards, in the same order: not to be
   * decoded here, but listed, so a decoder's companion logs can be read in every shard.
   */
  otherShard: ObjectRef[];
  listCalls: number;
  /** Folders not listed because their dates lie outside the window. */
  prunedPrefixes: number;
  /** Objects passed over by name (hidden files, `_SUCCESS` markers), kept so none is skipped without a trace. */
  skippedObjects: string[];
}

/**
 * Lists the objects of a source that can hold records of `window`, walking folder by
 * folder and descending only into partitions whose dates, widened by the lookback,
 * intersect the window. A folder without a date in its name is always descended.
 */
export async function listWindow(source: Source, options: ListWindowOptions): Promise<WindowListing> {
  const { layout, window, signal } = options;
  const lookbackMs = options.lookbackMs ?? 3_600_000;
  const limit = pLimit(options.concurrency ?? 8);
  const result: WindowListing = { objects: [], otherShard: [], listCalls: 0, prunedPrefixes: 0, skippedObjects: [] };
  const shard = options.shard;

  const visit = async (prefix: string, parts: DateParts, depth: number): Promise<void> => {
    signal?.throwIfAborted();
    const listing = await limit(() => source.listDir(prefix, signal));
    result.listCalls += listing.calls ?? 1;
    const range = partitionRange(parts);
    for (const o of listing.objects) {
      const base = o.key.slice(o.key.lastIndexOf('/') + 1);
      if (base.startsWith('.') || base.startsWith('_')) {
        result.skippedObjects.push(o.key);
        continue;
      }
      // By key, not by name: the same object keeps its shard whatever URL the source was given as.
      (shard === undefined || inShard(o.key, shard) ? result.objects : result.otherShard).push({
        ...o,
        name: joinName(source.url, o.key),
        minTs: range ? range.start - lookbackMs : -Infinity,
        maxTs: range ? range.end : Infinity,
      });
    }
    const children: Promise<void>[] = [];
    for (const child of listing.prefixes) {
      const segment = child.slice(prefix.length, -1);
      if (segment.startsWith('.') || segment.startsWith('_')) continue;
      const matched = layout.matchSegment(segment, depth, parts);
      const childParts = matched ? { ...parts, ...matched } : parts;
      const childRange = matched ? partitionRange(childParts) : null;
      if (childRange && !(childRange.start - lookbackMs < window.to && childRange.end > window.from)) {
        result.prunedPrefixes++;
        continue;
      }
      children.push(visit(child, childParts, depth + 1));
    }
    await Promise.all(children);
  };

  await visit('', {}, 0);
  result.objects.sort(byWindowOrder);
  result.otherShard.sort(byWindowOrder);
  return result;
}

/** (minTs, key): the order the merge opens objects in. */
export function byWindowOrder(a: ObjectRef, b: ObjectRef): number {
  return a.minTs - b.minTs || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

function joinName(url: string, key: string): string {
  if (key === '') return url;
  return url.endsWith('/') ? url + key : `${url}/${key}`;
}
