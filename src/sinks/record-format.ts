import type { Readable, Writable } from 'node:stream';
import type { RecordSchema, Row } from './record-schema.js';

export interface EncoderOptions {
  schema: RecordSchema;
  /** The output's name or URL (JSON lines are gzipped when it ends in `.gz`). */
  name?: string;
  /** Rows per Parquet row group and per Arrow record batch (default 100,000; `--row-group`). */
  rowGroupSize?: number;
  /** A faster text form of a record for JSONL; JSON.stringify (bigint-safe) when absent. */
  toJson?: (record: Row) => string;
}

/** Turns batches of records into a file's bytes, written to `out` with backpressure. */
export interface RecordEncoder {
  write(batch: readonly Row[]): Promise<void>;
  /** Writes what is buffered and the format's footer, then ends `out`. */
  end(): Promise<void>;
}

/**
 * A file format for records: JSON lines, Parquet, Arrow IPC. Chosen by the output's
 * extension; the same format reads back what it wrote.
 */
export interface RecordFormat {
  readonly name: string;
  /** True for a file name of this format, e.g. `x.parquet`. */
  accepts(name: string): boolean;
  encoder(out: Writable, options: EncoderOptions): RecordEncoder;
  /** The records of a file, in batches, in the order written; `schema` types the values. */
  decode(input: Readable, schema: RecordSchema): AsyncIterable<Row[]>;
}
