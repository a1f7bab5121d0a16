import * as zlib from 'node:zlib';
import { ParquetFormatError, ParquetUnsupportedError, errorText, toSafeInt, type LeafColumn } from './parquet-footer.js';
import { decodePageHeader, decodePlain, inflateSnappy, type CodecCursor, type ThriftColumnChunk } from './parquetjs-lite.js';

/** One decoded cell: bigint for INT64, Buffer for INT96 and fixed-length bytes, string for text. */
export type CellValue = string | number | bigint | boolean | Buffer | null;

/** Where a column chunk lies in the file. */
export interface ChunkRange {
  start: number;
  length: number;
}

const CODECS = ['UNCOMPRESSED', 'SNAPPY', 'GZIP', 'LZO', 'BROTLI', 'LZ4', 'ZSTD', 'LZ4_RAW'];
const ENCODINGS = ['PLAIN', 'GROUP_VAR_INT', 'PLAIN_DICTIONARY', 'RLE', 'BIT_PACKED', 'DELTA_BINARY_PACKED', 'DELTA_LENGTH_BYTE_ARRAY', 'DELTA_BYTE_ARRAY', 'RLE_DICTIONARY', 'BYTE_STREAM_SPLIT'];
const PLAIN = 0;
const PLAIN_DICTIONARY = 2;
const RLE = 3;
const RLE_DICTIONARY = 8;
/** A page bigger than this when inflated is refused, so garbage sizes cannot exhaust memory. */
const MAX_PAGE_BYTES = 512 * 1024 * 1024;

type ZstdDecompress = (buf: Buffer, options: { maxOutputLength: number }) => Buffer;
// Node 22.15+ and 24 have zstd; on Node 20 ZSTD files are refused with a clear message.
const zstdDecompressSync = (zlib as unknown as { zstdDecompressSync?: ZstdDecompress }).zstdDecompressSync;

/** Checks a chunk's metadata against the file and returns the byte range its pages occupy. */
export function chunkRange(chunk: ThriftColumnChunk | undefined, column: LeafColumn, dataEnd: number): ChunkRange {
  const md = chunk?.meta_data;
  if (!md) throw new ParquetFormatError(`column ${column.name} has no chunk metadata`);
  if (chunk.file_path !== null && String(chunk.file_path) !== '') {
    throw new ParquetUnsupportedError(`column ${column.name} is stored in another file (${String(chunk.file_path)})`);
  }
  const data = toSafeInt(md.data_page_offset ?? -1, 'data page offset');
  const dict = md.dictionary_page_offset === null ? 0 : toSafeInt(md.dictionary_page_offset, 'dictionary page offset');
  // Some writers put 0 here for "no dictionary": a real dictionary page always precedes the data pages.
  const start = dict > 0 && dict < data ? dict : data;
  const length = toSafeInt(md.total_compressed_size ?? -1, 'column chunk size');
  if (start < 4 || start + length > dataEnd) {
    throw new ParquetFormatError(`column ${column.name}: chunk at bytes ${start}+${length} lies outside the data of the file`);
  }
  return { start, length };
}

/**
 * Decodes the pages of one column chunk of a flat column into one cell per row (null
 * where the column is null). Handles v1 and v2 data pages, dictionary pages (PLAIN_
 * and RLE_DICTIONARY) and the codecs Node and parquetjs-lite have.
 */
export function decodeColumnChunk(buf: Buffer, chunk: ThriftColumnChunk, column: LeafColumn, rows: number): CellValue[] {
  const md = chunk.meta_data!;
  const codec = CODECS[md.codec ?? -1] ?? `codec ${String(md.codec)}`;
  const out: CellValue[] = new Array<CellValue>(rows);
  let filled = 0;
  let dictionary: CellValue[] | null = null;
  let pos = 0;
  while (filled < rows) {
    if (pos >= buf.length) throw new ParquetFormatError(`column ${column.name} ends after ${filled} of ${rows} values`);
    let decoded;
    try {
      decoded = decodePageHeader(buf, pos);
    } catch (err) {
      throw new ParquetFormatError(`column ${column.name}: page header at chunk byte ${pos} cannot be decoded: ${errorText(err)}`);
    }
    const { header } = decoded;
    pos += decoded.length;
    const size = header.compressed_page_size ?? -1;
    const fullSize = header.uncompressed_page_size ?? -1;
    if (size < 0 || pos + size > buf.length || fullSize < 0 || fullSize > MAX_PAGE_BYTES) {
      throw new ParquetFormatError(`column ${column.name}: page at chunk byte ${pos} has impossible sizes (${size}, ${fullSize})`);
    }
    const body = buf.subarray(pos, pos + size);
    pos += size;
    switch (header.type) {
      case 2: {
        const dh = header.dictionary_page_header;
        const n = dh?.num_values ?? -1;
        if (n < 0) throw new ParquetFormatError(`column ${column.name}: dictionary page without a value count`);
        const bytes = inflate(codec, body, fullSize, column);
        dictionary = readPlain(column, { buffer: bytes, offset: 0 }, n);
        break;
      }
      case 0: {
        const dh = header.data_page_header;
        const n = dh?.num_values ?? -1;
        if (!dh || n < 0 || n > rows - filled) throw new ParquetFormatError(`column ${column.name}: data page holds ${n} values where ${rows - filled} remain`);
        const bytes = inflate(codec, body, fullSize, column);
        const cursor: CodecCursor = { buffer: bytes, offset: 0 };
        let levels: Uint32Array | null = null;
        if (column.maxDefinition > 0) {
          if (dh.definition_level_encoding !== RLE) throw unsupportedEncoding(column, dh.definition_level_encoding, 'definition levels');
          const len = readUInt32(cursor, column);
          levels = readHybrid(bytes, cursor.offset, cursor.offset + len, 1, n, column);
          cursor.offset += len;
        }
        filled = scatter(out, filled, n, levels, readValues(column, dh.encoding ?? -1, cursor, countDefined(levels, n), dictionary));
        break;
      }
      case 3: {
        const dh = header.data_page_header_v2;
        const n = dh?.num_values ?? -1;
        if (!dh || n < 0 || n > rows - filled) throw new ParquetFormatError(`column ${column.name}: data page holds ${n} values where ${rows - filled} remain`);
        const repLength = dh.repetition_levels_byte_length ?? 0;
        const defLength = dh.definition_levels_byte_length ?? 0;
        if (repLength < 0 || defLength < 0 || repLength + defLength > body.length) {
          throw new ParquetFormatError(`column ${column.name}: data page levels overrun the page`);
        }
        const levels = column.maxDefinition > 0 ? readHybrid(body, repLength, repLength + defLength, 1, n, column) : null;
        const valueBytes = body.subarray(repLength + defLength);
        const bytes = dh.is_compressed === false ? valueBytes : inflate(codec, valueBytes, fullSize - repLength - defLength, column);
        const cursor: CodecCursor = { buffer: bytes, offset: 0 };
        filled = scatter(out, filled, n, levels, readValues(column, dh.encoding ?? -1, cursor, countDefined(levels, n), dictionary));
        break;
      }
      case 1:
        break; // index pages carry nothing a reader needs
      default:
        throw new ParquetFormatError(`column ${column.name}: unknown page type ${String(header.type)}`);
    }
  }
  return out;
}

function inflate(codec: string, body: Buffer, size: number, column: LeafColumn): Buffer {
  if (size < 0) throw new ParquetFormatError(`column ${column.name}: page with a negative inflated size`);
  let out: Buffer;
  try {
    switch (codec) {
      case 'UNCOMPRESSED':
        return body;
      case 'SNAPPY':
        // snappyjs allocates what the stream's own length prefix claims: check it first.
        if (snappyLength(body) !== size) throw new Error(`snappy length ${String(snappyLength(body))} differs from the page's ${size}`);
        out = inflateSnappy(body);
        break;
      case 'GZIP':
        out = zlib.unzipSync(body, { maxOutputLength: Math.max(size, 1) });
        break;
      case 'BROTLI':
        out = zlib.brotliDecompressSync(body, { maxOutputLength: Math.max(size, 1) });
        break;
      case 'ZSTD':
        if (!zstdDecompressSync) throw new ParquetUnsupportedError(`column ${column.name} is ZSTD-compressed, which needs Node.js 22.15 or later`);
        out = zstdDecompressSync(body, { maxOutputLength: Math.max(size, 1) });
        break;
      default:
        throw new ParquetUnsupportedError(`column ${column.name} is ${codec}-compressed, which this reader cannot inflate (SNAPPY, GZIP, BROTLI and ZSTD can be read)`);
    }
  } catch (err) {
    if (err instanceof ParquetUnsupportedError) throw err;
    throw new ParquetFormatError(`column ${column.name}: ${codec} page cannot be inflated: ${errorText(err)}`);
  }
  if (out.length !== size) throw new ParquetFormatError(`column ${column.name}: page inflates to ${out.length} bytes, not ${size}`);
  return out;
}

function snappyLength(buf: Buffer): number {
  let n = 0;
  for (let i = 0, shift = 1; i < 5 && i < buf.length; i++, shift *= 128) {
    const b = buf[i]!;
    n += (b & 0x7f) * shift;
    if (b < 0x80) return n;
  }
  return -1;
}

function readValues(column: LeafColumn, encoding: number, cursor: CodecCursor, count: number, dictionary: CellValue[] | null): CellValue[] {
  if (encoding === PLAIN) return readPlain(column, cursor, count);
  if (encoding === PLAIN_DICTIONARY || encoding === RLE_DICTIONARY) {
    if (!dictionary) throw new ParquetFormatError(`column ${column.name}: dictionary-encoded page without a dictionary`);
    const bitWidth = cursor.buffer[cursor.offset];
    if (bitWidth === undefined && count > 0) throw new ParquetFormatError(`column ${column.name}: dictionary page is empty`);
    const indices = count === 0 ? new Uint32Array(0) : readHybrid(cursor.buffer, cursor.offset + 1, cursor.buffer.length, bitWidth!, count, column);
    const values = new Array<CellValue>(count);
    for (let i = 0; i < count; i++) {
      const v = dictionary[indices[i]!];
      if (v === undefined) throw new ParquetFormatError(`column ${column.name}: dictionary index ${indices[i]} beyond its ${dictionary.length} entries`);
      values[i] = v;
    }
    return values;
  }
  if (encoding === RLE && column.physical === 'BOOLEAN') {
    const len = readUInt32(cursor, column);
    const bits = readHybrid(cursor.buffer, cursor.offset, cursor.offset + len, 1, count, column);
    const values = new Array<CellValue>(count);
    for (let i = 0; i < count; i++) values[i] = bits[i] === 1;
    return values;
  }
  throw unsupportedEncoding(column, encoding, 'values');
}

function readPlain(column: LeafColumn, cursor: CodecCursor, count: number): CellValue[] {
  const buf = cursor.buffer;
  if (column.physical === 'BYTE_ARRAY') {
    const values = new Array<CellValue>(count);
    let p = cursor.offset;
    for (let i = 0; i < count; i++) {
      if (p + 4 > buf.length) throw new ParquetFormatError(`column ${column.name}: values end after ${i} of ${count}`);
      const len = buf.readUInt32LE(p);
      p += 4;
      if (p + len > buf.length) throw new ParquetFormatError(`column ${column.name}: value ${i} overruns its page`);
      values[i] = column.text ? buf.toString('utf8', p, p + len) : buf.subarray(p, p + len);
      p += len;
    }
    cursor.offset = p;
    return values;
  }
  const width = plainWidth(column);
  // Checked before decoding: parquetjs-lite's codec slices past the end without complaint.
  if (count < 0 || cursor.offset + Math.ceil(count * width) > buf.length) {
    throw new ParquetFormatError(`column ${column.name}: ${count} values do not fit in their page`);
  }
  if (column.physical === 'INT96') return decodePlain('FIXED_LEN_BYTE_ARRAY', cursor, count, 12) as CellValue[];
  return decodePlain(column.physical, cursor, count, column.typeLength) as CellValue[];
}

function plainWidth(column: LeafColumn): number {
  switch (column.physical) {
    case 'BOOLEAN':
      return 1 / 8;
    case 'INT32':
    case 'FLOAT':
      return 4;
    case 'INT64':
    case 'DOUBLE':
      return 8;
    case 'INT96':
      return 12;
    case 'FIXED_LEN_BYTE_ARRAY':
      if (column.typeLength <= 0) throw new ParquetFormatError(`column ${column.name}: fixed-length bytes of length ${column.typeLength}`);
      return column.typeLength;
    default:
      return 4;
  }
}

function readUInt32(cursor: CodecCursor, column: LeafColumn): number {
  if (cursor.offset + 4 > cursor.buffer.length) throw new ParquetFormatError(`column ${column.name}: page ends inside its levels`);
  const n = cursor.buffer.readUInt32LE(cursor.offset);
  cursor.offset += 4;
  if (cursor.offset + n > cursor.buffer.length) throw new ParquetFormatError(`column ${column.name}: levels overrun their page`);
  return n;
}

function countDefined(levels: Uint32Array | null, n: number): number {
  if (levels === null) return n;
  let k = 0;
  for (let i = 0; i < n; i++) k += levels[i]!;
  return k;
}

function scatter(out: CellValue[], at: number, n: number, levels: Uint32Array | null, values: CellValue[]): number {
  if (levels === null) {
    for (let i = 0; i < n; i++) out[at + i] = values[i]!;
  } else {
    let k = 0;
    for (let i = 0; i < n; i++) out[at + i] = levels[i] === 1 ? values[k++]! : null;
  }
  return at + n;
}

/**
 * Reads `count` values of the RLE / bit-packing hybrid (definition levels, dictionary
 * indices) from `buf[pos, end)`. Bit-packed runs are little-endian bit order; a
 * repeated run's value takes ceil(bitWidth / 8) little-endian bytes.
 */
export function readHybrid(buf: Buffer, pos: number, end: number, bitWidth: number, count: number, column: LeafColumn): Uint32Array {
  if (bitWidth < 0 || bitWidth > 32) throw new ParquetFormatError(`column ${column.name}: RLE bit width ${bitWidth}`);
  const out = new Uint32Array(count);
  const valueBytes = (bitWidth + 7) >> 3;
  let n = 0;
  while (n < count) {
    if (pos >= end) throw new ParquetFormatError(`column ${column.name}: RLE data ends after ${n} of ${count} values`);
    let header = 0;
    for (let shift = 1, i = 0; ; i++, shift *= 128) {
      if (pos >= end || i === 5) throw new ParquetFormatError(`column ${column.name}: bad RLE run header`);
      const b = buf[pos++]!;
      header += (b & 0x7f) * shift;
      if (b < 0x80) break;
    }
    const run = Math.floor(header / 2);
    if (header % 2 === 1) {
      const values = run * 8;
      const take = Math.min(values, count - n);
      const bytes = run * bitWidth;
      if (pos + Math.ceil((take * bitWidth) / 8) > end) throw new ParquetFormatError(`column ${column.name}: bit-packed run overruns its data`);
      if (bitWidth <= 24) {
        let acc = 0;
        let bits = 0;
        let p = pos;
        const mask = (1 << bitWidth) - 1;
        for (let i = 0; i < take; i++) {
          while (bits < bitWidth) {
            acc |= buf[p++]! << bits;
            bits += 8;
          }
          out[n + i] = acc & mask;
          acc >>>= bitWidth;
          bits -= bitWidth;
        }
      } else {
        for (let i = 0; i < take; i++) out[n + i] = readBitsWide(buf, pos, i * bitWidth, bitWidth);
      }
      pos += bytes;
      n += take;
    } else {
      if (pos + valueBytes > end) throw new ParquetFormatError(`column ${column.name}: RLE run overruns its data`);
      let value = 0;
      for (let i = 0, scale = 1; i < valueBytes; i++, scale *= 256) value += buf[pos + i]! * scale;
      pos += valueBytes;
      const take = Math.min(run, count - n);
      out.fill(value, n, n + take);
      n += take;
    }
  }
  return out;
}

function readBitsWide(buf: Buffer, base: number, bitOffset: number, bitWidth: number): number {
  let value = 0;
  for (let b = 0, scale = 1; b < bitWidth; b++, scale *= 2) {
    const bit = bitOffset + b;
    if ((buf[base + (bit >> 3)]! >> (bit & 7)) & 1) value += scale;
  }
  return value;
}

function unsupportedEncoding(column: LeafColumn, encoding: number | null, what: string): ParquetUnsupportedError {
  const name = ENCODINGS[encoding ?? -1] ?? `encoding ${String(encoding)}`;
  return new ParquetUnsupportedError(`column ${column.name}: ${what} use ${name}, which this reader cannot decode`);
}
