import type { Readable } from 'node:stream';
import pLimit from 'p-limit';
import type { AuditEvent, BaseEvent } from '../core/audit-event.js';
import type { Shard } from '../core/shard.js';
import { formatTime, type TimeWindow } from '../core/time.js';
import type { DecoderOptions } from '../ingest/decoder.js';
import { decodeObject } from '../ingest/decode-object.js';
import { DECODERS, decoderForFormat } from '../ingest/decoder-registry.js';
import { newIngestStats, type IngestStats } from '../ingest/ingest-stats.js';
import { layoutFromOption } from '../ingest/layout.js';
import { byWindowOrder, listWindow } from '../ingest/list-window.js';
import type { RejectLog } from '../ingest/reject-log.js';
import { openSource } from '../ingest/source-registry.js';
import type { ObjectRef, Source, SourceOptions } from '../ingest/source.js';
import { classifyEvents, type ClassifyStats, type EventFilter } from './classify-events.js';
import { coalesceDuplicates } from './coalesce-duplicates.js';
import { mergeObjects, reorderWithin, type ReorderWindow } from './order-events.js';

export interface ExtractOptions {
  /** Path or `file://` URL (and, later, bucket URLs), or a Source already made (tests wrap one to watch it). */
  source: string | Source;
  /** Endpoints, retry policy and the like for a source made from a URL. */
  sourceOptions?: SourceOptions;
  window: TimeWindow;
  /** A decoder's format name, or `auto` (default) to sniff each object. */
  format?: string;
  /** Format settings such as the PostgreSQL stderr prefix. */
  decoderOptions?: DecoderOptions;
  /** `auto` (default), `hive`, `path`, `flat` or a template such as `{yyyy}/{MM}/{dd}`. */
  layout?: string;
  /** Default 1 h. */
  lookbackMs?: number;
  /** Objects opened ahead of need, and listings in flight (default 8). */
  readConcurrency?: number;
  /** How late (in log time, default 1 h) and how many records (default 100,000) may arrive out of order per object. */
  reorderWindow?: Partial<ReorderWindow>;
  filter?: EventFilter;
  /**
   * Read only this shard's objects (chosen by a stable hash of each object's key), so N
   * runs with shards 0/N .. N-1/N read every object of the window exactly once. Default: all.
   */
  shard?: Shard;
  rejects: RejectLog;
  signal?: AbortSignal;
}

export interface ExtractStats {
  ingest: IngestStats;
  classify: ClassifyStats;
  /** Records folded into another with the same id (start/end pairs, logs shipped twice). */
  duplicates: number;
  /** Records that arrived after the reorder window had passed them; they are in the rejects. */
  late: number;
}

/**
 * The extract stage end to end: list the window's partitions, decode each object,
 * merge into (ts, id) order, fold duplicates, split, classify, fingerprint, filter.
 * `events` is lazy: nothing is read until it is iterated, and it reads no faster than
 * it is consumed.
 */
export function extract(options: ExtractOptions): { events: AsyncIterable<AuditEvent[]>; stats: ExtractStats } {
  const stats: ExtractStats = {
    ingest: newIngestStats(),
    classify: { events: 0, selected: 0, filteredOut: 0 },
    duplicates: 0,
    late: 0,
  };
  const { rejects, window, signal } = options;
  const decoder = decoderForFormat(options.format);
  const layout = layoutFromOption(options.layout);
  const readConcurrency = options.readConcurrency ?? 8;
  const reorderWindow: ReorderWindow = { spanMs: 3_600_000, maxRecords: 100_000, ...options.reorderWindow };

  const onLate = (e: BaseEvent, after: BaseEvent): void => {
    stats.late++;
    rejects.add(
      {
        reason: 'late-record',
        message: `record at ${formatTime(e.ts)} arrived after records up to ${formatTime(after.ts)} were passed on; not reordered (raise --reorder-window)`,
        object: e.source.object,
        line: e.source.line,
        format: e.source.format,
      },
      JSON.stringify(e),
    );
  };

  async function* run(): AsyncGenerator<BaseEvent[]> {
    const sourceOptions: SourceOptions = {
      ...options.sourceOptions,
      onRetry: (what, err) => {
        if (what === 'resume') stats.ingest.resumes++;
        else stats.ingest.retries++;
        options.sourceOptions?.onRetry?.(what, err);
      },
    };
    const source = typeof options.source === 'string' ? await openSource(options.source, sourceOptions) : options.source;
    try {
      const listing = await listWindow(source, {
        layout,
        window,
        lookbackMs: options.lookbackMs ?? 3_600_000,
        concurrency: readConcurrency,
        ...(options.shard ? { shard: options.shard } : {}),
        ...(signal ? { signal } : {}),
      });
      stats.ingest.listCalls += listing.listCalls;
      // Listed means to be read here, so progress (done of listed) reaches the end in a shard too.
      stats.ingest.objectsListed += listing.objects.length;
      stats.ingest.objectsOtherShard += listing.otherShard.length;
      stats.ingest.objectsSkipped += listing.skippedObjects.length;
      stats.ingest.prunedPrefixes += listing.prunedPrefixes;
      // Formats that need a companion log read it once, before any object is decoded;
      // every shard reads all of it, since a companion object can hash to another shard.
      const prepared = new Map<string, unknown>();
      const windowObjects = listing.otherShard.length === 0 ? listing.objects : [...listing.objects, ...listing.otherShard].sort(byWindowOrder);
      for (const d of decoder ? [decoder] : DECODERS) {
        if (d.prepare) prepared.set(d.format, await d.prepare(source, windowObjects, options.decoderOptions ?? {}, signal));
      }
      const decoderOptions: DecoderOptions = { ...options.decoderOptions, prepared };
      // Prefetch opens the next objects' streams so bytes flow before the merge needs them.
      const limit = pLimit(readConcurrency);
      const preopened = new Map<string, Promise<Readable>>();
      const prefetch = (object: ObjectRef): void => {
        if (preopened.has(object.key)) return;
        const stream = limit(() => source.open(object.key, signal ? { signal } : {}));
        stream.catch(() => {}); // a failure is reported when the object is decoded
        preopened.set(object.key, stream);
      };
      const open = (object: ObjectRef) => {
        const opened = preopened.get(object.key);
        preopened.delete(object.key);
        return reorderWithin(
          decodeObject(source, object, { decoder, decoderOptions, window, stats: stats.ingest, rejects, ...(signal ? { signal } : {}), ...(opened ? { opened } : {}) }),
          reorderWindow,
          onLate,
        );
      };
      try {
        for await (const batch of mergeObjects(listing.objects, open, { prefetch, prefetchCount: readConcurrency, onLate })) {
          signal?.throwIfAborted();
          await rejects.flush();
          yield batch;
        }
      } finally {
        // Streams opened ahead but never reached (an early stop): close them.
        await Promise.allSettled([...preopened.values()].map(async (p) => (await p).destroy()));
      }
      await rejects.flush();
    } finally {
      await source.close();
    }
  }

  const deduped = coalesceDuplicates(run(), () => stats.duplicates++);
  return { events: classifyEvents(deduped, options.filter ?? {}, stats.classify), stats };
}
