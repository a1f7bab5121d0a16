import { createReadStream, createWriteStream, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { DataType, MessageHeader, MessageReader, RecordBatchReader, TimeUnit, tableFromIPC, type Timestamp } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { arrowFileFormat, arrowStreamFormat } from '../../src/sinks/arrow/index.js';
import type { RecordFormat } from '../../src/sinks/record-format.js';
import { AUDIT_EVENT_SCHEMA, REPLAY_RESULT_SCHEMA, type RecordSchema, type Row } from '../../src/sinks/record-schema.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'auditreplay-arrow-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const T0 = 1795168800000;
const BIG = 2n ** 53n + 1n;
const STATEMENT_1MB = `SELECT '${'x'.repeat(1024 * 1024)}'`;

/** AuditEvents with nulls, microsecond fractions, unicode, a 1 MB statement and `extra` only on some. */
function auditEvents(n: number): Row[] {
  return Array.from({ length: n }, (_, i) => {
    const e: Row = {
      id: `e${i}`,
      ts: T0 + i + [0, 0.5, 0.123, 0.001, 0.999][i % 5]!,
      end: i % 4 === 0 ? null : T0 + i + 12.345,
      durationMs: i % 4 === 0 ? null : 12.345,
      user: i % 3 === 0 ? null : 'alice',
      database: 'analytics',
      session: i % 2 ? `s${i % 7}` : null,
      client: '10.0.0.7',
      statement: i === 7 ? STATEMENT_1MB : `SELECT '${'é😀中'.repeat(i % 5)}', ${i}`,
      ok: i % 3 === 0 ? null : i % 3 === 1,
      error: i % 3 === 2 ? 'ERROR: relation "t" does not exist' : null,
      kind: 'query',
      command: 'SELECT',
      fingerprint: 'select ?',
      fingerprintId: 'f00d',
      source: { object: 'logs/postgresql-2026-11-17.log', line: i + 1 },
    };
    if (i % 5 === 1) e['extra'] = { application: 'psql', tags: ['a', 'ü🎉'], nested: { n: i } };
    return e;
  });
}

/** ReplayResults with nulls, int64 beyond ±2^53 and fractional-millisecond timestamps. */
function replayResults(n: number): Row[] {
  return Array.from({ length: n }, (_, i) => ({
    runId: 'run-1',
    originalId: `e${i}`,
    fingerprintId: 'f00d',
    kind: 'query',
    target: 'pglite://secondary',
    scheduledAt: T0 + i * 1000 + 0.25,
    startedAt: T0 + i * 1000 + 1.123,
    durationMs: i / 7,
    rows: [42, null, BIG, -(2n ** 62n), 0, 2 ** 53 - 1][i % 6]!,
    checksum: i % 2 ? null : `sha-${i}`,
    ok: i % 5 !== 0,
    sqlState: i % 5 === 0 ? '42P01' : null,
    error: i % 5 === 0 ? 'relation «t» does not exist 💥' : null,
    originalDurationMs: i % 3 ? 2.5 : null,
    attempt: i === 3 ? 2n ** 60n : 1,
  }));
}

let fileCount = 0;
function pathFor(ext: string): string {
  return join(dir, `out-${++fileCount}${ext}`);
}

/** Writes the records through the format's encoder, in slices as a sink would hand them. */
async function writeRecords(format: RecordFormat, schema: RecordSchema, records: readonly Row[], ext: string, rowGroupSize?: number): Promise<string> {
  const path = pathFor(ext);
  const encoder = format.encoder(createWriteStream(path), { schema, ...(rowGroupSize === undefined ? {} : { rowGroupSize }) });
  for (let i = 0; i < records.length; i += 700) await encoder.write(records.slice(i, i + 700));
  await encoder.end();
  return path;
}

async function decodeBatches(format: RecordFormat, input: Readable, schema: RecordSchema): Promise<Row[][]> {
  const batches: Row[][] = [];
  for await (const batch of format.decode(input, schema)) batches.push(batch);
  return batches;
}

const FORMATS = [
  { label: 'file', format: arrowFileFormat, ext: '.arrow' },
  { label: 'stream', format: arrowStreamFormat, ext: '.arrows' },
] as const;

describe.each(FORMATS)('Arrow IPC $label format', ({ format, ext }) => {
  it('reads back AuditEvent records equal to those written, nulls, unicode and a 1 MB statement included', async () => {
    const records = auditEvents(2500);
    const path = await writeRecords(format, AUDIT_EVENT_SCHEMA, records, ext);
    const back = (await decodeBatches(format, createReadStream(path), AUDIT_EVENT_SCHEMA)).flat();
    expect(back).toHaveLength(records.length);
    expect(back).toStrictEqual(records);
    expect(back[7]!['statement']).toBe(STATEMENT_1MB);
    expect(back[0]).not.toHaveProperty('extra');
  });

  it('reads back ReplayResult records equal to those written, int64 beyond 2^53 exactly', async () => {
    const records = replayResults(1000);
    const path = await writeRecords(format, REPLAY_RESULT_SCHEMA, records, ext);
    const back = (await decodeBatches(format, createReadStream(path), REPLAY_RESULT_SCHEMA)).flat();
    expect(back).toStrictEqual(records);
    expect(back[2]!['rows']).toBe(BIG);
    expect(back[3]!['rows']).toBe(-(2n ** 62n));
    expect(back[5]!['rows']).toBe(2 ** 53 - 1);
    expect(back[3]!['attempt']).toBe(2n ** 60n);
  });

  it('keeps timestamps to the microsecond, before the epoch too', async () => {
    const times = [T0 + 0.001, T0 + 0.999, T0 + 0.5, T0 + 123.456, -1234.567, 0, 1.001];
    const records = replayResults(times.length).map((r, i) => ({ ...r, scheduledAt: times[i]!, startedAt: times[i]! }));
    const path = await writeRecords(format, REPLAY_RESULT_SCHEMA, records, ext);
    const back = (await decodeBatches(format, createReadStream(path), REPLAY_RESULT_SCHEMA)).flat();
    expect(back.map((r) => r['scheduledAt'])).toEqual(times);
  });

  it('writes one record batch per requested number of rows and reads them back batch by batch', async () => {
    const records = replayResults(2500);
    const path = await writeRecords(format, REPLAY_RESULT_SCHEMA, records, ext, 1000);
    expect(tableFromIPC(readFileSync(path)).batches.map((b) => b.numRows)).toEqual([1000, 1000, 500]);
    const batches = await decodeBatches(format, createReadStream(path), REPLAY_RESULT_SCHEMA);
    expect(batches.map((b) => b.length)).toEqual([1000, 1000, 500]);
    expect(batches.flat()).toStrictEqual(records);
  });

  it('writes a valid output with the schema and no record batches when there are no records', async () => {
    const path = await writeRecords(format, AUDIT_EVENT_SCHEMA, [], ext);
    const bytes = readFileSync(path);
    const table = tableFromIPC(bytes);
    expect(table.numRows).toBe(0);
    expect(table.schema.fields.map((f) => f.name)).toEqual(AUDIT_EVENT_SCHEMA.columns.map((c) => c.name));
    if (format === arrowFileFormat) {
      const reader = RecordBatchReader.from(bytes).open();
      expect(reader.isFile() && reader.numRecordBatches).toBe(0);
    } else {
      // The schema message, then the end-of-stream marker, which ends the reading.
      expect([...new MessageReader(bytes)].map((m) => m.headerType)).toEqual([MessageHeader.Schema]);
    }
    expect(await decodeBatches(format, createReadStream(path), AUDIT_EVENT_SCHEMA)).toEqual([]);
  });

  it('reads input that arrives in small pieces', async () => {
    const records = replayResults(300);
    const path = await writeRecords(format, REPLAY_RESULT_SCHEMA, records, ext, 100);
    const bytes = readFileSync(path);
    const pieces = function* (): Generator<Buffer> {
      for (let i = 0; i < bytes.length; i += 5) yield bytes.subarray(i, i + 5);
    };
    const back = (await decodeBatches(format, Readable.from(pieces()), REPLAY_RESULT_SCHEMA)).flat();
    expect(back).toStrictEqual(records);
  });

  it('round-trips a JSON value holding a bigint, as its digits', async () => {
    const records = auditEvents(2).map((e) => ({ ...e, extra: { big: 2n ** 60n, list: [1, 'two'] } }));
    const path = await writeRecords(format, AUDIT_EVENT_SCHEMA, records, ext);
    const back = (await decodeBatches(format, createReadStream(path), AUDIT_EVENT_SCHEMA)).flat();
    expect(back).toStrictEqual(records);
  });

  it('waits for the output to drain before taking more records', async () => {
    const held: (() => void)[] = [];
    let flowing = false;
    const out = new Writable({
      highWaterMark: 1024,
      write(_chunk, _encoding, callback) {
        if (flowing) callback();
        else held.push(() => callback());
      },
    });
    const encoder = format.encoder(out, { schema: REPLAY_RESULT_SCHEMA, rowGroupSize: 100 });
    let written = false;
    const writing = encoder.write(replayResults(100)).then(() => {
      written = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(written).toBe(false);
    flowing = true;
    for (const release of held.splice(0)) release();
    await writing;
    expect(written).toBe(true);
    await encoder.end();
  });

  it('refuses a null in a column that may not be null, naming the column', async () => {
    const out = createWriteStream(pathFor(ext));
    const encoder = format.encoder(out, { schema: REPLAY_RESULT_SCHEMA });
    await expect(encoder.write([{ ...replayResults(1)[0]!, runId: null }])).rejects.toMatchObject({
      code: 'sink-failed',
      message: expect.stringMatching(/column 'runId' is null/),
    });
    // The record was half taken: the encoder refuses to go on rather than write uneven columns.
    await expect(encoder.write(replayResults(1))).rejects.toMatchObject({ code: 'sink-failed', message: expect.stringMatching(/runId/) });
    await expect(encoder.end()).rejects.toMatchObject({ code: 'sink-failed' });
    out.destroy();
  });

  it('refuses a value of the wrong type, naming the output and the column', async () => {
    const path = pathFor(ext);
    const out = createWriteStream(path);
    const encoder = format.encoder(out, { schema: REPLAY_RESULT_SCHEMA });
    await expect(encoder.write([{ ...replayResults(1)[0]!, attempt: 1.5 }])).rejects.toMatchObject({
      code: 'sink-failed',
      message: expect.stringContaining(`cannot write ${path}: column 'attempt' needs a 64-bit integer`),
    });
    out.destroy();
  });

  it('fails with a clear error when the input is not Arrow IPC', async () => {
    await expect(decodeBatches(format, Readable.from([Buffer.from('{"id":"e1"}\n')]), AUDIT_EVENT_SCHEMA)).rejects.toMatchObject({ code: 'sink-failed' });
    await expect(decodeBatches(format, Readable.from([]), AUDIT_EVENT_SCHEMA)).rejects.toMatchObject({
      code: 'sink-failed',
      message: expect.stringMatching(/empty/),
    });
  });

  it('fails with a clear error when the output is truncated', async () => {
    const path = await writeRecords(format, REPLAY_RESULT_SCHEMA, replayResults(500), ext, 100);
    const bytes = readFileSync(path);
    const cut = Readable.from([bytes.subarray(0, Math.floor(bytes.length * 0.6))]);
    await expect(decodeBatches(format, cut, REPLAY_RESULT_SCHEMA)).rejects.toMatchObject({ code: 'sink-failed' });
  });

  it('refuses a record schema whose column is missing from the input', async () => {
    const path = await writeRecords(format, REPLAY_RESULT_SCHEMA, replayResults(3), ext);
    await expect(decodeBatches(format, createReadStream(path), AUDIT_EVENT_SCHEMA)).rejects.toMatchObject({
      code: 'sink-failed',
      message: expect.stringMatching(/no column 'id'/),
    });
  });
});

describe('Arrow IPC outputs read independently with apache-arrow', () => {
  it('have the record schema: types, nullability, the UTC microsecond timestamp and the JSON marker', async () => {
    const path = await writeRecords(arrowFileFormat, AUDIT_EVENT_SCHEMA, auditEvents(10), '.arrow');
    const { schema } = tableFromIPC(readFileSync(path));
    expect(schema.metadata.get('auditreplay.record')).toBe('audit-event');
    const field = (name: string) => schema.fields.find((f) => f.name === name)!;
    expect(DataType.isUtf8(field('id').type)).toBe(true);
    expect(field('id').nullable).toBe(false);
    expect(field('user').nullable).toBe(true);
    const ts = field('ts').type as Timestamp;
    expect(DataType.isTimestamp(ts)).toBe(true);
    expect(ts.unit).toBe(TimeUnit.MICROSECOND);
    expect(ts.timezone).toBe('UTC');
    expect(field('ts').nullable).toBe(false);
    expect(field('end').nullable).toBe(true);
    expect(String(field('durationMs').type)).toBe('Float64');
    expect(DataType.isBool(field('ok').type)).toBe(true);
    expect(DataType.isUtf8(field('source').type)).toBe(true);
    expect(field('source').metadata.get('auditreplay.type')).toBe('json');
    expect(field('extra').metadata.get('auditreplay.type')).toBe('json');
    expect(field('extra').nullable).toBe(true);
    expect(field('statement').metadata.size).toBe(0);

    const rr = tableFromIPC(readFileSync(await writeRecords(arrowStreamFormat, REPLAY_RESULT_SCHEMA, replayResults(6), '.arrows'))).schema;
    const rows = rr.fields.find((f) => f.name === 'rows')!;
    expect(String(rows.type)).toBe('Int64');
    expect(rows.nullable).toBe(true);
    expect(rr.fields.find((f) => f.name === 'attempt')!.nullable).toBe(false);
    expect(rr.metadata.get('auditreplay.record')).toBe('replay-result');
  });

  it('hold the values: microseconds since the epoch, exact int64, JSON text, nulls', async () => {
    const records = replayResults(6);
    for (const [format, ext] of [
      [arrowFileFormat, '.arrow'],
      [arrowStreamFormat, '.arrows'],
    ] as const) {
      const table = tableFromIPC(readFileSync(await writeRecords(format, REPLAY_RESULT_SCHEMA, records, ext)));
      expect(table.numRows).toBe(6);
      const micros = table.getChild('startedAt')!.data[0]!.values as BigInt64Array;
      expect(micros[0]).toBe(BigInt(T0) * 1000n + 1123n);
      expect(table.getChild('rows')!.toArray()).toEqual(BigInt64Array.of(42n, 0n, BIG, -(2n ** 62n), 0n, 2n ** 53n - 1n));
      expect(table.getChild('rows')!.get(1)).toBeNull();
      expect(table.getChild('attempt')!.get(3)).toBe(2n ** 60n);
      expect(table.getChild('ok')!.get(0)).toBe(false);
      expect(table.getChild('error')!.get(0)).toBe('relation «t» does not exist 💥');
      expect(table.getChild('checksum')!.get(1)).toBeNull();
    }
    const events = auditEvents(2);
    const table = tableFromIPC(readFileSync(await writeRecords(arrowFileFormat, AUDIT_EVENT_SCHEMA, events, '.arrow')));
    expect(JSON.parse(table.getChild('source')!.get(0) as string)).toEqual(events[0]!['source']);
    expect(table.getChild('extra')!.get(0)).toBeNull();
    expect(JSON.parse(table.getChild('extra')!.get(1) as string)).toEqual(events[1]!['extra']);
  });

  it('start with the ARROW1 magic in the file form, and not in the stream form', async () => {
    const file = readFileSync(await writeRecords(arrowFileFormat, REPLAY_RESULT_SCHEMA, replayResults(3), '.arrow'));
    expect(file.subarray(0, 6).toString('latin1')).toBe('ARROW1');
    expect(file.subarray(-6).toString('latin1')).toBe('ARROW1');
    const stream = readFileSync(await writeRecords(arrowStreamFormat, REPLAY_RESULT_SCHEMA, replayResults(3), '.arrows'));
    expect(stream.subarray(0, 6).toString('latin1')).not.toBe('ARROW1');
    // A stream opens with a continuation marker, then the schema message.
    expect(stream.readInt32LE(0)).toBe(-1);
    // …and ends with the end-of-stream marker.
    expect(stream.subarray(-8)).toEqual(Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]));

    const emptyFile = readFileSync(await writeRecords(arrowFileFormat, REPLAY_RESULT_SCHEMA, [], '.arrow'));
    expect(emptyFile.subarray(0, 6).toString('latin1')).toBe('ARROW1');
    const reader = RecordBatchReader.from(emptyFile).open();
    expect(reader.isFile() && reader.numRecordBatches).toBe(0);
  });
});

describe('Arrow IPC formats', () => {
  it('are chosen by the output name: .arrow and .feather for the file form, .arrows for the stream form', () => {
    expect(arrowFileFormat.accepts('out/results.arrow')).toBe(true);
    expect(arrowFileFormat.accepts('s3://b/results.FEATHER')).toBe(true);
    expect(arrowFileFormat.accepts('results.arrows')).toBe(false);
    expect(arrowStreamFormat.accepts('results.arrows')).toBe(true);
    expect(arrowStreamFormat.accepts('results.arrow')).toBe(false);
    expect(arrowFileFormat.accepts('results.parquet')).toBe(false);
  });

  it('read either form, telling them apart by their first bytes', async () => {
    const records = replayResults(50);
    const file = await writeRecords(arrowFileFormat, REPLAY_RESULT_SCHEMA, records, '.arrow');
    const stream = await writeRecords(arrowStreamFormat, REPLAY_RESULT_SCHEMA, records, '.arrows');
    expect((await decodeBatches(arrowStreamFormat, createReadStream(file), REPLAY_RESULT_SCHEMA)).flat()).toStrictEqual(records);
    expect((await decodeBatches(arrowFileFormat, createReadStream(stream), REPLAY_RESULT_SCHEMA)).flat()).toStrictEqual(records);
  });

  it('leave no temporary copy behind once a file is read, even when the reader stops early', async () => {
    const spools = async () => (await readdir(tmpdir())).filter((f) => f.startsWith('auditreplay-arrow-') && !f.startsWith('auditreplay-arrow-test-'));
    const before = await spools();
    const path = await writeRecords(arrowFileFormat, REPLAY_RESULT_SCHEMA, replayResults(300), '.arrow', 100);
    for await (const batch of arrowFileFormat.decode(createReadStream(path), REPLAY_RESULT_SCHEMA)) {
      expect(batch).toHaveLength(100);
      break;
    }
    expect(await spools()).toEqual(before);
  });

  it('refuse a row group size that is not a positive whole number', () => {
    const out = createWriteStream(pathFor('.arrow'));
    expect(() => arrowFileFormat.encoder(out, { schema: REPLAY_RESULT_SCHEMA, rowGroupSize: 0 })).toThrow(/row group size/);
    expect(() => arrowFileFormat.encoder(out, { schema: REPLAY_RESULT_SCHEMA, rowGroupSize: 2.5 })).toThrow(/row group size/);
    out.destroy();
  });
});
