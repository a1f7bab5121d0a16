import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { isSafeNumber, parse as parseLossless, stringify as stringifyLossless } from 'lossless-json';
import { AuditReplayError } from '../../core/errors.js';
import type { EncoderOptions, RecordEncoder, RecordFormat } from '../record-format.js';
import { int64Value, rowToRecord, valueOf, type Column, type RecordSchema, type Row } from '../record-schema.js';

/**
 * The parts of parquetjs-lite (0.8.x, CommonJS, no type declarations) this format uses:
 * its schema, its buffered writer over an envelope writer we give the output functions
 * of, and its file reader.
 */
const require = createRequire(import.meta.url);

interface FieldDefinition {
  type: string;
  optional: boolean;
  statistics?: false;
}

/** A column as the library's schema holds it; `originalType` picks its value conversions. */
interface LibField {
  name: string;
  primitiveType?: string;
  originalType?: string;
}

interface LibSchema {
  fieldList: LibField[];
}

interface WriterOptions {
  rowGroupSize: number;
  useDataPageV2: boolean;
  pageIndex: boolean;
}

interface LibWriter {
  appendRow(row: Record<string, unknown>): Promise<void>;
  close(): Promise<void>;
  setMetadata(key: string, value: string): void;
}

interface LibCursor {
  /** All rows of the next row group, or null after the last. */
  nextRowGroup(): Promise<Record<string, unknown>[] | null>;
}

interface LibReader {
  getSchema(): LibSchema;
  getCursor(): LibCursor;
  close(): Promise<void>;
}

interface LogicalType {
  primitiveType: string;
  originalType?: string;
  toPrimitive(value: unknown): unknown;
}

const parquet = require('parquetjs-lite') as {
  ParquetSchema: new (fields: Record<string, FieldDefinition>) => LibSchema;
  ParquetEnvelopeWriter: new (schema: LibSchema, write: (chunk: Buffer) => Promise<void>, close: () => Promise<void>, offset: number, options: WriterOptions) => object;
  ParquetWriter: new (schema: LibSchema, envelope: object, options: WriterOptions) => LibWriter;
  ParquetReader: { openFile(path: string): Promise<LibReader> };
};
const logicalTypes = (require('parquetjs-lite/lib/types.js') as { PARQUET_LOGICAL_TYPES: Record<string, LogicalType> }).PARQUET_LOGICAL_TYPES;

/**
 * The library's INT64 type converts each value with parseInt, so an int64 beyond 2^53
 * (2n**60n + 7n) is written as 2^60. This type is a plain INT64 converted with BigInt,
 * exact over the whole range. It is only added to the library's table of types (no
 * existing type changes), and names no converted type, so the file says plain INT64.
 */
const EXACT_INT64 = 'AUDITREPLAY_EXACT_INT64';
logicalTypes[EXACT_INT64] ??= { primitiveType: 'INT64', originalType: EXACT_INT64, toPrimitive: (v) => BigInt(v as bigint) };

const PARQUET_TYPES: Record<Column['type'], string> = {
  string: 'UTF8',
  int64: EXACT_INT64,
  double: 'DOUBLE',
  // The converted type TIMESTAMP_MICROS means microseconds since the epoch, UTC.
  timestamp: 'TIMESTAMP_MICROS',
  boolean: 'BOOLEAN',
  // UTF8, not the JSON converted type: the library would JSON.stringify the value itself
  // (which throws on a bigint), and readers honouring JSON would JSON.parse it (rounding
  // long integers). As text, every reader gets the JSON exactly as written.
  json: 'UTF8',
};

const MIN_INT64 = -(2n ** 63n);
const MAX_INT64 = 2n ** 63n - 1n;
/** Rows per batch `decode` yields. */
const DECODE_BATCH = 10_000;
/** The smallest Parquet file: magic, footer length, magic, and a footer. */
const MIN_FILE_BYTES = 12;

/**
 * Apache Parquet, one typed column per schema column, written with parquetjs-lite.
 * Row groups hold `rowGroupSize` rows (default 100,000); pages are uncompressed, PLAIN,
 * data page v1 (the form every reader takes); the footer's key-value metadata carries
 * `auditreplay.record` = the schema's name.
 */
export const parquetFormat: RecordFormat = {
  name: 'parquet',
  accepts: (name) => /\.parquet$/i.test(name),
  encoder: (out, options) => new ParquetEncoder(out, options),
  decode: (input, schema) => decodeParquet(input, schema),
};

class ParquetEncoder implements RecordEncoder {
  private readonly writer: LibWriter;
  private readonly columns: readonly Column[];
  private readonly name: string;
  /** The first failure, of `out` or of a record; reported by every later call. */
  private failure: AuditReplayError | null = null;

  constructor(
    private readonly out: Writable,
    options: EncoderOptions,
  ) {
    this.columns = options.schema.columns;
    this.name = streamName(out, 'the Parquet output');
    const rowGroupSize = options.rowGroupSize ?? 100_000;
    if (!Number.isInteger(rowGroupSize) || rowGroupSize < 1) {
      throw new AuditReplayError('usage', `row group size must be a positive integer, not ${rowGroupSize}`);
    }
    // Kept for the whole life of the encoder: an error of `out` surfaces in write/end,
    // not as an unhandled 'error' event.
    out.on('error', (err) => this.fail(err));
    const fields: Record<string, FieldDefinition> = {};
    for (const c of this.columns) {
      fields[c.name] = {
        type: PARQUET_TYPES[c.type],
        optional: c.nullable,
        // Min/max of statement text would copy up to megabytes into every page header.
        ...(c.type === 'string' || c.type === 'json' ? { statistics: false as const } : {}),
      };
    }
    const schema = new parquet.ParquetSchema(fields);
    const writerOptions: WriterOptions = {
      rowGroupSize,
      useDataPageV2: false,
      // The library's offset index gives every page after the first a first_row_index
      // of 0 (it sums a page field that does not exist: NaN, written as 0), which
      // misleads readers that use the index.
      pageIndex: false,
    };
    // Our own output functions rather than openStream's: those leave the header and
    // index writes unawaited, an unhandled rejection when `out` fails. Ours never reject
    // (the failure is kept for write/end to report) and wait for 'drain' when `write`
    // returns false.
    const envelope = new parquet.ParquetEnvelopeWriter(schema, (chunk) => this.push(chunk), () => this.finish(), 0, writerOptions);
    this.writer = new parquet.ParquetWriter(schema, envelope, writerOptions);
    this.writer.setMetadata('auditreplay.record', options.schema.name);
  }

  async write(batch: readonly Row[]): Promise<void> {
    this.throwIfFailed();
    try {
      // appendRow writes a row group once it has rowGroupSize rows and resolves when
      // `out` has taken it, so at most one row group is held in memory.
      for (const record of batch) {
        await this.writer.appendRow(this.toParquetRow(record));
        this.throwIfFailed();
      }
    } catch (err) {
      this.fail(err);
    }
    this.throwIfFailed();
  }

  async end(): Promise<void> {
    this.throwIfFailed();
    try {
      // An empty output needs nothing special: with no rows the library writes the
      // magic and a footer of the schema with zero row groups, a valid file.
      await this.writer.close();
    } catch (err) {
      this.fail(err);
    }
    this.throwIfFailed();
  }

  private toParquetRow(record: Row): Record<string, unknown> {
    const row: Record<string, unknown> = {};
    for (const c of this.columns) {
      const v = toParquetValue(valueOf(record, c), c);
      if (v === null) {
        // JSON has a null of its own, which a JSON column that may not be null stores as text.
        if (c.type === 'json' && !c.nullable) row[c.name] = 'null';
        else if (!c.nullable) throw new Error(`column ${c.name} is null but may not be`);
        continue;
      }
      row[c.name] = v;
    }
    return row;
  }

  /** Writes a chunk, resolving when `out` can take more. Never rejects: the library does not await every write. */
  private push(chunk: Buffer): Promise<void> {
    if (this.failure) return Promise.resolve();
    if (this.out.destroyed || this.out.writableEnded) {
      this.fail(new Error('the output was closed'));
      return Promise.resolve();
    }
    if (this.out.write(chunk)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.out.off('drain', done);
        this.out.off('error', done);
        this.out.off('close', done);
        resolve();
      };
      this.out.on('drain', done);
      this.out.on('error', done);
      this.out.on('close', done);
    });
  }

  /** Ends `out` and waits until all of it is written. */
  private async finish(): Promise<void> {
    if (this.failure) return;
    this.out.end();
    try {
      await finished(this.out, { readable: false });
    } catch (err) {
      this.fail(err);
    }
  }

  private fail(err: unknown): void {
    if (this.failure) return;
    this.failure = err instanceof AuditReplayError ? err : new AuditReplayError('sink-failed', `cannot write ${this.name}: ${messageOf(err)}`, { cause: err });
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }
}

/** A value of the record as the library takes it: null for none. */
function toParquetValue(v: unknown, c: Column): unknown {
  if (v === null) return null;
  switch (c.type) {
    case 'string':
      if (typeof v === 'object') throw new Error(`column ${c.name} wants a string, not an object`);
      return typeof v === 'string' ? v : String(v);
    case 'int64': {
      let b: bigint;
      if (typeof v === 'bigint') b = v;
      else if (typeof v === 'number' && Number.isInteger(v)) b = BigInt(v);
      else if (typeof v === 'string' && /^-?\d+$/.test(v)) b = BigInt(v);
      else throw new Error(`column ${c.name} wants an integer, not ${String(v)}`);
      if (b < MIN_INT64 || b > MAX_INT64) throw new Error(`column ${c.name}: ${b} is beyond int64`);
      return b;
    }
    case 'double':
      if (typeof v !== 'number') throw new Error(`column ${c.name} wants a number, not ${typeof v}`);
      // The library rejects NaN; JSON lines write it as null too.
      return Number.isNaN(v) ? null : v;
    case 'timestamp': {
      const ms = v instanceof Date ? v.getTime() : v;
      if (typeof ms !== 'number' || !Number.isFinite(ms)) throw new Error(`column ${c.name} wants epoch milliseconds, not ${String(v)}`);
      // parquetjs-lite's TIMESTAMP_MICROS refuses negative values.
      if (ms < 0) throw new Error(`column ${c.name}: ${ms} is before 1970, which parquetjs-lite cannot write`);
      return BigInt(Math.round(ms * 1000));
    }
    case 'boolean':
      if (typeof v !== 'boolean') throw new Error(`column ${c.name} wants a boolean, not ${typeof v}`);
      return v;
    case 'json':
      return jsonText(v);
  }
}

/** JSON text of a value, bigints as their digits (JSON.stringify throws on them). */
function jsonText(v: unknown): string {
  try {
    // undefined for a function or symbol, which JSON has no text for
    return (JSON.stringify(v) as string | undefined) ?? 'null';
  } catch (err) {
    if (err instanceof TypeError && /BigInt/i.test(err.message)) return stringifyLossless(v) ?? 'null';
    throw err;
  }
}

/** An integer too long for a double: only such JSON takes the slower lossless parse. */
const LONG_DIGITS = /\d{16,}/;

function parseJson(text: string): unknown {
  return LONG_DIGITS.test(text) ? parseLossless(text, undefined, numberOf) : JSON.parse(text);
}

function numberOf(text: string): number | bigint {
  return isSafeNumber(text) || !/^-?\d+$/.test(text) ? Number(text) : BigInt(text);
}

/**
 * Parquet's footer is at its end, so the input is spooled to a temporary file (removed
 * when done or abandoned) and read from there a row group at a time.
 */
async function* decodeParquet(input: Readable, schema: RecordSchema): AsyncIterable<Row[]> {
  const name = streamName(input, 'the Parquet input');
  const dir = await mkdtemp(join(tmpdir(), 'auditreplay-parquet-'));
  let reader: LibReader | null = null;
  try {
    const path = join(dir, 'input.parquet');
    const spool = createWriteStream(path);
    await pipeline(input, spool);
    if (spool.bytesWritten < MIN_FILE_BYTES) throw new Error(`not a Parquet file (${spool.bytesWritten} bytes)`);
    reader = await parquet.ParquetReader.openFile(path);
    const fileTypes = new Map<string, string | undefined>();
    for (const field of reader.getSchema().fieldList) {
      fileTypes.set(field.name, field.originalType);
      // Raw values, converted below: the library turns TIMESTAMP_MICROS into a Date,
      // dropping the microseconds, and JSON through JSON.parse.
      delete field.originalType;
    }
    const cursor = reader.getCursor();
    let batch: Row[] = [];
    for (let group = await cursor.nextRowGroup(); group; group = await cursor.nextRowGroup()) {
      for (const row of group) {
        const values: Row = {};
        for (const c of schema.columns) values[c.name] = fromParquetValue(row[c.name], c, fileTypes.get(c.name));
        batch.push(rowToRecord(values, schema));
        if (batch.length >= DECODE_BATCH) {
          yield batch;
          batch = [];
        }
      }
    }
    if (batch.length) yield batch;
  } catch (err) {
    throw err instanceof AuditReplayError ? err : new AuditReplayError('sink-failed', `cannot read ${name}: ${messageOf(err)}`, { cause: err });
  } finally {
    await reader?.close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

/** A raw value of the file (Buffer, bigint, number, boolean) as the schema's in-memory value. */
function fromParquetValue(v: unknown, c: Column, fileType: string | undefined): unknown {
  if (v === null || v === undefined) return null;
  switch (c.type) {
    case 'string':
      return Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
    case 'int64':
      return int64Value(v as bigint | number);
    case 'double':
      return Number(v);
    case 'timestamp':
      return fileType === 'TIMESTAMP_MILLIS' ? Number(v) : Number(v) / 1000;
    case 'boolean':
      return v;
    case 'json':
      return parseJson(Buffer.isBuffer(v) ? v.toString('utf8') : String(v));
  }
}

/** The file behind a stream, for messages: fs streams know their path. */
function streamName(stream: Readable | Writable, otherwise: string): string {
  const path = (stream as { path?: unknown }).path;
  return typeof path === 'string' ? path : Buffer.isBuffer(path) ? path.toString() : otherwise;
}

/** The message of anything thrown, including the strings parquetjs-lite throws. */
function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
