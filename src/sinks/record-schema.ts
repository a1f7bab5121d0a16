/**
 * The columns of each public record, for the typed outputs (Parquet, Arrow, a PostgreSQL
 * table) and for reading any output back into records equal to those written.
 *
 * In memory a value of a column type is: `string` a string; `int64` a number, or a
 * bigint beyond ±2^53; `double` a number; `timestamp` epoch milliseconds as a number,
 * fractional to the microsecond (stored as microseconds); `boolean` a boolean; `json` any
 * JSON value (stored as UTF-8 JSON text). Any column may be null when `nullable`; an
 * `optional` column that is null is left out of the record read back (as `extra` is
 * absent from an AuditEvent that has none).
 */
export type ColumnType = 'string' | 'int64' | 'double' | 'timestamp' | 'boolean' | 'json';

export interface Column {
  name: string;
  type: ColumnType;
  nullable: boolean;
  /** Absent from the record (not null) when there is no value. */
  optional?: boolean;
}

export interface RecordSchema {
  /** e.g. `audit-event`: names the record in table comments and file metadata. */
  name: string;
  columns: readonly Column[];
}

const col = (name: string, type: ColumnType, nullable = false, optional = false): Column => ({ name, type, nullable: nullable || optional, ...(optional ? { optional } : {}) });

export const AUDIT_EVENT_SCHEMA: RecordSchema = {
  name: 'audit-event',
  columns: [
    col('id', 'string'),
    col('ts', 'timestamp'),
    col('end', 'timestamp', true),
    col('durationMs', 'double', true),
    col('user', 'string', true),
    col('database', 'string', true),
    col('session', 'string', true),
    col('client', 'string', true),
    col('statement', 'string'),
    col('ok', 'boolean', true),
    col('error', 'string', true),
    col('kind', 'string'),
    col('command', 'string'),
    col('fingerprint', 'string'),
    col('fingerprintId', 'string'),
    col('source', 'json'),
    col('extra', 'json', true, true),
  ],
};

export const REPLAY_RESULT_SCHEMA: RecordSchema = {
  name: 'replay-result',
  columns: [
    col('runId', 'string'),
    col('originalId', 'string'),
    col('fingerprintId', 'string'),
    col('kind', 'string'),
    col('target', 'string'),
    col('scheduledAt', 'timestamp'),
    col('startedAt', 'timestamp'),
    col('durationMs', 'double'),
    col('rows', 'int64', true),
    col('checksum', 'string', true),
    col('ok', 'boolean'),
    col('sqlState', 'string', true),
    col('error', 'string', true),
    col('originalDurationMs', 'double', true),
    col('attempt', 'int64'),
  ],
};

export const REJECT_SCHEMA: RecordSchema = {
  name: 'reject',
  columns: [
    col('reason', 'string'),
    col('message', 'string'),
    col('object', 'string'),
    col('line', 'int64'),
    col('format', 'string', true),
    col('raw', 'string', true),
    col('rawEncoding', 'string', true, true),
  ],
};

/** A record as the typed formats hold it: one value per column. */
export type Row = Record<string, unknown>;

/** The record's value of a column as stored: null for undefined. */
export function valueOf(record: Row, column: Column): unknown {
  const v = record[column.name];
  return v === undefined ? null : v;
}

/** A record read back: optional columns without a value left out. */
export function rowToRecord(values: Row, schema: RecordSchema): Row {
  const out: Row = {};
  for (const c of schema.columns) {
    const v = values[c.name] ?? null;
    if (v === null && c.optional) continue;
    out[c.name] = v;
  }
  return out;
}

/** An int64 read back: a number when it is safe, else a bigint. */
export function int64Value(v: bigint | number | string): number | bigint {
  const b = typeof v === 'bigint' ? v : BigInt(v);
  return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
}
