import { createRequire } from 'node:module';

/**
 * The parts of parquetjs-lite (0.8.x, CommonJS, no type declarations) this decoder
 * uses: its Thrift definitions of the footer and page headers, its Thrift decoder,
 * its PLAIN value codec and its Snappy/GZIP inflation. Page, level and dictionary
 * decoding are ours (parquet-column.ts): the library's own column reader mangles
 * dictionary values, misreads RLE runs wider than 8 bits, drops the day of INT96
 * timestamps and rejects files whose footer says version 2.
 */
const require = createRequire(import.meta.url);

/** A Thrift i64 as parquetjs-lite's Thrift decoder returns it (node-int64), or a plain number. */
export type ThriftI64 = number | { valueOf(): number };

export interface ThriftTimeUnit {
  MILLIS: object | null;
  MICROS: object | null;
}

export interface ThriftLogicalType {
  STRING: object | null;
  ENUM: object | null;
  JSON: object | null;
  BSON: object | null;
  DATE: object | null;
  DECIMAL: { scale: number | null; precision: number | null } | null;
  TIMESTAMP: { isAdjustedToUTC: boolean | null; unit: ThriftTimeUnit | null } | null;
}

export interface ThriftSchemaElement {
  type: number | null;
  type_length: number | null;
  repetition_type: number | null;
  name: string | Buffer | null;
  num_children: number | null;
  converted_type: number | null;
  scale: number | null;
  precision: number | null;
  logicalType: ThriftLogicalType | null;
}

export interface ThriftColumnMetaData {
  type: number | null;
  path_in_schema: (string | Buffer)[] | null;
  codec: number | null;
  num_values: ThriftI64 | null;
  total_compressed_size: ThriftI64 | null;
  data_page_offset: ThriftI64 | null;
  dictionary_page_offset: ThriftI64 | null;
}

export interface ThriftColumnChunk {
  file_path: string | Buffer | null;
  meta_data: ThriftColumnMetaData | null;
}

export interface ThriftRowGroup {
  columns: ThriftColumnChunk[] | null;
  num_rows: ThriftI64 | null;
}

export interface ThriftFileMetaData {
  version: number | null;
  schema: ThriftSchemaElement[] | null;
  num_rows: ThriftI64 | null;
  row_groups: ThriftRowGroup[] | null;
  created_by: string | Buffer | null;
}

export interface ThriftPageHeader {
  type: number | null;
  uncompressed_page_size: number | null;
  compressed_page_size: number | null;
  data_page_header: {
    num_values: number | null;
    encoding: number | null;
    definition_level_encoding: number | null;
    repetition_level_encoding: number | null;
  } | null;
  dictionary_page_header: { num_values: number | null; encoding: number | null } | null;
  data_page_header_v2: {
    num_values: number | null;
    num_nulls: number | null;
    num_rows: number | null;
    encoding: number | null;
    definition_levels_byte_length: number | null;
    repetition_levels_byte_length: number | null;
    is_compressed: boolean | null;
  } | null;
}

interface ParquetTypes {
  FileMetaData: new () => ThriftFileMetaData;
  PageHeader: new () => ThriftPageHeader;
}

interface ParquetUtil {
  decodeThrift(obj: object, buf: Buffer, offset?: number): number;
}

/** A read position over a buffer, as parquetjs-lite's codecs take it. */
export interface CodecCursor {
  buffer: Buffer;
  offset: number;
}

interface PlainCodec {
  decodeValues(type: string, cursor: CodecCursor, count: number, opts: { typeLength?: number }): unknown[];
}

interface Compression {
  inflate(method: string, value: Buffer): Buffer;
}

const types = require('parquetjs-lite/gen-nodejs/parquet_types.js') as ParquetTypes;
const util = require('parquetjs-lite/lib/util.js') as ParquetUtil;
const plain = require('parquetjs-lite/lib/codec/plain.js') as PlainCodec;
const compression = require('parquetjs-lite/lib/compression.js') as Compression;

/** Decodes a Thrift compact-protocol FileMetaData (the footer). */
export function decodeFileMetaData(buf: Buffer): ThriftFileMetaData {
  const md = new types.FileMetaData();
  util.decodeThrift(md, buf);
  return md;
}

/** Decodes the page header at `offset`; returns it and its length in bytes. */
export function decodePageHeader(buf: Buffer, offset: number): { header: ThriftPageHeader; length: number } {
  const header = new types.PageHeader();
  const length = util.decodeThrift(header, buf, offset);
  return { header, length };
}

/** PLAIN-encoded values of a fixed-width physical type (INT64 as bigint, FIXED_LEN_BYTE_ARRAY as Buffers). */
export function decodePlain(type: string, cursor: CodecCursor, count: number, typeLength?: number): unknown[] {
  return plain.decodeValues(type, cursor, count, typeLength === undefined ? {} : { typeLength });
}

/** Snappy, parquetjs-lite's one codec that Node's zlib lacks. */
export function inflateSnappy(buf: Buffer): Buffer {
  return compression.inflate('SNAPPY', buf);
}
