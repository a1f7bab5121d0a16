import { createRequire } from 'node:module';
import { Writable } from 'node:stream';

/**
 * Okera- and Snowflake-shaped Parquet files made with parquetjs-lite's own writer, for
 * the decoder tests and the corpus script.
 */
const require = createRequire(import.meta.url);
/* eslint-disable @typescript-eslint/no-explicit-any -- parquetjs-lite ships no types */
const parquet = require('parquetjs-lite') as any;
/* eslint-enable @typescript-eslint/no-explicit-any */

export type Row = Record<string, unknown>;

export interface WriteOptions {
  rowGroupSize: number;
  /** DATA_PAGE_V2 (parquetjs-lite's default) or v1 pages. */
  pageV2?: boolean;
  compression?: 'UNCOMPRESSED' | 'SNAPPY' | 'GZIP';
}

/** Writes rows with parquetjs-lite into a Buffer. */
export async function writeParquet(fields: Record<string, Record<string, unknown>>, rows: Row[], options: WriteOptions): Promise<Buffer> {
  const compression = options.compression ?? 'UNCOMPRESSED';
  const schema = new parquet.ParquetSchema(Object.fromEntries(Object.entries(fields).map(([k, f]) => [k, { ...f, compression }])));
  const parts: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      parts.push(Buffer.from(chunk));
      done();
    },
  });
  const writer = await parquet.ParquetWriter.openStream(schema, sink, { rowGroupSize: options.rowGroupSize, useDataPageV2: options.pageV2 ?? true });
  for (const row of rows) await writer.appendRow(row);
  await writer.close();
  return Buffer.concat(parts);
}

/** The columns of an `okera_system.audit_logs` export (a subset, in Okera's names). */
export const OKERA_FIELDS = {
  request_time: { type: 'UTF8', optional: true },
  request_id: { type: 'UTF8', optional: true },
  start_unix_time: { type: 'INT64', optional: true },
  end_unix_time: { type: 'INT64', optional: true },
  auth_failure: { type: 'BOOLEAN', optional: true },
  status: { type: 'UTF8', optional: true },
  user: { type: 'UTF8', optional: true },
  connected_user: { type: 'UTF8', optional: true },
  client_application: { type: 'UTF8', optional: true },
  statement_type: { type: 'UTF8', optional: true },
  default_db: { type: 'UTF8', optional: true },
  session_id: { type: 'UTF8', optional: true },
  ae_table: { type: 'UTF8', optional: true },
  statement: { type: 'UTF8', optional: true },
} as const;

/** One Okera audit row; fields override the defaults (undefined leaves a column null). */
export function okeraRow(start: number, fields: Row = {}): Row {
  return {
    request_time: new Date(start).toISOString().replace('T', ' ').replace('Z', '000000'),
    request_id: `req-${start}`,
    start_unix_time: start,
    end_unix_time: start + 25,
    auth_failure: false,
    status: 'ok',
    user: 'alice',
    connected_user: 'alice',
    client_application: 'okera-execute-ddl',
    statement_type: 'QUERY',
    default_db: 'sales',
    session_id: 'sess-1',
    statement: 'SELECT 1',
    ...fields,
  };
}

/** The columns of a Snowflake ACCOUNT_USAGE.QUERY_HISTORY dump (a subset, in Snowflake's names). */
export const SNOWFLAKE_FIELDS = {
  QUERY_ID: { type: 'UTF8', optional: true },
  QUERY_TEXT: { type: 'UTF8', optional: true },
  DATABASE_NAME: { type: 'UTF8', optional: true },
  SCHEMA_NAME: { type: 'UTF8', optional: true },
  QUERY_TYPE: { type: 'UTF8', optional: true },
  SESSION_ID: { type: 'INT64', optional: true },
  USER_NAME: { type: 'UTF8', optional: true },
  ROLE_NAME: { type: 'UTF8', optional: true },
  WAREHOUSE_NAME: { type: 'UTF8', optional: true },
  EXECUTION_STATUS: { type: 'UTF8', optional: true },
  ERROR_CODE: { type: 'UTF8', optional: true },
  ERROR_MESSAGE: { type: 'UTF8', optional: true },
  START_TIME: { type: 'TIMESTAMP_MICROS', optional: true },
  END_TIME: { type: 'TIMESTAMP_MICROS', optional: true },
  TOTAL_ELAPSED_TIME: { type: 'INT64', optional: true },
  ROWS_PRODUCED: { type: 'INT64', optional: true },
} as const;

/** One QUERY_HISTORY row starting at `start` (epoch ms); fields override the defaults. */
export function snowflakeRow(start: number, fields: Row = {}): Row {
  return {
    QUERY_ID: `01b8e0c2-0000-${start}`,
    QUERY_TEXT: 'SELECT 1',
    DATABASE_NAME: 'ANALYTICS',
    SCHEMA_NAME: 'PUBLIC',
    QUERY_TYPE: 'SELECT',
    SESSION_ID: 4_611_686_018_427_387,
    USER_NAME: 'ETL_USER',
    ROLE_NAME: 'SYSADMIN',
    WAREHOUSE_NAME: 'WH_XS',
    EXECUTION_STATUS: 'SUCCESS',
    START_TIME: BigInt(start) * 1000n + 250n,
    END_TIME: BigInt(start + 1500) * 1000n,
    TOTAL_ELAPSED_TIME: 1500,
    ROWS_PRODUCED: 1,
    ...fields,
  };
}
