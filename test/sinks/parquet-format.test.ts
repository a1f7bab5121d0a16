import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditReplayError } from '../../src/core/errors.js';
import { parquetFormat } from '../../src/sinks/parquet/index.js';
import { AUDIT_EVENT_SCHEMA, REPLAY_RESULT_SCHEMA, type RecordSchema, type Row } from '../../src/sinks/record-schema.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'auditreplay-parquet-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const BIG = 2n ** 60n + 7n;
const MEGABYTE_STATEMENT = `SELECT '${'é😀x'.repeat(150_000)}'`;

const AUDIT_EVENTS: Row[] = [
  {
    id: 'ev-1',
    ts: 1795168800000.5,
    end: 1795168800025.25,
    durationMs: 24.75,
    user: 'ana',
    database: 'sales',
    session: 's-1',
    client: '10.0.0.7',
    statement: "SELECT 'héllo wörld 😀 你好 🇫🇷' AS greeting",
    ok: true,
    error: null,
    kind: 'query',
    command: 'SELECT',
    fingerprint: 'select ? as greeting',
    fingerprintId: 'f-1',
    source: { object: 's3://logs/a.json', line: 3, offset: BIG },
    extra: { tags: ['a', 'ü'], nested: { n: 1.5 } },
  },
  {
    id: 'ev-2',
    ts: 1794908977705.897,
    end: null,
    durationMs: null,
    user: null,
    database: null,
    session: null,
    client: null,
    statement: MEGABYTE_STATEMENT,
    ok: null,
    error: null,
    kind: 'query',
    command: 'SELECT',
    fingerprint: 'select ?',
    fingerprintId: 'f-2',
    source: null,
  },
  {
    id: 'ev-3',
    ts: 1794908977705.001,
    end: 1794908977706,
    durationMs: 0.999,
    user: '🙂 user',
    database: 'db',
    session: 's-3',
    client: 'psql',
    statement: 'DROP TABLE t',
    ok: false,
    error: 'permission denied for table t — ✋',
    kind: 'ddl',
    command: 'DROP TABLE',
    fingerprint: 'drop table t',
    fingerprintId: 'f-3',
    source: 'line 9',
    extra: [1, 'two', null],
  },
];

const REPLAY_RESULTS: Row[] = [
  {
    runId: 'run-1',
    originalId: 'ev-1',
    fingerprintId: 'f-1',
    kind: 'query',
    target: 'pglite://x',
    scheduledAt: 1795168800000.5,
    startedAt: 1795168800001.125,
    durationMs: 3.5,
    rows: BIG,
    checksum: 'abc',
    ok: true,
    sqlState: null,
    error: null,
    originalDurationMs: 24.75,
    attempt: 1,
  },
  {
    runId: 'run-1',
    originalId: 'ev-2',
    fingerprintId: 'f-2',
    kind: 'query',
    target: 'pglite://x',
    scheduledAt: 1794908977705.897,
    startedAt: 1794908977705.897,
    durationMs: 0,
    rows: null,
    checksum: null,
    ok: false,
    sqlState: '57014',
    error: 'canceling statement due to statement timeout 😴',
    originalDurationMs: null,
    attempt: 2,
  },
  {
    runId: 'run-1',
    originalId: 'ev-3',
    fingerprintId: 'f-3',
    kind: 'ddl',
    target: 'pglite://x',
    scheduledAt: 1,
    startedAt: 2,
    durationMs: 1e-3,
    rows: -(2n ** 63n),
    checksum: '',
    ok: true,
    sqlState: null,
    error: null,
    originalDurationMs: 5,
    attempt: 9007199254740993n,
  },
  { ...replayRow(3), rows: 2n ** 63n - 1n },
];

function replayRow(i: number): Row {
  return {
    runId: 'run-2',
    originalId: `ev-${i}`,
    fingerprintId: `f-${i % 17}`,
    kind: 'query',
    target: 'pglite://y',
    scheduledAt: 1795168800000 + i + 0.5,
    startedAt: 1795168800000 + i + 0.75,
    durationMs: i / 8,
    rows: i % 3 === 0 ? null : i,
    checksum: i % 5 === 0 ? null : `c${i}`,
    ok: i % 7 !== 0,
    sqlState: null,
    error: null,
    originalDurationMs: i % 2 ? i / 4 : null,
    attempt: 1,
  };
}

/** Encodes records to `name` in the temp dir through the format's encoder, `batchSize` at a time. */
async function encodeFile(name: string, schema: RecordSchema, records: readonly Row[], options: { rowGroupSize?: number; batchSize?: number } = {}): Promise<string> {
  const path = join(dir, name);
  const encoder = parquetFormat.encoder(createWriteStream(path), { schema, ...(options.rowGroupSize ? { rowGroupSize: options.rowGroupSize } : {}) });
  const step = options.batchSize ?? 700;
  for (let i = 0; i < records.length; i += step) await encoder.write(records.slice(i, i + step));
  await encoder.end();
  return path;
}

async function decodeBatches(path: string, schema: RecordSchema): Promise<Row[][]> {
  const batches: Row[][] = [];
  for await (const batch of parquetFormat.decode(createReadStream(path), schema)) batches.push(batch);
  return batches;
}

async function decodeFile(path: string, schema: RecordSchema): Promise<Row[]> {
  return (await decodeBatches(path, schema)).flat();
}

/** Rows as hyparquet reads them, timestamps left as microseconds (bigint). */
async function readWithHyparquet(path: string): Promise<Record<string, unknown>[]> {
  const file = await asyncBufferFromFile(path);
  return parquetReadObjects({ file, parsers: { timestampFromMicroseconds: (micros: bigint) => micros } });
}

describe('parquetFormat', () => {
  it('accepts file names ending in .parquet and nothing else', () => {
    expect(parquetFormat.accepts('out/events.parquet')).toBe(true);
    expect(parquetFormat.accepts('EVENTS.PARQUET')).toBe(true);
    expect(parquetFormat.accepts('events.jsonl')).toBe(false);
    expect(parquetFormat.accepts('events.parquet.gz')).toBe(false);
  });

  it('reads back audit events exactly as written, with nulls, fractional timestamps, unicode, JSON and a 1 MB statement', async () => {
    const path = await encodeFile('audit.parquet', AUDIT_EVENT_SCHEMA, AUDIT_EVENTS, { batchSize: 2 });
    const back = await decodeFile(path, AUDIT_EVENT_SCHEMA);
    expect(back).toEqual(AUDIT_EVENTS);
    expect(back[1]).not.toHaveProperty('extra');
    expect(back[2]!.extra).toEqual([1, 'two', null]);
    expect(back[0]!.ts).toBe(1795168800000.5);
    expect(back[1]!.ts).toBe(1794908977705.897);
    expect((back[1]!.statement as string).length).toBe(MEGABYTE_STATEMENT.length);
    expect(Buffer.byteLength(back[1]!.statement as string)).toBeGreaterThan(1024 * 1024);
    expect((back[0]!.source as { offset: unknown }).offset).toBe(BIG);
  });

  it('reads back replay results exactly as written, with int64 values beyond 2^53 as bigints', async () => {
    const path = await encodeFile('replay.parquet', REPLAY_RESULT_SCHEMA, REPLAY_RESULTS);
    const back = await decodeFile(path, REPLAY_RESULT_SCHEMA);
    expect(back).toEqual(REPLAY_RESULTS);
    expect(back[0]!.rows).toBe(BIG);
    expect(back[2]!.rows).toBe(-(2n ** 63n));
    expect(back[2]!.attempt).toBe(9007199254740993n);
    expect(back[3]!.rows).toBe(2n ** 63n - 1n);
    expect(back[1]!.attempt).toBe(2);
    expect(back[1]!.rows).toBeNull();
  });

  it('writes row groups of the requested size and reads them back in order', async () => {
    const records = Array.from({ length: 2500 }, (_, i) => replayRow(i));
    const path = await encodeFile('groups.parquet', REPLAY_RESULT_SCHEMA, records, { rowGroupSize: 1000 });
    const metadata = await parquetMetadataAsync(await asyncBufferFromFile(path));
    expect(metadata.row_groups.map((g) => Number(g.num_rows))).toEqual([1000, 1000, 500]);
    expect(metadata.num_rows).toBe(2500n);
    expect(await decodeFile(path, REPLAY_RESULT_SCHEMA)).toEqual(records);
  });

  it('decodes in batches of at most 10,000 rows across row groups', async () => {
    const records = Array.from({ length: 25_000 }, (_, i) => replayRow(i));
    const path = await encodeFile('batches.parquet', REPLAY_RESULT_SCHEMA, records, { rowGroupSize: 7000, batchSize: 5000 });
    const batches = await decodeBatches(path, REPLAY_RESULT_SCHEMA);
    expect(batches.map((b) => b.length)).toEqual([10_000, 10_000, 5000]);
    expect(batches.flat()).toEqual(records);
  });

  it('writes a valid Parquet file with the schema and no rows when nothing was written', async () => {
    const path = join(dir, 'empty.parquet');
    const encoder = parquetFormat.encoder(createWriteStream(path), { schema: AUDIT_EVENT_SCHEMA });
    await encoder.end();
    expect(await decodeBatches(path, AUDIT_EVENT_SCHEMA)).toEqual([]);
    const file = await asyncBufferFromFile(path);
    const metadata = await parquetMetadataAsync(file);
    expect(metadata.num_rows).toBe(0n);
    expect(metadata.row_groups).toEqual([]);
    expect(metadata.schema.slice(1).map((e) => e.name)).toEqual(AUDIT_EVENT_SCHEMA.columns.map((c) => c.name));
    expect(await parquetReadObjects({ file })).toEqual([]);
  });

  it('waits for the output to drain instead of buffering past its high-water mark', async () => {
    const highWaterMark = 4096;
    let maxPendingAtWrite = 0;
    const chunks: Buffer[] = [];
    const out = new Writable({
      highWaterMark,
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk);
        setTimeout(callback, 1);
      },
    });
    const write = out.write.bind(out);
    out.write = ((chunk: Buffer, ...rest: never[]) => {
      maxPendingAtWrite = Math.max(maxPendingAtWrite, out.writableLength);
      return write(chunk, ...rest);
    }) as typeof out.write;
    const records = Array.from({ length: 3000 }, (_, i) => replayRow(i));
    const encoder = parquetFormat.encoder(out, { schema: REPLAY_RESULT_SCHEMA, rowGroupSize: 500 });
    for (let i = 0; i < records.length; i += 1000) await encoder.write(records.slice(i, i + 1000));
    await encoder.end();
    expect(maxPendingAtWrite).toBeLessThan(highWaterMark);
    expect(out.writableFinished).toBe(true);
    const path = join(dir, 'drained.parquet');
    await writeFile(path, Buffer.concat(chunks));
    expect(await decodeFile(path, REPLAY_RESULT_SCHEMA)).toEqual(records);
  });

  it('reports an output that cannot be written as sink-failed, naming the file', async () => {
    const path = join(dir, 'no-such-dir', 'out.parquet');
    const encoder = parquetFormat.encoder(createWriteStream(path), { schema: REPLAY_RESULT_SCHEMA });
    const failure = await encoder
      .write([replayRow(1)])
      .then(() => encoder.end())
      .then(
        () => null,
        (err: unknown) => err,
      );
    expect(failure).toBeInstanceOf(AuditReplayError);
    expect((failure as AuditReplayError).code).toBe('sink-failed');
    expect((failure as AuditReplayError).message).toContain(path);
  });

  it('refuses a null in a column that may not be null, naming the column', async () => {
    const path = join(dir, 'null-id.parquet');
    const encoder = parquetFormat.encoder(createWriteStream(path), { schema: REPLAY_RESULT_SCHEMA });
    const err = await encoder.write([{ ...replayRow(1), runId: null }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditReplayError);
    expect((err as AuditReplayError).code).toBe('sink-failed');
    expect((err as AuditReplayError).message).toMatch(/null-id\.parquet.*runId/);
  });

  it('reports input that is not Parquet as sink-failed and leaves no spool file behind', async () => {
    const path = join(dir, 'not.parquet');
    await writeFile(path, 'this is not parquet at all, just some text that is long enough');
    const spools = async (): Promise<string[]> => (await readdir(tmpdir())).filter((f) => f.startsWith('auditreplay-parquet-') && !f.startsWith('auditreplay-parquet-test-'));
    const before = await spools();
    const err = await decodeFile(path, REPLAY_RESULT_SCHEMA).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditReplayError);
    expect((err as AuditReplayError).code).toBe('sink-failed');
    expect((err as AuditReplayError).message).toContain(path);
    expect(await spools()).toEqual(before);
  });
});

describe('parquetFormat interop with hyparquet', () => {
  it('writes audit events that hyparquet reads with the same strings, microsecond timestamps, nulls, emoji and the 1 MB statement', async () => {
    const path = await encodeFile('audit-interop.parquet', AUDIT_EVENT_SCHEMA, AUDIT_EVENTS);
    const rows = await readWithHyparquet(path);
    expect(rows).toHaveLength(3);
    const [a, b, c] = rows as [Record<string, unknown>, Record<string, unknown>, Record<string, unknown>];
    expect(a.ts).toBe(1795168800000500n);
    expect(a.end).toBe(1795168800025250n);
    expect(b.ts).toBe(1794908977705897n);
    expect(c.ts).toBe(1794908977705001n);
    expect(a.statement).toBe("SELECT 'héllo wörld 😀 你好 🇫🇷' AS greeting");
    expect(a.user).toBe('ana');
    expect(a.ok).toBe(true);
    expect(a.durationMs).toBe(24.75);
    expect(b.statement).toBe(MEGABYTE_STATEMENT);
    expect(b.end).toBeNull();
    expect(b.user).toBeNull();
    expect(b.ok).toBeNull();
    expect(b.extra).toBeNull();
    expect(c.user).toBe('🙂 user');
    expect(c.error).toBe('permission denied for table t — ✋');
    // JSON columns are UTF-8 JSON text, big integers as their digits.
    expect(a.source).toBe(`{"object":"s3://logs/a.json","line":3,"offset":${BIG}}`);
    expect(JSON.parse(c.extra as string)).toEqual([1, 'two', null]);

    const metadata = await parquetMetadataAsync(await asyncBufferFromFile(path));
    const element = (name: string) => metadata.schema.find((e) => e.name === name)!;
    expect(element('ts')).toMatchObject({ type: 'INT64', converted_type: 'TIMESTAMP_MICROS', repetition_type: 'REQUIRED' });
    expect(element('end')).toMatchObject({ type: 'INT64', converted_type: 'TIMESTAMP_MICROS', repetition_type: 'OPTIONAL' });
    expect(element('statement')).toMatchObject({ type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' });
    expect(element('durationMs')).toMatchObject({ type: 'DOUBLE', repetition_type: 'OPTIONAL' });
    expect(element('ok')).toMatchObject({ type: 'BOOLEAN', repetition_type: 'OPTIONAL' });
    expect(metadata.key_value_metadata).toContainEqual({ key: 'auditreplay.record', value: 'audit-event' });
  });

  it('writes replay results that hyparquet reads with int64 beyond 2^53 as exact bigints', async () => {
    const path = await encodeFile('replay-interop.parquet', REPLAY_RESULT_SCHEMA, REPLAY_RESULTS);
    const rows = await readWithHyparquet(path);
    expect(rows.map((r) => r.rows)).toEqual([BIG, null, -(2n ** 63n), 2n ** 63n - 1n]);
    expect(rows.map((r) => r.attempt)).toEqual([1n, 2n, 9007199254740993n, 1n]);
    expect(rows[0]!.scheduledAt).toBe(1795168800000500n);
    expect(rows[1]!.startedAt).toBe(1794908977705897n);
    expect(rows[1]!.error).toBe('canceling statement due to statement timeout 😴');
    expect(rows[1]!.checksum).toBeNull();
    expect(rows[2]!.checksum).toBe('');
    const metadata = await parquetMetadataAsync(await asyncBufferFromFile(path));
    expect(metadata.schema.find((e) => e.name === 'rows')).toMatchObject({ type: 'INT64', repetition_type: 'OPTIONAL' });
    expect(metadata.schema.find((e) => e.name === 'rows')!.converted_type).toBeUndefined();
  });

  it('writes many row groups that hyparquet reads in full and in order', async () => {
    const records = Array.from({ length: 2500 }, (_, i) => replayRow(i));
    const path = await encodeFile('groups-interop.parquet', REPLAY_RESULT_SCHEMA, records, { rowGroupSize: 1000 });
    const rows = await readWithHyparquet(path);
    expect(rows).toHaveLength(2500);
    expect(rows.map((r) => r.originalId)).toEqual(records.map((r) => r.originalId));
    expect(rows.map((r) => (r.rows === null ? null : Number(r.rows)))).toEqual(records.map((r) => r.rows));
    expect(rows.map((r) => r.checksum)).toEqual(records.map((r) => r.checksum));
    expect(rows[1234]!.scheduledAt).toBe(1795168801234500n);
  });

  it('writes an empty file that hyparquet opens with zero rows', async () => {
    const path = join(dir, 'empty-interop.parquet');
    const encoder = parquetFormat.encoder(createWriteStream(path), { schema: REPLAY_RESULT_SCHEMA });
    await encoder.end();
    const file = await asyncBufferFromFile(path);
    const metadata = await parquetMetadataAsync(file);
    expect(metadata.num_rows).toBe(0n);
    expect(metadata.schema.slice(1).map((e) => e.name)).toEqual(REPLAY_RESULT_SCHEMA.columns.map((c) => c.name));
    expect(await parquetReadObjects({ file })).toEqual([]);
  });
});
