import { writeFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { decimalBytes, int96, writeRawParquet } from './raw-parquet.js';
import { OKERA_FIELDS, okeraRow, writeParquet } from './tables.js';

/**
 * Makes the Parquet files of the conformance corpus (run `npx tsx
 * test/formats/parquet/make-corpus.ts` to rewrite them; parquet-corpus.test.ts checks
 * the committed files are what this makes). Each `<name>.parquet` has its expected
 * events, rejects and `--columns` mapping in `<name>.expected.json`, checked by hand
 * against the rows below, in the schema of test/formats/corpus.test.ts.
 */
const T0 = Date.UTC(2026, 10, 20, 10, 0, 0);

export async function corpusFiles(): Promise<Record<string, Buffer>> {
  return {
    // parquetjs-lite's writer: v2 data pages, Snappy, three row groups of three rows.
    'okera-audit.parquet': await writeParquet(
      OKERA_FIELDS,
      [
        okeraRow(T0, { request_id: 'ok:1', statement: 'CREATE TABLE sales.orders (id BIGINT, total DECIMAL(10,2))', statement_type: 'DDL' }),
        okeraRow(T0 + 1000, { request_id: 'ok:2', statement: 'GRANT SELECT ON TABLE sales.orders TO ROLE analyst', ae_table: 'sales.orders' }),
        okeraRow(T0 + 2000, { request_id: 'ok:3', statement: 'SELECT * FROM sales.nope', status: 'AnalysisException: Could not resolve table reference: sales.nope' }),
        okeraRow(T0 + 3000, { request_id: undefined, statement: 'SELECT 1' }),
        // request_time empty: start_unix_time stands in.
        okeraRow(T0 + 4000, { request_id: 'ok:5', request_time: '', statement: 'USE sales' }),
        okeraRow(T0 + 5000, { request_id: 'ok:6', request_time: 'not a time', start_unix_time: undefined, statement: 'SELECT 6' }),
        // Written at its start: no end time, no status yet.
        okeraRow(T0 + 6000, { request_id: 'ok:7', end_unix_time: undefined, status: undefined, statement: 'SELECT count(*) FROM sales.orders' }),
        okeraRow(T0 + 7000, { request_id: 'ok:8', statement: undefined }),
        // request_time keeps the sub-ms digits where it agrees with start_unix_time; where it disagrees, start_unix_time wins.
        okeraRow(T0 + 8000, { request_id: 'ok:9', request_time: '2026-11-20 10:00:08.000456789', statement: 'REVOKE SELECT ON TABLE sales.orders FROM ROLE analyst' }),
        okeraRow(T0 + 9000, { request_id: 'ok:10', request_time: '2026-11-20 10:00:09.500000000', statement: 'SHOW TABLES' }),
      ],
      { rowGroupSize: 3, compression: 'SNAPPY' },
    ),
    // As pyarrow writes a QUERY_HISTORY unload: dictionary pages with RLE_DICTIONARY indices,
    // TIMESTAMP(MICROS) logical type, NUMBER(38,0) as DECIMAL in 16 bytes, footer version 2, GZIP.
    'snowflake-query-history.parquet': writeRawParquet(
      [
        { name: 'QUERY_ID', type: 'BYTE_ARRAY', logical: { STRING: true }, optional: true, values: ['01b8e0c2-0001', '01b8e0c2-0002', '01b8e0c2-0003', '01b8e0c2-0004', null] },
        {
          name: 'QUERY_TEXT',
          type: 'BYTE_ARRAY',
          logical: { STRING: true },
          optional: true,
          dictionary: true,
          values: ['create or replace table t as select 1 as a', 'select a from t where a = 1', 'select a from t where a = 1', null, 'select 5'],
        },
        { name: 'DATABASE_NAME', type: 'BYTE_ARRAY', logical: { STRING: true }, optional: true, dictionary: true, values: ['ANALYTICS', 'ANALYTICS', 'ANALYTICS', 'ANALYTICS', 'ANALYTICS'] },
        { name: 'SCHEMA_NAME', type: 'BYTE_ARRAY', logical: { STRING: true }, optional: true, dictionary: true, values: ['PUBLIC', 'PUBLIC', null, 'PUBLIC', 'PUBLIC'] },
        { name: 'QUERY_TYPE', type: 'BYTE_ARRAY', logical: { STRING: true }, optional: true, dictionary: true, values: ['CREATE_TABLE_AS_SELECT', 'SELECT', 'SELECT', 'SELECT', 'SELECT'] },
        {
          name: 'SESSION_ID',
          type: 'FIXED_LEN_BYTE_ARRAY',
          typeLength: 16,
          logical: { DECIMAL: [0, 38] },
          optional: true,
          values: [19_554_461_695_121_410n, 19_554_461_695_121_410n, 19_554_461_695_121_411n, 19_554_461_695_121_411n, 19_554_461_695_121_411n].map((v) => decimalBytes(v, 16)),
        },
        { name: 'USER_NAME', type: 'BYTE_ARRAY', logical: { STRING: true }, optional: true, dictionary: true, values: ['ETL', 'ETL', 'ANALYST', 'ANALYST', 'ANALYST'] },
        { name: 'EXECUTION_STATUS', type: 'BYTE_ARRAY', logical: { STRING: true }, optional: true, dictionary: true, values: ['SUCCESS', 'SUCCESS', 'FAIL', 'INCIDENT', 'SUCCESS'] },
        { name: 'ERROR_MESSAGE', type: 'BYTE_ARRAY', logical: { STRING: true }, optional: true, values: [null, null, "SQL compilation error: Object 'T' does not exist or not authorized.", null, null] },
        {
          name: 'START_TIME',
          type: 'INT64',
          logical: { TIMESTAMP: 'us' },
          optional: true,
          values: [0, 1, 2, 3, 4].map((i) => BigInt(T0 + i * 60_000) * 1000n + 123n),
        },
        { name: 'END_TIME', type: 'INT64', logical: { TIMESTAMP: 'us' }, optional: true, values: [0, 1, 2, 3, 4].map((i) => BigInt(T0 + i * 60_000 + 2500) * 1000n) },
        {
          name: 'TOTAL_ELAPSED_TIME',
          type: 'FIXED_LEN_BYTE_ARRAY',
          typeLength: 16,
          logical: { DECIMAL: [0, 38] },
          optional: true,
          values: [2500n, 2500n, 2500n, 2500n, 2500n].map((v) => decimalBytes(v, 16)),
        },
      ],
      { rowGroupSize: 3, codec: 'GZIP', pageVersion: 2 },
    ),
    // A Spark/Hive table with INT96 times and PLAIN_DICTIONARY v1 pages, mapped by --columns.
    'spark-int96.parquet': writeRawParquet(
      [
        { name: 'query_id', type: 'INT64', values: [9_007_199_254_740_993n, 9_007_199_254_740_994n, 9_007_199_254_740_995n] },
        { name: 'sql', type: 'BYTE_ARRAY', convertedType: 0, dictionary: true, values: ['INSERT INTO logs VALUES (1)', 'DELETE FROM logs WHERE id = 1', 'TRUNCATE TABLE logs'] },
        { name: 'started', type: 'INT96', optional: true, values: [int96(T0 + 500), null, int96(T0 + 2500)] },
        { name: 'ok', type: 'BOOLEAN', values: [true, true, false] },
        { name: 'db', type: 'BYTE_ARRAY', convertedType: 0, dictionary: true, values: ['default', 'default', 'default'] },
      ],
      { rowGroupSize: 2, codec: 'SNAPPY', pageVersion: 1, dictionaryEncoding: 'PLAIN_DICTIONARY', version: 1 },
    ),
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dir = fileURLToPath(new URL('.', import.meta.url));
  for (const [name, bytes] of Object.entries(await corpusFiles())) {
    await writeFile(`${dir}${name}`, bytes);
    process.stdout.write(`${name}: ${bytes.length} bytes\n`);
  }
}
