import { createRequire } from 'node:module';
import * as zlib from 'node:zlib';

/**
 * A small Parquet writer for tests, built on parquetjs-lite's Thrift definitions. It
 * writes what parquetjs-lite's own writer cannot and real exports do: dictionary pages
 * with RLE_DICTIONARY indices (bit-packed and repeated runs, more than 256 entries),
 * INT96 timestamps, exact INT64 beyond 2^53, DECIMAL in fixed-length bytes, TIMESTAMP
 * logical types with any unit, footer version 2, any codec number.
 */
const require = createRequire(import.meta.url);
/* eslint-disable @typescript-eslint/no-explicit-any -- parquetjs-lite ships no types */
const thrift = require('parquetjs-lite/gen-nodejs/parquet_types.js') as any;
const util = require('parquetjs-lite/lib/util.js') as { serializeThrift(obj: unknown): Buffer };
const compression = require('parquetjs-lite/lib/compression.js') as { deflate(method: string, b: Buffer): Buffer };
/* eslint-enable @typescript-eslint/no-explicit-any */

export type Physical = 'BOOLEAN' | 'INT32' | 'INT64' | 'INT96' | 'DOUBLE' | 'BYTE_ARRAY' | 'FIXED_LEN_BYTE_ARRAY';
export type Cell = bigint | number | string | boolean | Buffer | null;

export interface RawColumn {
  name: string;
  type: Physical;
  typeLength?: number;
  optional?: boolean;
  /** parquet.thrift ConvertedType number (0 UTF8, 5 DECIMAL, 9 TIMESTAMP_MILLIS, 10 TIMESTAMP_MICROS). */
  convertedType?: number;
  scale?: number;
  precision?: number;
  /** `{ TIMESTAMP: 'ms' | 'us' | 'ns' }`, `{ DECIMAL: [scale, precision] }` or `{ STRING: true }`. */
  logical?: { TIMESTAMP?: 'ms' | 'us' | 'ns'; DECIMAL?: [number, number]; STRING?: true };
  /** Dictionary-encode the column (a dictionary page, then RLE_DICTIONARY indices). */
  dictionary?: boolean;
  values: Cell[];
}

export interface RawOptions {
  rowGroupSize: number;
  /** parquet.thrift CompressionCodec name; default UNCOMPRESSED. Bytes are left as they are for codecs parquetjs-lite cannot write. */
  codec?: 'UNCOMPRESSED' | 'SNAPPY' | 'GZIP' | 'BROTLI' | 'LZ4' | 'ZSTD';
  /** Data page version (default 1). */
  pageVersion?: 1 | 2;
  /** FileMetaData.version (default 2, as pyarrow writes). */
  version?: number;
  /** How dictionary indices are marked: RLE_DICTIONARY (pyarrow, default) or PLAIN_DICTIONARY (parquet-mr v1, Spark). */
  dictionaryEncoding?: 'RLE_DICTIONARY' | 'PLAIN_DICTIONARY';
}

const TYPES: Record<Physical, number> = { BOOLEAN: 0, INT32: 1, INT64: 2, INT96: 3, DOUBLE: 5, BYTE_ARRAY: 6, FIXED_LEN_BYTE_ARRAY: 7 };
const CODECS = { UNCOMPRESSED: 0, SNAPPY: 1, GZIP: 2, BROTLI: 4, LZ4: 5, ZSTD: 6 } as const;

/** Node's zstd (22.15+, 24), or undefined on Node 20. */
export const zstdCompressSync = (zlib as unknown as { zstdCompressSync?: (b: Buffer) => Buffer }).zstdCompressSync;

/** A whole Parquet file holding `columns` (all of the same length), in row groups of `rowGroupSize`. */
export function writeRawParquet(columns: RawColumn[], options: RawOptions): Buffer {
  const rows = columns[0]?.values.length ?? 0;
  const parts: Buffer[] = [Buffer.from('PAR1')];
  let offset = 4;
  const rowGroups: unknown[] = [];
  for (let from = 0; from < rows; from += options.rowGroupSize) {
    const to = Math.min(rows, from + options.rowGroupSize);
    const chunks: unknown[] = [];
    let groupBytes = 0;
    for (const column of columns) {
      const { bytes, meta } = columnChunk(column, column.values.slice(from, to), offset, options);
      parts.push(bytes);
      chunks.push(new thrift.ColumnChunk({ file_offset: offset, meta_data: meta }));
      offset += bytes.length;
      groupBytes += bytes.length;
    }
    rowGroups.push(new thrift.RowGroup({ columns: chunks, total_byte_size: groupBytes, num_rows: to - from }));
  }
  const schema = [
    new thrift.SchemaElement({ name: 'schema', num_children: columns.length }),
    ...columns.map(
      (c) =>
        new thrift.SchemaElement({
          name: c.name,
          type: TYPES[c.type],
          type_length: c.type === 'FIXED_LEN_BYTE_ARRAY' ? c.typeLength : undefined,
          repetition_type: c.optional ? 1 : 0,
          converted_type: c.convertedType,
          scale: c.scale,
          precision: c.precision,
          logicalType: c.logical ? logicalType(c.logical) : undefined,
        }),
    ),
  ];
  const footer = util.serializeThrift(
    new thrift.FileMetaData({ version: options.version ?? 2, schema, num_rows: rows, row_groups: rowGroups, created_by: 'auditreplay test writer' }),
  );
  const tail = Buffer.alloc(8);
  tail.writeUInt32LE(footer.length, 0);
  tail.write('PAR1', 4);
  return Buffer.concat([...parts, footer, tail]);
}

function logicalType(l: NonNullable<RawColumn['logical']>): unknown {
  if (l.TIMESTAMP) {
    const unit = new thrift.TimeUnit(l.TIMESTAMP === 'ms' ? { MILLIS: new thrift.MilliSeconds() } : l.TIMESTAMP === 'us' ? { MICROS: new thrift.MicroSeconds() } : {});
    return new thrift.LogicalType({ TIMESTAMP: new thrift.TimestampType({ isAdjustedToUTC: true, unit }) });
  }
  if (l.DECIMAL) return new thrift.LogicalType({ DECIMAL: new thrift.DecimalType({ scale: l.DECIMAL[0], precision: l.DECIMAL[1] }) });
  return new thrift.LogicalType({ STRING: new thrift.StringType() });
}

function columnChunk(column: RawColumn, values: Cell[], offset: number, options: RawOptions): { bytes: Buffer; meta: unknown } {
  const codec = options.codec ?? 'UNCOMPRESSED';
  const present = values.filter((v) => v !== null);
  const levels = column.optional ? values.map((v) => (v === null ? 0 : 1)) : null;
  const pages: Buffer[] = [];
  let dictionaryOffset: number | undefined;
  let valueBytes: Buffer;
  let encoding = 0;
  if (column.dictionary) {
    const entries: Cell[] = [];
    const index = new Map<string, number>();
    const indices = present.map((v) => {
      const key = Buffer.isBuffer(v) ? v.toString('hex') : String(v);
      let i = index.get(key);
      if (i === undefined) {
        i = entries.length;
        index.set(key, i);
        entries.push(v);
      }
      return i;
    });
    const dict = plain(column, entries);
    const packed = squeeze(codec, dict);
    const header = util.serializeThrift(
      new thrift.PageHeader({
        type: 2,
        uncompressed_page_size: dict.length,
        compressed_page_size: packed.length,
        dictionary_page_header: new thrift.DictionaryPageHeader({ num_values: entries.length, encoding: 2 }),
      }),
    );
    dictionaryOffset = offset;
    pages.push(header, packed);
    const bitWidth = Math.max(1, Math.ceil(Math.log2(entries.length + 1)));
    valueBytes = Buffer.concat([Buffer.from([bitWidth]), hybrid(indices, bitWidth)]);
    encoding = options.dictionaryEncoding === 'PLAIN_DICTIONARY' ? 2 : 8;
  } else {
    valueBytes = plain(column, present);
  }
  const dataOffset = offset + pages.reduce((n, b) => n + b.length, 0);
  if ((options.pageVersion ?? 1) === 1) {
    const levelBytes = levels ? withLength(hybrid(levels, 1)) : Buffer.alloc(0);
    const body = Buffer.concat([levelBytes, valueBytes]);
    const packed = squeeze(codec, body);
    pages.push(
      util.serializeThrift(
        new thrift.PageHeader({
          type: 0,
          uncompressed_page_size: body.length,
          compressed_page_size: packed.length,
          data_page_header: new thrift.DataPageHeader({ num_values: values.length, encoding, definition_level_encoding: 3, repetition_level_encoding: 3 }),
        }),
      ),
      packed,
    );
  } else {
    const levelBytes = levels ? hybrid(levels, 1) : Buffer.alloc(0);
    const packed = squeeze(codec, valueBytes);
    pages.push(
      util.serializeThrift(
        new thrift.PageHeader({
          type: 3,
          uncompressed_page_size: levelBytes.length + valueBytes.length,
          compressed_page_size: levelBytes.length + packed.length,
          data_page_header_v2: new thrift.DataPageHeaderV2({
            num_values: values.length,
            num_nulls: values.length - present.length,
            num_rows: values.length,
            encoding,
            definition_levels_byte_length: levelBytes.length,
            repetition_levels_byte_length: 0,
            is_compressed: codec !== 'UNCOMPRESSED',
          }),
        }),
      ),
      levelBytes,
      packed,
    );
  }
  const bytes = Buffer.concat(pages);
  const meta = new thrift.ColumnMetaData({
    type: TYPES[column.type],
    encodings: [0, 3, ...(column.dictionary ? [2, 8] : [])],
    path_in_schema: [column.name],
    codec: CODECS[codec],
    num_values: values.length,
    total_uncompressed_size: bytes.length,
    total_compressed_size: bytes.length,
    data_page_offset: dataOffset,
    dictionary_page_offset: dictionaryOffset,
  });
  return { bytes, meta };
}

function squeeze(codec: NonNullable<RawOptions['codec']>, body: Buffer): Buffer {
  if (codec === 'LZ4') return body;
  if (codec === 'BROTLI') return zlib.brotliCompressSync(body);
  if (codec === 'ZSTD') return zstdCompressSync ? zstdCompressSync(body) : body;
  return compression.deflate(codec, body);
}

function withLength(b: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32LE(b.length);
  return Buffer.concat([len, b]);
}

/** PLAIN encoding of non-null values. */
function plain(column: RawColumn, values: Cell[]): Buffer {
  const parts: Buffer[] = [];
  if (column.type === 'BOOLEAN') {
    const b = Buffer.alloc(Math.ceil(values.length / 8));
    values.forEach((v, i) => {
      if (v) b[i >> 3]! |= 1 << (i & 7);
    });
    return b;
  }
  for (const v of values) {
    switch (column.type) {
      case 'INT32': {
        const b = Buffer.alloc(4);
        b.writeInt32LE(Number(v));
        parts.push(b);
        break;
      }
      case 'INT64': {
        const b = Buffer.alloc(8);
        b.writeBigInt64LE(BigInt(v as bigint | number));
        parts.push(b);
        break;
      }
      case 'DOUBLE': {
        const b = Buffer.alloc(8);
        b.writeDoubleLE(Number(v));
        parts.push(b);
        break;
      }
      case 'BYTE_ARRAY': {
        const data = Buffer.isBuffer(v) ? v : Buffer.from(String(v));
        parts.push(withLength(data));
        break;
      }
      default:
        parts.push(v as Buffer);
    }
  }
  return Buffer.concat(parts);
}

/** The RLE / bit-packing hybrid: repeated runs for runs of 8 or more equal values, bit-packed groups of 8 otherwise. */
export function hybrid(values: number[], bitWidth: number): Buffer {
  const parts: Buffer[] = [];
  let i = 0;
  while (i < values.length) {
    let run = 1;
    while (i + run < values.length && values[i + run] === values[i]) run++;
    if (run >= 8 || i + run === values.length) {
      const value = Buffer.alloc(Math.ceil(bitWidth / 8));
      value.writeUIntLE(values[i]!, 0, value.length);
      parts.push(varint(run * 2), value);
      i += run;
      continue;
    }
    const group = values.slice(i, i + 8);
    const packed = Buffer.alloc(bitWidth);
    group.forEach((v, k) => {
      for (let b = 0; b < bitWidth; b++) if ((v >> b) & 1) packed[(k * bitWidth + b) >> 3]! |= 1 << ((k * bitWidth + b) & 7);
    });
    parts.push(varint(1 * 2 + 1), packed);
    i += group.length;
  }
  return Buffer.concat(parts);
}

function varint(n: number): Buffer {
  const bytes: number[] = [];
  while (n >= 0x80) {
    bytes.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  bytes.push(n);
  return Buffer.from(bytes);
}

/** An INT96 timestamp as Impala and Spark write it: nanoseconds of the day, then the Julian day. */
export function int96(ms: number): Buffer {
  const b = Buffer.alloc(12);
  const day = Math.floor(ms / 86_400_000);
  b.writeBigUInt64LE(BigInt(ms - day * 86_400_000) * 1_000_000n, 0);
  b.writeUInt32LE(day + 2_440_588, 8);
  return b;
}

/** A DECIMAL's unscaled value as big-endian two's complement in `length` bytes. */
export function decimalBytes(unscaled: bigint, length: number): Buffer {
  const b = Buffer.alloc(length);
  let v = unscaled < 0n ? (1n << BigInt(length * 8)) + unscaled : unscaled;
  for (let i = length - 1; i >= 0; i--) {
    b[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return b;
}
