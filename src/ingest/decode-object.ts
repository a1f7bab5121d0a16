import type { Readable } from 'node:stream';
import type { BaseEvent } from '../core/audit-event.js';
import type { TimeWindow } from '../core/time.js';
import type { Decoder, DecoderOptions, DecodeSink, LineParser, ObjectDecoder, RandomAccessFile } from './decoder.js';
import { objectDecoderOf, sniffDecoder, sniffObjectDecoder } from './decoder-registry.js';
import type { IngestStats } from './ingest-stats.js';
import { readObjectLines, type HeadProbe } from './read-object-lines.js';
import type { RejectLog } from './reject-log.js';
import type { ObjectRef, Source } from './source.js';

export interface DecodeObjectOptions {
  /** The decoder to use (for a binary format, decoderForFormat's stand-in), or null to sniff the object's first bytes, then its first line. */
  decoder: Decoder | null;
  decoderOptions?: DecoderOptions;
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
 * counted as skipped; records outside the window are counted and dropped. A binary
 * format (`--format parquet`, or sniffed from the first bytes when the format is auto)
 * is read by random access through its ObjectDecoder instead of by lines.
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
  const forced = objectDecoderOf(options.decoder);
  stats.objectsOpened++;
  try {
    if (forced) {
      yield* decodeBinary(forced, null);
      return;
    }
    // The first chunk is looked at before line splitting: a binary object stops the line reader there, and its stream goes on serving reads.
    let claimed: { decoder: ObjectDecoder; head: Buffer; rest: AsyncIterator<Uint8Array> } | undefined;
    const probe: HeadProbe | undefined = options.decoder
      ? undefined
      : (head, rest) => {
          const decoder = sniffObjectDecoder(head);
          if (decoder) claimed = { decoder, head, rest };
          return decoder !== null;
        };
    yield* decodeLines(probe);
    // Assigned inside the probe, where the compiler's narrowing cannot follow.
    const found = claimed as typeof claimed;
    if (found) {
      format = found.decoder.format;
      yield* decodeBinary(found.decoder, found);
    }
  } finally {
    stats.objectsDone++;
  }

  async function* decodeLines(probe: HeadProbe | undefined): AsyncGenerator<BaseEvent[]> {
    let parser: LineParser | null = options.decoder ? options.decoder.open(object, sink, options.decoderOptions ?? {}) : null;
    let unknown = false;
    const lines = readObjectLines(
      source,
      object,
      stats,
      (p) => rejects.add({ reason: p.reason, message: p.message, object: object.name, line: p.line, format }, p.raw),
      options.signal,
      options.opened,
      probe,
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
            parser = decoder.open(object, sink, options.decoderOptions ?? {});
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
    }
  }

  /** `head`: the object's first chunk and the open stream after it, when sniffing read them. */
  async function* decodeBinary(decoder: ObjectDecoder, head: { head: Buffer; rest: AsyncIterator<Uint8Array> } | null): AsyncGenerator<BaseEvent[]> {
    const initial: InitialBytes | null = head ?? (options.opened ? { opened: options.opened } : null);
    if (object.size === null) {
      await discard(initial);
      sink.reject(1, 'read-error', `${decoder.format} is read from its footer, and the listing did not give the object's size`, null);
      return;
    }
    // Rows stand in for lines in the summary: each event, reject or skip is one. bytesDecoded stays
    // a line-format measure: Parquet pages are inflated inside the decoder, which has no stats.
    const counted: DecodeSink = {
      event: (e) => {
        stats.lines++;
        sink.event(e);
      },
      reject: (line, reason, message, raw) => {
        stats.lines++;
        sink.reject(line, reason, message, raw);
      },
      skip: (reason) => {
        stats.lines++;
        sink.skip(reason);
      },
    };
    const file = new SourceFile(source, object.key, object.size, stats, options.signal, initial);
    const steps = decoder.decode(object, file, counted, options.decoderOptions ?? {});
    try {
      for await (const _ of steps) {
        if (batch.length > 0) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length > 0) yield batch;
    } finally {
      await steps.return(undefined);
      await file.close();
    }
    options.signal?.throwIfAborted();
  }
}

/** Bytes already in hand when a binary object is opened: a prefetched stream, or the sniffed first chunk and the stream after it. */
type InitialBytes = { opened: Promise<Readable> } | { head: Buffer; rest: AsyncIterator<Uint8Array> };

async function discard(initial: InitialBytes | null): Promise<void> {
  if (initial === null) return;
  if ('rest' in initial) await initial.rest.return?.();
  else await initial.opened.then((s) => s.destroy(), () => {});
}

/** How far past a stream's position a read may start and still be served by reading through the gap rather than opening the object again. */
const MAX_SKIP = 1024 * 1024;
/** Streams kept open per object: one following the data, one for the footer at the end. */
const MAX_STREAMS = 2;

interface Cursor {
  /** Object offset of the first byte in `chunks`. */
  pos: number;
  chunks: Buffer[];
  buffered: number;
  /** The stream after the buffered bytes; null once it has ended. */
  rest: AsyncIterator<Uint8Array> | null;
  /** A stream that has served a read before: a failure may be a connection that idled out, worth one fresh open. */
  used: boolean;
}

/**
 * Random access to an object of a Source, which only opens streams from an offset
 * onwards: `read(offset, length)` opens the object at `offset`, takes `length` bytes
 * and keeps the stream, so the next read further on (a Parquet row group's next column
 * chunk) continues it instead of opening the object again. At most two streams are
 * kept; a read behind them or more than 1 MiB ahead opens a new one. The object's
 * first chunk, when a sniff or a prefetch read it, is kept and serves reads within it,
 * so a small object is opened once in all.
 */
export class SourceFile implements RandomAccessFile {
  private readonly cursors: Cursor[] = [];
  private head: Buffer = Buffer.alloc(0);
  private pending: Promise<Readable> | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly source: Source,
    private readonly key: string,
    readonly size: number,
    private readonly stats: IngestStats,
    private readonly signal?: AbortSignal,
    initial: InitialBytes | null = null,
  ) {
    if (initial === null) return;
    if ('rest' in initial) this.adoptHead(initial.head, initial.rest);
    else this.pending = initial.opened;
  }

  /** Reads run one after another, in the order they were asked for. */
  read(offset: number, length: number): Promise<Buffer> {
    const result = this.queue.then(() => this.readNow(offset, length));
    this.queue = result.catch(() => {});
    return result;
  }

  /** Closes every stream still open. */
  async close(): Promise<void> {
    await this.queue;
    await this.adoptPending();
    while (this.cursors.length > 0) await this.drop(this.cursors[0]!);
  }

  private async readNow(offset: number, length: number): Promise<Buffer> {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.size) {
      throw new RangeError(`read of bytes ${offset}+${length} outside the object's ${this.size} bytes`);
    }
    await this.adoptPending();
    const inHead = Math.max(0, Math.min(length, this.head.length - offset));
    const fromHead = inHead > 0 ? this.head.subarray(offset, offset + inHead) : null;
    if (inHead === length) return fromHead ?? Buffer.alloc(0);
    const rest = await this.readStreams(offset + inHead, length - inHead);
    return fromHead ? Buffer.concat([fromHead, rest]) : rest;
  }

  private async readStreams(offset: number, length: number): Promise<Buffer> {
    let best: Cursor | null = null;
    for (const c of this.cursors) {
      if (c.pos <= offset && offset - c.pos <= MAX_SKIP + c.buffered && (best === null || c.pos > best.pos)) best = c;
    }
    if (best) {
      try {
        return await this.take(best, offset, length);
      } catch (err) {
        await this.drop(best);
        this.signal?.throwIfAborted();
        if (!best.used) throw err;
      }
    }
    const stream = await this.source.open(this.key, { offset, ...(this.signal ? { signal: this.signal } : {}) });
    const cursor: Cursor = { pos: offset, chunks: [], buffered: 0, rest: stream[Symbol.asyncIterator](), used: false };
    this.cursors.push(cursor);
    while (this.cursors.length > MAX_STREAMS) await this.drop(this.cursors[0]!);
    try {
      return await this.take(cursor, offset, length);
    } catch (err) {
      await this.drop(cursor);
      throw err;
    }
  }

  private adoptHead(head: Buffer, rest: AsyncIterator<Uint8Array>): void {
    this.head = head;
    this.cursors.push({ pos: head.length, chunks: [], buffered: 0, rest, used: true });
  }

  private async adoptPending(): Promise<void> {
    if (this.pending === null) return;
    const opened = this.pending;
    this.pending = null;
    // A prefetch that failed is retried by the first read that needs the object.
    const stream = await opened.catch(() => null);
    if (!stream) return;
    const it = stream[Symbol.asyncIterator]();
    try {
      const first = await it.next();
      if (first.done) return void (await it.return?.());
      const head = toBuffer(first.value);
      this.stats.bytesRead += head.length;
      this.adoptHead(head, it);
    } catch {
      await it.return?.().catch(() => {});
    }
  }

  private async take(c: Cursor, offset: number, length: number): Promise<Buffer> {
    // Bytes of a gap are dropped as they arrive, so a skip holds no more than a chunk.
    while (c.pos + c.buffered < offset && c.rest !== null) {
      this.skip(c, c.buffered);
      await this.fill(c, 1);
    }
    this.skip(c, Math.min(c.buffered, offset - c.pos));
    await this.fill(c, length);
    if (c.pos !== offset || c.buffered < length) {
      throw new Error(`object ended at byte ${c.pos + c.buffered}, before byte ${offset + length} of the ${this.size} its listing gave; it changed or was cut while being read`);
    }
    const first = c.chunks[0]!;
    let out: Buffer;
    if (first.length >= length) {
      out = first.subarray(0, length);
    } else {
      const parts: Buffer[] = [];
      let need = length;
      for (const chunk of c.chunks) {
        parts.push(need < chunk.length ? chunk.subarray(0, need) : chunk);
        need -= Math.min(need, chunk.length);
        if (need === 0) break;
      }
      out = Buffer.concat(parts, length);
    }
    this.skip(c, length);
    c.used = true;
    // Slices handed out keep their chunk alive, so a stream at its end is let go now.
    if (c.buffered === 0 && c.rest === null) await this.drop(c);
    return out;
  }

  private async fill(c: Cursor, want: number): Promise<void> {
    while (c.buffered < want && c.rest !== null) {
      const r = await c.rest.next();
      if (r.done) {
        c.rest = null;
        break;
      }
      const b = toBuffer(r.value);
      this.stats.bytesRead += b.length;
      c.chunks.push(b);
      c.buffered += b.length;
    }
  }

  private skip(c: Cursor, n: number): void {
    c.pos += n;
    c.buffered -= n;
    while (n > 0) {
      const chunk = c.chunks[0]!;
      if (chunk.length <= n) {
        c.chunks.shift();
        n -= chunk.length;
      } else {
        c.chunks[0] = chunk.subarray(n);
        n = 0;
      }
    }
  }

  private async drop(c: Cursor): Promise<void> {
    const i = this.cursors.indexOf(c);
    if (i >= 0) this.cursors.splice(i, 1);
    const rest = c.rest;
    c.rest = null;
    c.chunks = [];
    c.buffered = 0;
    await rest?.return?.().catch(() => {});
  }
}

function toBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}
