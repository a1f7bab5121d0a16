import type { BaseEvent, RejectReason } from '../core/audit-event.js';
import type { ObjectRef, Source } from './source.js';

/**
 * Where a decoder puts what it reads. Every line ends up in exactly one place: an
 * event, a reject (bad input), or a skip (a record that is not a statement, such as
 * a connection message), so the summary can account for every line.
 */
export interface DecodeSink {
  event(event: BaseEvent): void;
  reject(line: number, reason: RejectReason, message: string, raw: string | null): void;
  skip(reason: string): void;
}

/** The per-object state of a decoder: fed line by line, synchronously, for speed. */
export interface LineParser {
  line(text: string, lineNo: number): void;
  /** The object ended: flush whatever is still waiting for a companion record. */
  end(): void;
}

/** Settings some formats need, from the CLI. */
export interface DecoderOptions {
  /** PostgreSQL `log_line_prefix` of stderr logs, e.g. `%m|%u|%d|%c|`. */
  pgPrefix?: string;
  /** Column mapping of tabular formats: event field → column name (`id=query_id,...`). */
  columns?: Record<string, string>;
  /** What each decoder's `prepare` returned this run, by format. */
  prepared?: ReadonlyMap<string, unknown>;
}

/** A log format. One instance serves every object; `open` makes the per-object parser. */
export interface Decoder {
  /** The `--format` name. */
  readonly format: string;
  readonly description: string;
  /** True when the first non-empty line of an object is in this format. */
  sniff(firstLine: string): boolean;
  open(object: ObjectRef, out: DecodeSink, options: DecoderOptions): LineParser;
  /**
   * Runs once per run, before any object is decoded, with every object of the window: a
   * format whose records need a companion log (Redshift's connectionlog) reads it here.
   * What it returns reaches `open` as `options.prepared.get(format)`.
   */
  prepare?(source: Source, objects: readonly ObjectRef[], options: DecoderOptions, signal?: AbortSignal): Promise<unknown>;
}

/** Random access to an object, for binary formats that read a footer first (Parquet). */
export interface RandomAccessFile {
  readonly size: number;
  read(offset: number, length: number): Promise<Buffer>;
}

/** A binary format read by random access rather than by lines. */
export interface ObjectDecoder {
  readonly format: string;
  readonly description: string;
  /** True when an object's first bytes are in this format (Parquet: `PAR1`). */
  sniffBytes(head: Buffer): boolean;
  /** Decodes the object; yields after each batch (a row group) so the caller can pass its events on. */
  decode(object: ObjectRef, file: RandomAccessFile, out: DecodeSink, options: DecoderOptions): AsyncGenerator<void>;
}
