import type { AuditEvent, BaseEvent } from '../core/audit-event.js';
import { formatTime, type TimeWindow } from '../core/time.js';
import { decodeObject } from '../ingest/decode-object.js';
import { decoderForFormat } from '../ingest/decoder-registry.js';
import { newIngestStats, type IngestStats } from '../ingest/ingest-stats.js';
import { layoutFromOption } from '../ingest/layout.js';
import { listWindow } from '../ingest/list-window.js';
import type { RejectLog } from '../ingest/reject-log.js';
import { openSource } from '../ingest/source-registry.js';
import type { Source } from '../ingest/source.js';
import { classifyEvents, type ClassifyStats, type EventFilter } from './classify-events.js';
import { coalesceDuplicates } from './coalesce-duplicates.js';
import { mergeObjects, reorderWithin, type ReorderWindow } from './order-events.js';

export interface ExtractOptions {
  /** Path or `file://` URL (and, later, bucket URLs), or a Source already made (tests wrap one to watch it). */
  source: string | Source;
  window: TimeWindow;
  /** A decoder's format name, or `auto` (default) to sniff each object. */
  format?: string;
  /** `auto` (default), `hive`, `path`, `flat` or a template such as `{yyyy}/{MM}/{dd}`. */
  layout?: string;
  /** Default 1 h. */
  lookbackMs?: number;
  /** Objects opened ahead of need (default 8). */
  readConcurrency?: number;
  /** How late (in log time, default 1 h) and how many records (default 100,000) may arrive out of order per object. */
  reorderWindow?: Partial<ReorderWindow>;
  filter?: EventFilter;
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
    const source = typeof options.source === 'string' ? openSource(options.source) : options.source;
    try {
      const listing = await listWindow(source, {
        layout,
        window,
        lookbackMs: options.lookbackMs ?? 3_600_000,
        concurrency: options.readConcurrency ?? 8,
        ...(signal ? { signal } : {}),
      });
      stats.ingest.listCalls += listing.listCalls;
      stats.ingest.objectsListed += listing.objects.length;
      stats.ingest.objectsSkipped += listing.skippedObjects.length;
      stats.ingest.prunedPrefixes += listing.prunedPrefixes;
      const open = (object: (typeof listing.objects)[number]) =>
        reorderWithin(
          decodeObject(source, object, { decoder, window, stats: stats.ingest, rejects, ...(signal ? { signal } : {}) }),
          reorderWindow,
          onLate,
        );
      for await (const batch of mergeObjects(listing.objects, open, { prefetch: options.readConcurrency ?? 8, onLate })) {
        signal?.throwIfAborted();
        await rejects.flush();
        yield batch;
      }
      await rejects.flush();
    } finally {
      await source.close();
    }
  }

  const deduped = coalesceDuplicates(run(), () => stats.duplicates++);
  return { events: classifyEvents(deduped, options.filter ?? {}, stats.classify), stats };
}
