import type { Readable } from 'node:stream';
import type { BaseEvent } from '../core/audit-event.js';
import type { TimeWindow } from '../core/time.js';
import type { Decoder, DecodeSink, LineParser } from './decoder.js';
import { sniffDecoder } from './decoder-registry.js';
import type { IngestStats } from './ingest-stats.js';
import { readObjectLines } from './read-object-lines.js';
import type { RejectLog } from './reject-log.js';
import type { ObjectRef, Source } from './source.js';

export interface DecodeObjectOptions {
  /** The decoder to use, or null to sniff the object's first line. */
  decoder: Decoder | null;
  window: TimeWindow;
  stats: IngestStats;
  rejects: RejectLog;
  signal?: AbortSignal;
  /** The object's byte stream, when a prefetch opened it already. */
  opened?: Promise<Readable>;
}

/**
 * Reads one object into batches of events inside the window, in the order the object
 * holds them. Bad lines go to the reject log; records that are not statements are
 * counted as skipped; records outside the window are counted and dropped.
 */
export async function* decodeObject(source: Source, object: ObjectRef, options: DecodeObjectOptions): AsyncGenerator<BaseEvent[]> {
  const { window, stats, rejects } = options;
  let format: string | null = options.decoder?.format ?? null;
  let batch: BaseEvent[] = [];
  const sink: DecodeSink = {
    event(e) {
      stats.records++;
      if (e.ts < window.from || e.ts >= window.to) stats.outsideWindow++;
      else batch.push(e);
    },
    reject(line, reason, message, raw) {
      rejects.add({ reason, message, object: object.name, line, format }, raw);
    },
    skip(reason) {
      stats.skipped[reason] = (stats.skipped[reason] ?? 0) + 1;
    },
  };
  let parser: LineParser | null = options.decoder ? options.decoder.open(object, sink) : null;
  let unknown = false;
  stats.objectsOpened++;
  const lines = readObjectLines(
    source,
    object,
    stats,
    (p) => rejects.add({ reason: p.reason, message: p.message, object: object.name, line: p.line, format }, p.raw),
    options.signal,
    options.opened,
  );
  try {
    for await (const { first, lines: texts } of lines) {
      for (let i = 0; i < texts.length; i++) {
        const text = texts[i];
        if (text === null || text === undefined) continue;
        if (parser === null) {
          if (text.trim() === '') continue;
          const decoder = sniffDecoder(text);
          if (!decoder) {
            unknown = true;
            sink.reject(first + i, 'unknown-format', 'object is in no known format; give --format to force one', text);
            break;
          }
          format = decoder.format;
          parser = decoder.open(object, sink);
        }
        parser.line(text, first + i);
      }
      if (unknown) break;
      if (batch.length > 0) {
        yield batch;
        batch = [];
      }
    }
    parser?.end();
    if (batch.length > 0) yield batch;
  } finally {
    await lines.return(undefined);
    stats.objectsDone++;
  }
}
