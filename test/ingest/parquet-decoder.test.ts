import fc from 'fast-check';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { DECODERS, OBJECT_DECODERS, decoderForFormat, objectDecoderOf, sniffObjectDecoder } from '../../src/ingest/decoder-registry.js';
import { decoder as parquet } from '../../src/ingest/decoders/parquet/index.js';
import { parseTimeText } from '../../src/ingest/decoders/parquet/parquet-values.js';
import { decodeFile, MemoryFile } from '../formats/parquet/harness.js';
import { decimalBytes, int96, writeRawParquet, zstdCompressSync, type RawColumn } from '../formats/parquet/raw-parquet.js';
import { OKERA_FIELDS, okeraRow, SNOWFLAKE_FIELDS, snowflakeRow, writeParquet } from '../formats/parquet/tables.js';
import { okeraLine, pgJsonLine } from '../helpers/temp-tree.js';
import { decodeLines } from './decoder-contract.js';
import { decoder as okeraJson } from '../../src/ingest/decoders/okera/index.js';

const T0 = Date.UTC(2026, 10, 20, 10, 0, 0);

/** Okera rows over three row groups, with one row lacking a statement and one with an unreadable time. */
function okeraRows() {
  return Array.from({ length: 10 }, (_, i) =>
    i === 4
      ? okeraRow(T0 + i * 1000, { statement: undefined })
      : i === 7
        ? okeraRow(T0 + i * 1000, { request_time: 'yesterday', start_unix_time: undefined })
        : okeraRow(T0 + i * 1000, { request_id: `ok-${i}`, statement: `SELECT ${i} FROM sales.orders`, ...(i === 2 ? { status: 'AnalysisException: no table', ae_table: 'sales.nope' } : {}) }),
  );
}

describe('Parquet ObjectDecoder contract', () => {
  let okera: Buffer;
  beforeAll(async () => {
    okera = await writeParquet(OKERA_FIELDS, okeraRows(), { rowGroupSize: 4, compression: 'SNAPPY' });
  });

  it('sniffs the PAR1 magic and nothing else', () => {
    expect(parquet.sniffBytes(okera.subarray(0, 4))).toBe(true);
    expect(parquet.sniffBytes(okera)).toBe(true);
    for (const head of [okeraLine({}), pgJsonLine({}), 'PAR', '', 'par1 lower case'].map((s) => Buffer.from(s))) expect(parquet.sniffBytes(head)).toBe(false);
    expect(parquet.sniffBytes(gzipSync(okera))).toBe(false);
    expect(sniffObjectDecoder(okera)).toBe(parquet);
    expect(sniffObjectDecoder(Buffer.from(okeraLine({})))).toBeNull();
  });

  it('is claimed by no line decoder, so auto-sniffing cannot mistake it', () => {
    const firstLine = okera.toString('utf8').split('\n')[0]!;
    for (const d of DECODERS) expect(d.sniff(firstLine)).toBe(false);
  });

  it('is registered as a binary format that --format names', () => {
    expect(OBJECT_DECODERS).toContain(parquet);
    const standIn = decoderForFormat('parquet');
    expect(standIn?.format).toBe('parquet');
    expect(objectDecoderOf(standIn)).toBe(parquet);
    expect(objectDecoderOf(decoderForFormat('okera'))).toBeNull();
    expect(() => decoderForFormat('orc')).toThrow(/known: auto, .*parquet/);
  });

  it('decodes every good row into an event with provenance and rejects the bad ones with their row numbers', async () => {
    const d = await decodeFile(parquet, new MemoryFile(okera));
    expect(d.events.map((e) => e.id)).toEqual(['ok-0', 'ok-1', 'ok-2', 'ok-3', 'ok-5', 'ok-6', 'ok-8', 'ok-9']);
    expect(d.rejects).toEqual([
      expect.objectContaining({ line: 5, reason: 'malformed-line', message: 'row has no statement (statement is empty)' }),
      expect.objectContaining({ line: 8, reason: 'bad-timestamp', message: 'row has no readable start time in start_unix_time or request_time' }),
    ]);
    expect(JSON.parse(d.rejects[1]!.raw!)).toMatchObject({ request_id: `req-${T0 + 7000}`, request_time: 'yesterday', start_unix_time: null });
    for (const e of d.events) {
      expect(e.source).toEqual({ format: 'parquet', object: 'mem://ymd=2026-11-20/audit.parquet', line: Number(e.id.slice(3)) + 1 });
      expect(Number.isFinite(e.ts)).toBe(true);
    }
    expect(d.events[2]).toEqual({
      id: 'ok-2',
      ts: T0 + 2000,
      end: T0 + 2025,
      durationMs: 25,
      user: 'alice',
      database: 'sales',
      session: 'sess-1',
      client: 'okera-execute-ddl',
      statement: 'SELECT 2 FROM sales.orders',
      ok: false,
      error: 'AnalysisException: no table',
      source: { format: 'parquet', object: 'mem://ymd=2026-11-20/audit.parquet', line: 3 },
      extra: { connected_user: 'alice', statement_type: 'QUERY', ae_table: 'sales.nope' },
    });
    expect(d.events[0]).toMatchObject({ ok: true, error: null });
  });

  it('gives the same ids on every run, and no two rows the same id', async () => {
    const a = (await decodeFile(parquet, new MemoryFile(okera))).events.map((e) => e.id);
    const b = (await decodeFile(parquet, new MemoryFile(okera))).events.map((e) => e.id);
    expect(a).toEqual(b);
    expect(new Set(a).size).toBe(a.length);
  });

  it('never throws on garbage bytes, makes no event of them and rejects the object from its first row', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 400 }), fc.boolean(), fc.nat(), async (body, withTail, footerLength) => {
        const tail = Buffer.alloc(8);
        tail.writeUInt32LE(footerLength % (body.length + 16));
        tail.write('PAR1', 4);
        const bytes = Buffer.concat([Buffer.from('PAR1'), Buffer.from(body), ...(withTail ? [tail] : [])]);
        const d = await decodeFile(parquet, new MemoryFile(bytes));
        expect(d.events).toEqual([]);
        expect(d.rejects.length).toBeGreaterThanOrEqual(1);
        expect(d.rejects[0]!.line).toBe(1);
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on a real file cut short or with bytes overwritten', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: okera.length - 1 }), fc.uint8Array({ minLength: 1, maxLength: 16 }), fc.boolean(), async (at, junk, cut) => {
        const bytes = cut ? okera.subarray(0, at) : Buffer.from(okera);
        if (!cut) Buffer.from(junk).copy(bytes, at);
        const d = await decodeFile(parquet, new MemoryFile(bytes));
        // Whatever survives is an event of a good row or a reject; never more rows than the file holds.
        expect(d.events.length + d.rejects.length).toBeLessThanOrEqual(10 + 3);
        for (const e of d.events) expect(e.source.line).toBeGreaterThanOrEqual(1);
      }),
      { numRuns: 300 },
    );
  });
});

describe('Parquet decoder reading', () => {
  it('reads one row group at a time, only the mapped columns, and never the whole file at once', async () => {
    const rows = Array.from({ length: 600 }, (_, i) => ({ ...okeraRow(T0 + i * 10, { request_id: `r${i}` }), padding: 'p'.repeat(1000) }));
    const bytes = await writeParquet({ ...OKERA_FIELDS, padding: { type: 'UTF8' } }, rows, { rowGroupSize: 100 });
    const file = new MemoryFile(bytes);
    const d = await decodeFile(parquet, file);
    expect(d.events).toHaveLength(600);
    // The footer first, then each row group read and handed on before the next one is read.
    const groups = d.readsPerBatch.filter((n) => n > 0);
    expect(groups).toHaveLength(6);
    expect(d.batches.filter((n) => n > 0)).toEqual([100, 100, 100, 100, 100, 100]);
    const largest = Math.max(...file.reads.map((r) => r.length));
    expect(largest).toBeLessThan(bytes.length / 6);
    const total = file.reads.reduce((n, r) => n + r.length, 0);
    expect(total).toBeLessThan(bytes.length * 0.75); // the padding column is never read
  });

  it('hands on events within a big row group rather than in one batch', async () => {
    const rows = Array.from({ length: 9000 }, (_, i) => okeraRow(T0 + i, { request_id: `r${i}` }));
    const bytes = await writeParquet(OKERA_FIELDS, rows, { rowGroupSize: 9000 });
    const d = await decodeFile(parquet, new MemoryFile(bytes));
    expect(d.events).toHaveLength(9000);
    expect(d.batches).toEqual([8192, 808]);
    expect(Math.max(...d.batches)).toBeLessThanOrEqual(8192);
  });

  it('reads a Snowflake QUERY_HISTORY dump with its own column names, v1 pages and GZIP', async () => {
    const rows = [
      snowflakeRow(T0),
      snowflakeRow(T0 + 1000, { QUERY_TEXT: 'DROP TABLE x', EXECUTION_STATUS: 'FAIL', ERROR_CODE: '002003', ERROR_MESSAGE: "Table 'X' does not exist" }),
      snowflakeRow(T0 + 2000, { EXECUTION_STATUS: 'INCIDENT' }),
      snowflakeRow(T0 + 3000, { EXECUTION_STATUS: 'RUNNING', END_TIME: undefined, TOTAL_ELAPSED_TIME: undefined }),
      snowflakeRow(T0 + 4000, { QUERY_ID: undefined }),
    ];
    const bytes = await writeParquet(SNOWFLAKE_FIELDS, rows, { rowGroupSize: 2, pageV2: false, compression: 'GZIP' });
    const d = await decodeFile(parquet, new MemoryFile(bytes));
    expect(d.rejects).toEqual([expect.objectContaining({ line: 5, reason: 'malformed-line', message: 'row has no id (QUERY_ID is empty)' })]);
    expect(d.events[0]).toEqual({
      id: `01b8e0c2-0000-${T0}`,
      ts: T0 + 0.25,
      end: T0 + 1500,
      durationMs: 1500,
      user: 'ETL_USER',
      database: 'ANALYTICS',
      session: '4611686018427387',
      client: null,
      statement: 'SELECT 1',
      ok: true,
      error: null,
      source: { format: 'parquet', object: 'mem://ymd=2026-11-20/audit.parquet', line: 1 },
      extra: { schema_name: 'PUBLIC', query_type: 'SELECT', role_name: 'SYSADMIN', warehouse_name: 'WH_XS', rows_produced: 1 },
    });
    expect(d.events.slice(1).map((e) => [e.ok, e.error, e.end, e.durationMs])).toEqual([
      [false, "Table 'X' does not exist", T0 + 2500, 1500],
      [false, 'INCIDENT', T0 + 3500, 1500],
      [null, null, null, null],
    ]);
  });

  it('decodes dictionary pages with RLE_DICTIONARY indices wider than 8 bits in repeated runs (where parquetjs-lite errs)', async () => {
    // 300 distinct statements, then a run of 20 rows of entry 299: a repeated run whose value needs two bytes.
    const statements = [...Array.from({ length: 300 }, (_, i) => `SELECT ${i}`), ...Array.from({ length: 20 }, () => 'SELECT 299')];
    const n = statements.length;
    const columns: RawColumn[] = [
      { name: 'request_id', type: 'BYTE_ARRAY', convertedType: 0, values: statements.map((_, i) => `d${i}`) },
      { name: 'statement', type: 'BYTE_ARRAY', convertedType: 0, dictionary: true, values: statements },
      { name: 'start_unix_time', type: 'INT64', dictionary: true, values: statements.map((_, i) => BigInt(T0 + (i % 7) * 1000)) },
      { name: 'user', type: 'BYTE_ARRAY', logical: { STRING: true }, optional: true, dictionary: true, values: statements.map((_, i) => (i % 3 === 0 ? null : `u${i % 5}`)) },
    ];
    for (const [pageVersion, dictionaryEncoding] of [
      [1, 'PLAIN_DICTIONARY'],
      [2, 'RLE_DICTIONARY'],
    ] as const) {
      const d = await decodeFile(parquet, new MemoryFile(writeRawParquet(columns, { rowGroupSize: 160, pageVersion, dictionaryEncoding, codec: 'SNAPPY' })));
      expect(d.rejects).toEqual([]);
      expect(d.events.map((e) => e.statement)).toEqual(statements);
      expect(d.events.map((e) => e.ts)).toEqual(statements.map((_, i) => T0 + (i % 7) * 1000));
      expect(d.events.map((e) => e.user)).toEqual(statements.map((_, i) => (i % 3 === 0 ? null : `u${i % 5}`)));
      expect(d.events).toHaveLength(n);
    }
  });

  it('keeps INT64 ids and DECIMAL session ids beyond 2^53 exact', async () => {
    const big = 9_007_199_254_740_993n; // 2^53 + 1: a double would round it to ...992
    const session = 123_456_789_012_345_678_901_234_567n;
    const columns: RawColumn[] = [
      { name: 'QUERY_ID', type: 'INT64', values: [big, -big] },
      { name: 'QUERY_TEXT', type: 'BYTE_ARRAY', convertedType: 0, values: ['SELECT 1', 'SELECT 2'] },
      { name: 'START_TIME', type: 'INT64', logical: { TIMESTAMP: 'us' }, values: [BigInt(T0) * 1000n, BigInt(T0) * 1000n] },
      { name: 'SESSION_ID', type: 'FIXED_LEN_BYTE_ARRAY', typeLength: 16, logical: { DECIMAL: [0, 38] }, values: [decimalBytes(session, 16), decimalBytes(-5n, 16)] },
      { name: 'TOTAL_ELAPSED_TIME', type: 'FIXED_LEN_BYTE_ARRAY', typeLength: 16, convertedType: 5, scale: 3, precision: 38, values: [decimalBytes(1500250n, 16), decimalBytes(0n, 16)] },
    ];
    const d = await decodeFile(parquet, new MemoryFile(writeRawParquet(columns, { rowGroupSize: 10 })));
    expect(d.rejects).toEqual([]);
    expect(d.events.map((e) => [e.id, e.session, e.durationMs])).toEqual([
      ['9007199254740993', '123456789012345678901234567', 1500.25],
      ['-9007199254740993', '-5', 0],
    ]);
  });

  it('reads INT96, TIMESTAMP millis/micros/nanos, epoch integers and timestamp text', async () => {
    const ns = BigInt(T0) * 1_000_000n + 123_456_789n;
    const columns = (ts: RawColumn): RawColumn[] => [
      { name: 'id', type: 'BYTE_ARRAY', convertedType: 0, values: ['a', 'b'] },
      { name: 'sql', type: 'BYTE_ARRAY', convertedType: 0, values: ['SELECT 1', 'SELECT 2'] },
      { ...ts, name: 'started' },
    ];
    const cases: [RawColumn, number[]][] = [
      [{ name: '', type: 'INT96', values: [int96(T0), int96(T0 - 86_400_000 + 1)] }, [T0, T0 - 86_400_000 + 1]],
      [{ name: '', type: 'INT64', logical: { TIMESTAMP: 'ns' }, dictionary: true, values: [ns, ns] }, [T0 + 123.456, T0 + 123.456]],
      [{ name: '', type: 'INT64', logical: { TIMESTAMP: 'ms' }, values: [BigInt(T0), BigInt(T0 + 1)] }, [T0, T0 + 1]],
      [{ name: '', type: 'INT64', convertedType: 10, values: [BigInt(T0) * 1000n + 5n, 0n] }, [T0 + 0.005, 0]],
      [{ name: '', type: 'INT64', values: [BigInt(T0 / 1000), BigInt(T0)] }, [T0, T0]],
      [{ name: '', type: 'DOUBLE', values: [T0 / 1000 + 0.5, T0 * 1000] }, [T0 + 500, T0]],
      [{ name: '', type: 'BYTE_ARRAY', convertedType: 0, values: ['2026-11-20T10:00:00.123456Z', '2026-11-20 02:00:00.5 -0800'] }, [T0 + 123.456, T0 + 500]],
    ];
    for (const [column, expected] of cases) {
      const d = await decodeFile(parquet, new MemoryFile(writeRawParquet(columns(column), { rowGroupSize: 10 })), { columns: { id: 'id', statement: 'sql', ts: 'started' } });
      expect(d.rejects, column.type).toEqual([]);
      d.events.forEach((e, i) => expect(e.ts).toBeCloseTo(expected[i]!, 3));
    }
  });

  it('reads timestamp text in the forms exports write, UTC when no zone is named', () => {
    expect(parseTimeText('2026-11-20 10:00:00.628368000')).toBeCloseTo(T0 + 628.368, 6);
    expect(parseTimeText('2026-11-20T10:00:00Z')).toBe(T0);
    expect(parseTimeText('2026-11-20T12:00:00+02:00')).toBe(T0);
    expect(parseTimeText('2026-11-20 05:00:00 -05')).toBe(T0);
    expect(parseTimeText('2026-11-20 10:00:00 UTC')).toBe(T0);
    expect(parseTimeText('2026-11-20')).toBe(Date.UTC(2026, 10, 20));
    expect(parseTimeText(String(T0))).toBe(T0);
    expect(parseTimeText(String(T0 / 1000))).toBe(T0);
    for (const bad of ['yesterday', '', '2026-13-01 00:00:00', '20/11/2026', '2026-11-20 25:00:00']) expect(parseTimeText(bad)).toBeNull();
  });
});

describe('Parquet column mapping', () => {
  const generic: RawColumn[] = [
    { name: 'sql_text', type: 'BYTE_ARRAY', convertedType: 0, values: ['CREATE TABLE t (a int)', 'SELECT 1', 'SELECT 2'] },
    { name: 'began', type: 'INT64', convertedType: 9, values: [BigInt(T0), BigInt(T0 + 1), BigInt(T0 + 2)] },
    { name: 'who', type: 'BYTE_ARRAY', convertedType: 0, values: ['ann', 'bob', 'cy'] },
    { name: 'succeeded', type: 'BOOLEAN', optional: true, values: [true, false, null] },
  ];
  const file = () => new MemoryFile(writeRawParquet(generic, { rowGroupSize: 2 }));

  it('maps any flat table with --columns, making stable ids from object and row where it has none', async () => {
    const d = await decodeFile(parquet, file(), { columns: { statement: 'sql_text', TS: 'began', user: 'WHO', status: 'succeeded' } });
    expect(d.rejects).toEqual([]);
    expect(d.events.map((e) => [e.id, e.user, e.ok])).toEqual([
      ['ymd=2026-11-20/audit.parquet:1', 'ann', true],
      ['ymd=2026-11-20/audit.parquet:2', 'bob', false],
      ['ymd=2026-11-20/audit.parquet:3', 'cy', null],
    ]);
  });

  it('lets --columns override one field of a recognised table', async () => {
    const rows = [okeraRow(T0, { request_id: 'a', request_time: '2026-11-20 09:00:00' })];
    const bytes = await writeParquet(OKERA_FIELDS, rows, { rowGroupSize: 10 });
    // As the okera decoder does, start_unix_time wins where request_time disagrees with it.
    expect((await decodeFile(parquet, new MemoryFile(bytes))).events[0]!.ts).toBe(T0);
    expect((await decodeFile(parquet, new MemoryFile(bytes), { columns: { ts: 'request_time' } })).events[0]).toMatchObject({ ts: T0 - 3_600_000, id: 'a' });
  });

  it('keeps the sub-millisecond digits of Okera request_time, as the okera decoder does for the same record', async () => {
    const rows = [okeraRow(T0, { request_id: 'a', request_time: '2026-11-20 10:00:00.000250000' })];
    const bytes = await writeParquet(OKERA_FIELDS, rows, { rowGroupSize: 10 });
    const [fromParquet] = (await decodeFile(parquet, new MemoryFile(bytes))).events;
    const fromJson = decodeLines(okeraJson, [JSON.stringify({ ...rows[0], auth_failure: false })]).events[0]!;
    const { source: _a, extra: _b, ...parquetFields } = fromParquet!;
    const { source: _c, extra: _d, ...jsonFields } = fromJson;
    expect(parquetFields).toEqual(jsonFields);
    expect(parquetFields).toMatchObject({ ts: T0 + 0.25, durationMs: 25 });
  });

  it('rejects a table no mapping fits, naming its columns', async () => {
    const d = await decodeFile(parquet, file());
    expect(d.events).toEqual([]);
    expect(d.rejects).toEqual([expect.objectContaining({ line: 1, reason: 'unknown-format' })]);
    expect(d.rejects[0]!.message).toMatch(/no column holds the statement and ts: .*--columns .*statement=<column>,ts=<column>; its columns: sql_text, began, who, succeeded/);
  });

  it('rejects a file that lacks a column --columns names', async () => {
    const d = await decodeFile(parquet, file(), { columns: { statement: 'sql_text', ts: 'start_time' } });
    expect(d.rejects).toEqual([expect.objectContaining({ line: 1, reason: 'unknown-format', message: expect.stringMatching(/maps ts to 'start_time', which this file lacks/) })]);
  });

  it('reads around nested and repeated columns, which cannot be mapped', async () => {
    const rows = [0, 1, 2].map((i) => ({ ...okeraRow(T0 + i, { request_id: `n${i}` }), tags: ['a', 'b'].slice(0, i), meta: { origin: `o${i}` } }));
    const bytes = await writeParquet({ ...OKERA_FIELDS, tags: { type: 'UTF8', repeated: true }, meta: { fields: { origin: { type: 'UTF8' } } } }, rows, { rowGroupSize: 2 });
    expect((await decodeFile(parquet, new MemoryFile(bytes))).events.map((e) => e.id)).toEqual(['n0', 'n1', 'n2']);
    const mapped = await decodeFile(parquet, new MemoryFile(bytes), { columns: { client: 'meta.origin' } });
    expect(mapped.rejects).toEqual([expect.objectContaining({ line: 1, reason: 'unknown-format', message: "--columns maps client to 'meta.origin', a column inside a group or list; map a top-level column" })]);
  });

  it('refuses an unknown field in --columns as a usage error', async () => {
    await expect(decodeFile(parquet, file(), { columns: { query: 'sql_text' } })).rejects.toThrow(/--columns: unknown field 'query'; fields: id, statement, ts/);
  });
});

describe('Parquet decoder on damaged and unsupported files', () => {
  const columns: RawColumn[] = [
    { name: 'request_id', type: 'BYTE_ARRAY', convertedType: 0, values: ['a', 'b', 'c', 'd', 'e', 'f'] },
    { name: 'statement', type: 'BYTE_ARRAY', convertedType: 0, values: ['SELECT 1', 'SELECT 2', 'SELECT 3', 'SELECT 4', 'SELECT 5', 'SELECT 6'] },
    { name: 'start_unix_time', type: 'INT64', values: [0, 1, 2, 3, 4, 5].map((i) => BigInt(T0 + i)) },
  ];

  it('rejects a row group whose pages are damaged at its first row and reads the others', async () => {
    const bytes = writeRawParquet(columns, { rowGroupSize: 2 });
    // The length prefix of 'SELECT 3' (second row group) now claims more bytes than its page holds.
    bytes.writeUInt32LE(0x7fffffff, bytes.indexOf('SELECT 3') - 4);
    const d = await decodeFile(parquet, new MemoryFile(bytes));
    expect(d.events.map((e) => e.id)).toEqual(['a', 'b', 'e', 'f']);
    expect(d.rejects).toEqual([
      expect.objectContaining({ line: 3, reason: 'malformed-line', message: 'row group 2 of 3 (rows 3–4) cannot be read: column statement: value 0 overruns its page; its rows are lost' }),
    ]);
  });

  it('rejects a codec it cannot inflate by name, as an unknown variant of the format', async () => {
    const d = await decodeFile(parquet, new MemoryFile(writeRawParquet(columns, { rowGroupSize: 3, codec: 'LZ4' })));
    expect(d.events).toEqual([]);
    expect(d.rejects.map((r) => [r.line, r.reason])).toEqual([
      [1, 'unknown-format'],
      [4, 'unknown-format'],
    ]);
    expect(d.rejects[0]!.message).toMatch(/column request_id is LZ4-compressed, which this reader cannot inflate/);
  });

  it('inflates Brotli pages, and ZSTD pages where Node has zstd (else says it needs Node 22.15)', async () => {
    const brotli = await decodeFile(parquet, new MemoryFile(writeRawParquet(columns, { rowGroupSize: 4, codec: 'BROTLI', pageVersion: 2 })));
    expect(brotli.events.map((e) => e.id)).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    const zstd = await decodeFile(parquet, new MemoryFile(writeRawParquet(columns, { rowGroupSize: 4, codec: 'ZSTD' })));
    if (zstdCompressSync) {
      expect(zstd.events.map((e) => e.id)).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    } else {
      expect(zstd.rejects[0]).toMatchObject({ line: 1, reason: 'unknown-format', message: expect.stringMatching(/ZSTD-compressed, which needs Node.js 22.15 or later/) });
    }
  });

  it('rejects an object whose reads fail as a read error', async () => {
    const bytes = writeRawParquet(columns, { rowGroupSize: 3 });
    const failing = { size: bytes.length, read: async () => Promise.reject(new Error('connection reset')) };
    const d = await decodeFile(parquet, failing);
    expect(d.rejects).toEqual([expect.objectContaining({ line: 1, reason: 'read-error', message: 'not a readable Parquet file: connection reset' })]);
  });

  it('reads a file with no row groups as no events', async () => {
    const d = await decodeFile(parquet, new MemoryFile(writeRawParquet(columns.map((c) => ({ ...c, values: [] })), { rowGroupSize: 3 })));
    expect(d).toMatchObject({ events: [], rejects: [] });
  });
});
