import { createWriteStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AsyncByteQueue,
  Bool,
  DataType,
  Field,
  Float64,
  Int64,
  Precision,
  RecordBatch,
  RecordBatchFileWriter,
  RecordBatchReader,
  RecordBatchStreamWriter,
  Schema,
  Struct,
  TimeUnit,
  TimestampMicrosecond,
  Utf8,
  makeData,
  makeVector,
  type Data,
  type RecordBatchWriter,
  type Timestamp,
} from 'apache-arrow';
import { isSafeNumber, parse as parseLossless, stringify as stringifyLossless } from 'lossless-json';
import { AuditReplayError } from '../../core/errors.js';
import type { EncoderOptions, RecordEncoder, RecordFormat } from '../record-format.js';
import { int64Value, rowToRecord, type Column, type RecordSchema, type Row } from '../record-schema.js';

/** Schema metadata key naming the record (`audit-event`, …) a file holds. */
const RECORD_METADATA_KEY = 'auditreplay.record';
/** Field metadata key marking a Utf8 column that holds JSON text. */
const TYPE_METADATA_KEY = 'auditreplay.type';

const DEFAULT_ROW_GROUP_SIZE = 100_000;
/** Utf8 offsets are int32, and a batch's text should stay well inside memory: a batch is cut early before one column's text passes 1 GiB. */
const MAX_BATCH_TEXT_BYTES = 2 ** 30;
/** The most rows one record batch can hold (Arrow lengths are int32). */
const MAX_BATCH_ROWS = 2 ** 31 - 1;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
/** `ARROW1`: the first and last bytes of an IPC file; a stream starts with a message instead. */
const MAGIC = Buffer.from('ARROW1');
/** Records per array read back: a large record batch is handed over in parts, which keeps the garbage collector's work small. */
const DECODE_SLICE_ROWS = 10_000;
/** An integer too long for a double: only such JSON text takes the slower lossless parse. */
const LONG_DIGITS = /\d{16,}/;

/**
 * The Arrow IPC file format (`.arrow`, `.feather`: Feather v2 is the same thing). Written
 * one record batch per `rowGroupSize` rows (default 100,000); read back one batch at a
 * time, in arrays of at most 10,000 records.
 */
export const arrowFileFormat: RecordFormat = {
  name: 'arrow',
  accepts: (name) => /\.(arrow|feather)$/i.test(name),
  encoder: (out, options) => new ArrowEncoder(out, options, 'file'),
  decode: (input, schema) => decodeArrow(input, schema),
};

/** The Arrow IPC stream format (`.arrows`): as the file format, without a footer, so it reads as it arrives. */
export const arrowStreamFormat: RecordFormat = {
  name: 'arrows',
  accepts: (name) => /\.arrows$/i.test(name),
  encoder: (out, options) => new ArrowEncoder(out, options, 'stream'),
  decode: (input, schema) => decodeArrow(input, schema),
};

/** The Arrow schema of a record: one field per column, JSON columns as marked Utf8. */
function arrowSchemaOf(schema: RecordSchema): Schema {
  const fields = schema.columns.map((c) => {
    const metadata = c.type === 'json' ? new Map([[TYPE_METADATA_KEY, 'json']]) : undefined;
    return new Field(c.name, arrowTypeOf(c), c.nullable, metadata);
  });
  return new Schema(fields, new Map([[RECORD_METADATA_KEY, schema.name]]));
}

function arrowTypeOf(column: Column): DataType {
  switch (column.type) {
    case 'string':
    case 'json':
      return new Utf8();
    case 'int64':
      return new Int64();
    case 'double':
      return new Float64();
    case 'timestamp':
      return new TimestampMicrosecond('UTC');
    case 'boolean':
      return new Bool();
  }
}

// ---------------------------------------------------------------------------------------------
// Writing

/**
 * Collects what the Arrow writer emits so the encoder can hand it to `out` itself and wait
 * for 'drain'; the writer's own piping would queue a whole output in memory.
 */
class ChunkCollector extends AsyncByteQueue {
  private chunks: Uint8Array[] = [];

  override write(value: Uint8Array): void {
    if (value.byteLength > 0) this.chunks.push(value);
  }

  take(): Uint8Array[] {
    const taken = this.chunks;
    this.chunks = [];
    return taken;
  }
}

class ArrowEncoder implements RecordEncoder {
  private readonly arrowSchema: Schema;
  private readonly writer: RecordBatchWriter;
  private readonly collector = new ChunkCollector();
  private readonly columns: ColumnBuffer[];
  private readonly textColumns: Utf8Column[];
  private readonly batchSize: number;
  private readonly name: string;
  private rows = 0;
  /** The first error `out` or a write reported; streams report asynchronously, so it is kept until the next call. */
  private failure: Error | null = null;

  constructor(
    private readonly out: Writable,
    options: EncoderOptions,
    form: 'file' | 'stream',
  ) {
    const size = options.rowGroupSize ?? DEFAULT_ROW_GROUP_SIZE;
    if (!Number.isInteger(size) || size < 1 || size > MAX_BATCH_ROWS) {
      throw new AuditReplayError('usage', `the row group size must be a whole number from 1 to ${MAX_BATCH_ROWS}, not ${size}`);
    }
    this.batchSize = size;
    this.name = nameOf(out, 'the Arrow output');
    this.arrowSchema = arrowSchemaOf(options.schema);
    // Start small: most outputs are far smaller than one full batch.
    this.columns = options.schema.columns.map((c) => makeColumn(c, Math.min(size, 1024), size));
    this.textColumns = this.columns.filter((c) => c instanceof Utf8Column);
    out.on('error', (err: Error) => {
      this.failure ??= err;
    });
    this.writer = form === 'file' ? new RecordBatchFileWriter() : new RecordBatchStreamWriter();
    // Writing the schema now makes an output with no records a valid file: schema, no batches.
    this.writer.reset(this.collector, this.arrowSchema);
  }

  async write(batch: readonly Row[]): Promise<void> {
    this.throwIfFailed();
    try {
      let from = 0;
      while (from < batch.length) {
        const room = Math.min(batch.length, from + this.batchSize - this.rows);
        let to = room;
        for (const column of this.textColumns) to = column.prepare(batch, from, to, this.rows === 0, this.name);
        for (const column of this.columns) column.appendRows(batch, from, to, this.name);
        this.rows += to - from;
        from = to;
        // Full, or cut short by its text.
        if (this.rows === this.batchSize || to < room) await this.flush();
      }
    } catch (err) {
      // A record refused halfway leaves the columns uneven: nothing more may be written.
      this.failure ??= err as Error;
      throw err;
    }
  }

  async end(): Promise<void> {
    this.throwIfFailed();
    if (this.rows > 0) await this.flush();
    try {
      // Closing writes the footer (file) or the end-of-stream marker (stream).
      this.writer.close();
    } catch (err) {
      throw this.error(err as Error);
    }
    await this.send();
    await new Promise<void>((resolve, reject) => {
      this.out.once('error', (err: Error) => reject(this.error(err)));
      this.out.once('close', () => reject(this.error(new Error('the output stream closed before it finished'))));
      this.out.once('finish', resolve);
      this.out.end();
    });
  }

  /** Turns the rows held into one record batch and writes it. */
  private async flush(): Promise<void> {
    const length = this.rows;
    this.rows = 0;
    try {
      const children = this.columns.map((c) => c.finish());
      const data = makeData({ type: new Struct(this.arrowSchema.fields), length, nullCount: 0, children });
      this.writer.write(new RecordBatch(this.arrowSchema, data));
    } catch (err) {
      throw err instanceof AuditReplayError ? err : this.error(err as Error);
    }
    await this.send();
  }

  /** Hands the writer's bytes to `out`, waiting for 'drain' when it is full. */
  private async send(): Promise<void> {
    const chunks = this.collector.take();
    if (chunks.length === 0) return;
    this.throwIfFailed();
    if (this.out.destroyed) throw this.error(new Error('the output stream was closed'));
    // Corked, a file stream takes a batch's many small buffers in one writev.
    this.out.cork();
    let ok = true;
    for (const chunk of chunks) ok = this.out.write(chunk);
    this.out.uncork();
    if (ok) return;
    try {
      await drained(this.out);
    } catch (err) {
      throw this.error(err as Error);
    }
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure instanceof AuditReplayError ? this.failure : this.error(this.failure);
  }

  private error(cause: Error): AuditReplayError {
    return new AuditReplayError('sink-failed', `cannot write ${this.name}: ${cause.message}`, { cause });
  }
}

/** Resolves when the stream can take more; rejects when it fails or closes first. */
function drained(stream: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error): void => {
      stream.off('drain', onDrain);
      stream.off('error', onError);
      stream.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = (): void => done();
    const onError = (err: Error): void => done(err);
    const onClose = (): void => done(new Error('the output stream was closed'));
    stream.on('drain', onDrain);
    stream.on('error', onError);
    stream.on('close', onClose);
  });
}

/**
 * One column of the batch being built, in Arrow's own layout (values, validity bitmap),
 * so a full batch becomes Arrow data without copying. Rows are added a column at a time,
 * which keeps each loop on one property of same-shaped records. Each batch gets fresh
 * buffers: the finished one is still being written out.
 */
abstract class ColumnBuffer {
  protected validity = new Uint8Array(0);
  protected nullCount = 0;
  protected length = 0;

  /**
   * @param capacity rows the buffers hold at first; they double as needed
   * @param maxCapacity rows in a full batch
   */
  constructor(
    readonly column: Column,
    protected capacity: number,
    private readonly maxCapacity: number,
  ) {}

  /** Allocates the buffers; apart from the constructor, so subclasses' fields exist by then. */
  init(): this {
    this.validity = new Uint8Array((this.capacity + 7) >> 3);
    this.allocate(this.capacity);
    return this;
  }

  /** Adds this column's values of records[from…to). */
  appendRows(records: readonly Row[], from: number, to: number, name: string): void {
    const need = this.length + (to - from);
    if (need > this.capacity) this.grow(need);
    this.fill(records, from, to, name);
    this.length = need;
  }

  finish(): Data {
    const length = this.length;
    const data = this.makeData(length, this.nullCount > 0 ? this.validity.subarray(0, (length + 7) >> 3) : undefined);
    this.length = 0;
    this.nullCount = 0;
    this.init();
    return data;
  }

  /** Counts a null at `index`: its validity bit stays 0. */
  protected setNull(name: string): void {
    if (!this.column.nullable) {
      throw new AuditReplayError('sink-failed', `cannot write ${name}: column '${this.column.name}' is null but may not be`);
    }
    this.nullCount++;
  }

  protected setValid(index: number): void {
    this.validity[index >> 3]! |= 1 << (index & 7);
  }

  protected typeError(expected: string, v: unknown, name: string): AuditReplayError {
    const shown = typeof v === 'string' ? JSON.stringify(v.slice(0, 40)) : typeof v === 'bigint' ? `${v}n` : String(v);
    return new AuditReplayError('sink-failed', `cannot write ${name}: column '${this.column.name}' needs ${expected}, not ${typeof v} ${shown}`);
  }

  private grow(need: number): void {
    let capacity = this.capacity;
    while (capacity < need) capacity *= 2;
    capacity = Math.min(capacity, Math.max(this.maxCapacity, need));
    const validity = new Uint8Array((capacity + 7) >> 3);
    validity.set(this.validity);
    this.validity = validity;
    this.resize(capacity);
    this.capacity = capacity;
  }

  /** New, empty buffers for `capacity` rows. */
  protected abstract allocate(capacity: number): void;
  /** Larger buffers holding the rows so far. */
  protected abstract resize(capacity: number): void;
  /** Writes the values of records[from…to) from row `this.length` on; nulls through `setNull`. */
  protected abstract fill(records: readonly Row[], from: number, to: number, name: string): void;
  protected abstract makeData(length: number, nullBitmap: Uint8Array | undefined): Data;
}

/** 64-bit integers; the timestamp column shares the layout. */
abstract class Int64Layout extends ColumnBuffer {
  protected values = new BigInt64Array(0);
  /**
   * The same bytes as 32-bit words: a number is stored as its two halves, sparing a BigInt
   * allocation per value. Arrow data is little-endian, as typed arrays are on every
   * platform Node runs on.
   */
  protected words = new Uint32Array(0);

  protected allocate(capacity: number): void {
    this.values = new BigInt64Array(capacity);
    this.words = new Uint32Array(this.values.buffer);
  }
  protected resize(capacity: number): void {
    const values = new BigInt64Array(capacity);
    values.set(this.values);
    this.values = values;
    this.words = new Uint32Array(values.buffer);
  }
  /** Stores an integral number in (−2^63, 2^63) as two words. */
  protected setNumber(index: number, v: number): void {
    // `>>> 0` takes the value modulo 2^32, which for a negative value is its two's complement.
    this.words[2 * index] = v >>> 0;
    this.words[2 * index + 1] = Math.floor(v / 4294967296) >>> 0;
  }
}

class Int64Column extends Int64Layout {
  protected fill(records: readonly Row[], from: number, to: number, name: string): void {
    const key = this.column.name;
    for (let r = from, i = this.length; r < to; r++, i++) {
      const v = records[r]![key];
      if (typeof v === 'number' && Number.isInteger(v) && v >= -(2 ** 63) && v < 2 ** 63) {
        this.setValid(i);
        this.setNumber(i, v);
      } else if (v === null || v === undefined) {
        this.setNull(name);
      } else if (typeof v === 'bigint' && v >= INT64_MIN && v <= INT64_MAX) {
        this.setValid(i);
        this.values[i] = v;
      } else {
        throw this.typeError('a 64-bit integer', v, name);
      }
    }
  }
  protected makeData(length: number, nullBitmap: Uint8Array | undefined): Data {
    return makeData({ type: new Int64(), length, nullCount: this.nullCount, nullBitmap, data: this.values.subarray(0, length) });
  }
}

/** Timestamps as microseconds since the epoch: the in-memory milliseconds carry microsecond fractions. */
class TimestampColumn extends Int64Layout {
  protected fill(records: readonly Row[], from: number, to: number, name: string): void {
    const key = this.column.name;
    for (let r = from, i = this.length; r < to; r++, i++) {
      const v = records[r]![key];
      if (typeof v === 'number' && Math.abs(v) < 2 ** 53) {
        this.setValid(i);
        this.setNumber(i, Math.round(v * 1000));
      } else if (v === null || v === undefined) {
        this.setNull(name);
      } else {
        throw this.typeError('epoch milliseconds', v, name);
      }
    }
  }
  protected makeData(length: number, nullBitmap: Uint8Array | undefined): Data {
    return makeData({ type: new TimestampMicrosecond('UTC'), length, nullCount: this.nullCount, nullBitmap, data: this.values.subarray(0, length) });
  }
}

class Float64Column extends ColumnBuffer {
  private values = new Float64Array(0);

  protected allocate(capacity: number): void {
    this.values = new Float64Array(capacity);
  }
  protected resize(capacity: number): void {
    const values = new Float64Array(capacity);
    values.set(this.values);
    this.values = values;
  }
  protected fill(records: readonly Row[], from: number, to: number, name: string): void {
    const key = this.column.name;
    for (let r = from, i = this.length; r < to; r++, i++) {
      const v = records[r]![key];
      if (typeof v === 'number') {
        this.setValid(i);
        this.values[i] = v;
      } else if (v === null || v === undefined) {
        this.setNull(name);
      } else {
        throw this.typeError('a number', v, name);
      }
    }
  }
  protected makeData(length: number, nullBitmap: Uint8Array | undefined): Data {
    return makeData({ type: new Float64(), length, nullCount: this.nullCount, nullBitmap, data: this.values.subarray(0, length) });
  }
}

class BoolColumn extends ColumnBuffer {
  private values = new Uint8Array(0);

  protected allocate(capacity: number): void {
    this.values = new Uint8Array((capacity + 7) >> 3);
  }
  protected resize(capacity: number): void {
    const values = new Uint8Array((capacity + 7) >> 3);
    values.set(this.values);
    this.values = values;
  }
  protected fill(records: readonly Row[], from: number, to: number, name: string): void {
    const key = this.column.name;
    for (let r = from, i = this.length; r < to; r++, i++) {
      const v = records[r]![key];
      if (typeof v === 'boolean') {
        this.setValid(i);
        if (v) this.values[i >> 3]! |= 1 << (i & 7);
      } else if (v === null || v === undefined) {
        this.setNull(name);
      } else {
        throw this.typeError('a boolean', v, name);
      }
    }
  }
  protected makeData(length: number, nullBitmap: Uint8Array | undefined): Data {
    return makeData({ type: new Bool(), length, nullCount: this.nullCount, nullBitmap, data: this.values.subarray(0, (length + 7) >> 3) });
  }
}

/**
 * Strings, and JSON values as their JSON text. The texts of the rows being added are
 * prepared first (`prepare`), so a batch can be cut before its text outgrows int32 offsets.
 */
class Utf8Column extends ColumnBuffer {
  private offsets = new Int32Array(0);
  private bytes = Buffer.alloc(0);
  /** The same memory as a plain Uint8Array: storing bytes one by one into a Buffer is several times slower. */
  private view = new Uint8Array(0);
  private byteLength = 0;
  /** texts[k] is the text of row from+k of the rows being added. */
  private texts: (string | null)[] = [];

  protected allocate(capacity: number): void {
    this.offsets = new Int32Array(capacity + 1);
    // The next batch likely holds as much text as the last one.
    this.bytes = Buffer.allocUnsafeSlow(Math.max(this.byteLength, capacity * 16));
    this.view = new Uint8Array(this.bytes.buffer, this.bytes.byteOffset, this.bytes.length);
    this.byteLength = 0;
  }
  protected resize(capacity: number): void {
    const offsets = new Int32Array(capacity + 1);
    offsets.set(this.offsets);
    this.offsets = offsets;
  }

  /**
   * Turns the values of records[from…to) into text, and returns where the rows must stop
   * for this batch's text to stay under MAX_BATCH_TEXT_BYTES: `to`, or less. A batch that
   * is still empty always takes its first row.
   */
  prepare(records: readonly Row[], from: number, to: number, batchIsEmpty: boolean, name: string): number {
    const key = this.column.name;
    const json = this.column.type === 'json';
    // A UTF-16 code unit takes at most 3 bytes of UTF-8: a bound that needs no encoding.
    let bound = this.byteLength;
    for (let r = from; r < to; r++) {
      const v = records[r]![key];
      let text: string | null;
      if (v === null || v === undefined) text = null;
      else if (json) text = jsonText(v, this.column, name);
      else if (typeof v === 'string') text = v;
      else throw this.typeError('a string', v, name);
      if (text !== null) {
        bound += text.length * 3;
        if (bound > MAX_BATCH_TEXT_BYTES && !(batchIsEmpty && r === from)) return r;
      }
      this.texts[r - from] = text;
    }
    return to;
  }

  protected fill(_records: readonly Row[], from: number, to: number, name: string): void {
    const offsets = this.offsets;
    const texts = this.texts;
    let i = this.length;
    for (let k = 0; k < to - from; k++, i++) {
      const s = texts[k];
      if (s === null || s === undefined) this.setNull(name);
      else {
        this.setValid(i);
        this.put(s);
      }
      offsets[i + 1] = this.byteLength;
    }
    // Drop the references: they are the caller's strings.
    texts.length = 0;
  }

  private put(s: string): void {
    const n = s.length;
    const at = this.byteLength;
    if (at + n * 3 > this.bytes.length) {
      const bytes = Buffer.allocUnsafeSlow(Math.max(at + n * 3, Math.min(this.bytes.length * 2, MAX_BATCH_TEXT_BYTES)));
      this.bytes.copy(bytes, 0, 0, at);
      this.bytes = bytes;
      this.view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
    }
    if (n < 64) {
      // Short ASCII text copies faster by hand than through a native call.
      const view = this.view;
      let k = 0;
      for (; k < n; k++) {
        const c = s.charCodeAt(k);
        if (c >= 0x80) break;
        view[at + k] = c;
      }
      this.byteLength = k === n ? at + n : at + this.bytes.write(s, at, 'utf8');
    } else {
      this.byteLength = at + this.bytes.write(s, at, 'utf8');
    }
  }

  protected makeData(length: number, nullBitmap: Uint8Array | undefined): Data {
    return makeData({
      type: new Utf8(),
      length,
      nullCount: this.nullCount,
      nullBitmap,
      valueOffsets: this.offsets.subarray(0, length + 1),
      data: this.bytes.subarray(0, this.byteLength),
    });
  }
}

function makeColumn(column: Column, capacity: number, maxCapacity: number): ColumnBuffer {
  switch (column.type) {
    case 'string':
    case 'json':
      return new Utf8Column(column, capacity, maxCapacity).init();
    case 'int64':
      return new Int64Column(column, capacity, maxCapacity).init();
    case 'double':
      return new Float64Column(column, capacity, maxCapacity).init();
    case 'timestamp':
      return new TimestampColumn(column, capacity, maxCapacity).init();
    case 'boolean':
      return new BoolColumn(column, capacity, maxCapacity).init();
  }
}

/** JSON text of a value; a bigint inside is written as its digits, as JSON allows. */
function jsonText(v: unknown, column: Column, name: string): string {
  try {
    return JSON.stringify(v);
  } catch (err) {
    // JSON.stringify refuses bigints; the lossless form writes them as digits.
    try {
      const text = stringifyLossless(v);
      if (text !== undefined) return text;
    } catch {
      // Reported below with the first error, which names the problem.
    }
    throw new AuditReplayError('sink-failed', `cannot write ${name}: column '${column.name}' holds a value that is not JSON: ${(err as Error).message}`, { cause: err });
  }
}

// ---------------------------------------------------------------------------------------------
// Reading

/**
 * The records of an Arrow IPC file or stream, in order. Which form it is
 * comes from the bytes (a file starts with `ARROW1`), so either format reads either form.
 * A stream is read as it arrives; a file's footer (at its end) locates its batches, so it
 * is first copied to a temporary file and its batches read one at a time from there.
 */
async function* decodeArrow(input: Readable, schema: RecordSchema): AsyncGenerator<Row[]> {
  const name = nameOf(input, 'the Arrow input');
  const chunks = (input[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>);
  try {
    const head = await readHead(chunks, MAGIC.length);
    if (head.length === 0) throw new AuditReplayError('sink-failed', `cannot read ${name}: it is empty, not Arrow IPC`);
    async function* bytes(): AsyncGenerator<Uint8Array> {
      yield head;
      for (let next = await chunks.next(); !next.done; next = await chunks.next()) {
        yield typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
      }
    }
    if (head.subarray(0, MAGIC.length).equals(MAGIC)) yield* decodeFile(bytes(), schema, name);
    else yield* decodeStream(bytes(), schema, name);
  } catch (err) {
    throw err instanceof AuditReplayError ? err : new AuditReplayError('sink-failed', `cannot read ${name} as Arrow IPC: ${(err as Error).message}`, { cause: err });
  } finally {
    // Stops reading (and closes the input) when the consumer stops early.
    await chunks.return?.();
  }
}

/** At least `n` bytes from the start of the input, fewer only when it is shorter. */
async function readHead(chunks: AsyncIterator<Buffer | string>, n: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let length = 0;
  while (length < n) {
    const next = await chunks.next();
    if (next.done) break;
    const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    parts.push(chunk);
    length += chunk.length;
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

async function* decodeStream(bytes: AsyncIterable<Uint8Array>, schema: RecordSchema, name: string): AsyncGenerator<Row[]> {
  const reader = await RecordBatchReader.from(bytes);
  for await (const batch of reader) {
    yield* batchToRows(batch, schema, name);
  }
}

async function* decodeFile(bytes: AsyncIterable<Uint8Array>, schema: RecordSchema, name: string): AsyncGenerator<Row[]> {
  // apache-arrow reads a file from a stream only by loading it whole; from a file handle
  // it reads the footer, then each batch where the footer says it is.
  const dir = await mkdtemp(join(tmpdir(), 'auditreplay-arrow-'));
  try {
    const path = join(dir, 'input.arrow');
    await pipeline(Readable.from(bytes), createWriteStream(path));
    const handle = await open(path, 'r');
    try {
      const reader = await RecordBatchReader.from(handle);
      if (!reader.isFile()) throw new AuditReplayError('sink-failed', `cannot read ${name}: it starts as an Arrow IPC file but is too short to be one`);
      for await (const batch of reader) {
        yield* batchToRows(batch, schema, name);
      }
    } finally {
      await handle.close().catch(() => {});
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The records of one record batch, in arrays of at most DECODE_SLICE_ROWS: each column's
 * values read out of Arrow's buffers, then one record per row.
 */
function* batchToRows(batch: RecordBatch, schema: RecordSchema, name: string): Generator<Row[]> {
  // A record batch is one struct: each column is a single chunk of data.
  const chunks = schema.columns.map((column) => {
    const index = batch.schema.fields.findIndex((f) => f.name === column.name);
    if (index < 0 && !column.nullable) throw new AuditReplayError('sink-failed', `cannot read ${name}: it has no column '${column.name}'`);
    return index < 0 ? null : batch.data.children[index]!;
  });
  const columns = schema.columns.map(() => new Array<unknown>(0));
  for (let from = 0; from < batch.numRows; from += DECODE_SLICE_ROWS) {
    const to = Math.min(batch.numRows, from + DECODE_SLICE_ROWS);
    const n = to - from;
    schema.columns.forEach((column, k) => {
      const values = (columns[k] = new Array<unknown>(n));
      const data = chunks[k];
      if (data) readColumn(data, column, values, from, to);
      else values.fill(null);
    });
    const rows = new Array<Row>(n);
    for (let i = 0; i < n; i++) {
      const values: Row = {};
      for (let k = 0; k < columns.length; k++) values[schema.columns[k]!.name] = columns[k]![i];
      rows[i] = rowToRecord(values, schema);
    }
    yield rows;
  }
}

/**
 * Sets out[0…] to the values of rows from…to of one chunk of Arrow data, in the column's
 * in-memory form: straight from the buffers for the types written here, through Arrow's
 * `get` for others.
 */
function readColumn(data: Data, column: Column, out: unknown[], from: number, to: number): void {
  const { type } = data;
  if (DataType.isUtf8(type)) {
    readUtf8(data, column.type === 'json', out, from, to);
  } else if (DataType.isInt(type) && type.bitWidth === 64 && type.isSigned && column.type === 'int64') {
    readInt64(data, 1, out, from, to);
  } else if (DataType.isTimestamp(type) && column.type === 'timestamp') {
    readInt64(data, msDivisor((type as Timestamp).unit), out, from, to);
  } else if (DataType.isFloat(type) && type.precision === Precision.DOUBLE && column.type === 'double') {
    const values = data.values as Float64Array;
    for (let i = from; i < to; i++) out[i - from] = values[i];
  } else if (DataType.isBool(type) && column.type === 'boolean') {
    const values = data.values as Uint8Array;
    for (let i = from, bit = data.offset + from; i < to; i++, bit++) out[i - from] = (values[bit >> 3]! & (1 << (bit & 7))) !== 0;
  } else {
    // Another writer's types (LargeUtf8, Int32, Float32, …): Arrow's own accessor, then the column's type.
    const vector = makeVector(data);
    for (let i = from; i < to; i++) out[i - from] = fromArrowValue(vector.get(i), column);
  }
  if (data.nullCount > 0) {
    const bitmap = data.nullBitmap!;
    for (let i = from, bit = data.offset + from; i < to; i++, bit++) if ((bitmap[bit >> 3]! & (1 << (bit & 7))) === 0) out[i - from] = null;
  }
}

/**
 * Strings, or JSON values parsed from their text. A value equal to the row before's is
 * not decoded again: columns such as `runId` or `kind` repeat, and the records then share
 * one string.
 */
function readUtf8(data: Data, json: boolean, out: unknown[], from: number, to: number): void {
  const offsets = data.valueOffsets as Int32Array;
  const bytes = data.values as Uint8Array;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let prevStart = -1;
  let prevEnd = -1;
  let prev: unknown = null;
  for (let i = from; i < to; i++) {
    const a = offsets[i]!;
    const b = offsets[i + 1]!;
    if (!json && b - a === prevEnd - prevStart && sameBytes(bytes, prevStart, a, b - a)) {
      out[i - from] = prev;
      continue;
    }
    const text = buf.toString('utf8', a, b);
    prev = text;
    prevStart = a;
    prevEnd = b;
    // JSON values are objects a record may change: each record gets its own. No JSON text
    // is empty: that is a null's place.
    out[i - from] = !json ? text : a === b ? null : parseJson(text);
  }
}

function sameBytes(bytes: Uint8Array, a: number, b: number, n: number): boolean {
  for (let k = 0; k < n; k++) if (bytes[a + k] !== bytes[b + k]) return false;
  return true;
}

/**
 * 64-bit integers, as numbers when safe (int64Value's rule), else bigints; divided by
 * `perMs` for a timestamp. Read as two 32-bit words, sparing a BigInt per value.
 */
function readInt64(data: Data, perMs: number, out: unknown[], from: number, to: number): void {
  const values = data.values as BigInt64Array;
  const words = new Int32Array(values.buffer, values.byteOffset, values.length * 2);
  for (let i = from; i < to; i++) {
    // hi · 2^32 + lo is exact whenever the result is a safe integer.
    const v = words[2 * i + 1]! * 4294967296 + (words[2 * i]! >>> 0);
    if (perMs === 1) out[i - from] = Number.isSafeInteger(v) ? v : int64Value(values[i]!);
    else out[i - from] = (Number.isSafeInteger(v) ? v : Number(values[i]!)) / perMs;
  }
}

/** Units of the timestamp per millisecond. */
function msDivisor(unit: TimeUnit): number {
  switch (unit) {
    case TimeUnit.SECOND:
      return 1 / 1000;
    case TimeUnit.MILLISECOND:
      return 1;
    case TimeUnit.MICROSECOND:
      return 1000;
    case TimeUnit.NANOSECOND:
      return 1_000_000;
  }
}

function fromArrowValue(v: unknown, column: Column): unknown {
  if (v === null || v === undefined) return null;
  switch (column.type) {
    case 'int64':
      return typeof v === 'bigint' || typeof v === 'number' ? int64Value(typeof v === 'number' ? Math.trunc(v) : v) : v;
    case 'double':
    case 'timestamp':
      return typeof v === 'bigint' ? Number(v) : v instanceof Date ? v.getTime() : v;
    case 'json':
      return typeof v === 'string' ? parseJson(v) : v;
    default:
      return v;
  }
}

/** A JSON value from its text; a long integer comes back as a bigint. */
function parseJson(text: string): unknown {
  return LONG_DIGITS.test(text) ? parseLossless(text, undefined, numberOf) : JSON.parse(text);
}

function numberOf(text: string): number | bigint {
  return isSafeNumber(text) || !/^-?\d+$/.test(text) ? Number(text) : BigInt(text);
}

/** A stream's file name for messages, when it has one. */
function nameOf(stream: object, fallback: string): string {
  const path = (stream as { path?: unknown }).path;
  return typeof path === 'string' ? path : Buffer.isBuffer(path) ? path.toString() : fallback;
}
