import type { RecordSchema } from './record-schema.js';
import type { StorageOptions } from './storage.js';

/**
 * Where records go. A sink's output appears complete or not at all: nothing is visible
 * under the final name until `commit`, and `abort` removes what was written.
 */
export interface Sink<T> {
  /** Safe-to-print description of the destination. */
  readonly url: string;
  /** Writes a batch; resolves when the sink can take more (backpressure). */
  write(batch: readonly T[]): Promise<void>;
  /** Makes the output visible under its final name. */
  commit(): Promise<void>;
  /** Discards the output; safe to call after a failure, and after commit (then it does nothing). */
  abort(): Promise<void>;
}

export interface SinkOptions<T> {
  /** The records' columns: typed formats (Parquet, Arrow, a table) need them. */
  schema?: RecordSchema;
  /** The run the records belong to: a PostgreSQL table keeps it in its `run_id` column. */
  runId?: string;
  /** Rows per Parquet row group and Arrow record batch (default 100,000). */
  rowGroupSize?: number;
  /** Endpoints of the object stores. */
  storage?: StorageOptions;
  /** A faster text form for JSON lines; a bigint-safe JSON.stringify when absent. */
  toJson?: (record: T) => string;
}
