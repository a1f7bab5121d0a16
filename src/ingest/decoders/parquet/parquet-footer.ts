import type { RandomAccessFile } from '../../decoder.js';
import { decodeFileMetaData, type ThriftI64, type ThriftRowGroup, type ThriftSchemaElement } from './parquetjs-lite.js';

export type PhysicalType = 'BOOLEAN' | 'INT32' | 'INT64' | 'INT96' | 'FLOAT' | 'DOUBLE' | 'BYTE_ARRAY' | 'FIXED_LEN_BYTE_ARRAY';
const PHYSICAL: readonly PhysicalType[] = ['BOOLEAN', 'INT32', 'INT64', 'INT96', 'FLOAT', 'DOUBLE', 'BYTE_ARRAY', 'FIXED_LEN_BYTE_ARRAY'];

/** How a column's values stand for a point in time, where they do. */
export type TimeEncoding = 'ms' | 'us' | 'ns' | 'int96' | 'date';

/** A leaf column of the file's schema. */
export interface LeafColumn {
  /** Its name; dotted path for a column inside a group. */
  name: string;
  /** Position among the leaves: the index of its chunk in every row group. */
  leaf: number;
  physical: PhysicalType;
  typeLength: number;
  /** 1 when the column may hold nulls. */
  maxDefinition: 0 | 1;
  /** Inside a group or repeated: such columns are listed but cannot be mapped. */
  nested: boolean;
  time: TimeEncoding | null;
  /** Scale of a DECIMAL column, else null. */
  decimalScale: number | null;
  /** BYTE_ARRAY read as UTF-8 text (every BYTE_ARRAY but DECIMAL and BSON). */
  text: boolean;
  unsigned: boolean;
}

export interface ParquetFooter {
  columns: LeafColumn[];
  rowGroups: ThriftRowGroup[];
  /** Where the footer starts: no column chunk may reach past it. */
  dataEnd: number;
}

/** A Parquet file's structure is wrong: the object is not (or no longer) a readable Parquet file. */
export class ParquetFormatError extends Error {
  override readonly name = 'ParquetFormatError';
}

/** The file uses a feature this reader lacks (a codec, an encoding): readable by other tools. */
export class ParquetUnsupportedError extends Error {
  override readonly name = 'ParquetUnsupportedError';
}

const MAGIC = 0x31524150; // 'PAR1' read as a little-endian uint32
/** The footer is fetched with the last bytes in one read when it is shorter than this. */
const TAIL_READ = 64 * 1024;
/** Rows held at once; a bigger row group is refused rather than exhausting memory. */
export const MAX_ROWS_PER_GROUP = 1 << 25;

/**
 * Reads and checks the footer: the magic bytes at both ends, the FileMetaData, the
 * schema's leaf columns. Throws ParquetFormatError when the bytes are not Parquet.
 */
export async function readFooter(file: RandomAccessFile): Promise<ParquetFooter> {
  const size = file.size;
  if (size < 12) throw new ParquetFormatError(`${size} bytes is too short for a Parquet file`);
  const head = await file.read(0, 4);
  if (head.readUInt32LE(0) !== MAGIC) throw new ParquetFormatError('does not start with the Parquet magic bytes PAR1');
  const tailLength = Math.min(size, TAIL_READ);
  const tail = await file.read(size - tailLength, tailLength);
  if (tail.readUInt32LE(tailLength - 4) !== MAGIC) {
    throw new ParquetFormatError('does not end with the Parquet magic bytes PAR1 (truncated, or still being written)');
  }
  const metaLength = tail.readUInt32LE(tailLength - 8);
  if (metaLength > size - 12) throw new ParquetFormatError(`footer length ${metaLength} does not fit in a file of ${size} bytes`);
  const metaStart = size - 8 - metaLength;
  const metaBuf = metaLength + 8 <= tailLength ? tail.subarray(tailLength - 8 - metaLength, tailLength - 8) : await file.read(metaStart, metaLength);
  let md;
  try {
    md = decodeFileMetaData(metaBuf);
  } catch (err) {
    throw new ParquetFormatError(`footer cannot be decoded: ${errorText(err)}`);
  }
  if (!Array.isArray(md.schema) || md.schema.length < 1) throw new ParquetFormatError('footer holds no schema');
  const rowGroups = Array.isArray(md.row_groups) ? md.row_groups : [];
  return {
    columns: leafColumns(md.schema),
    rowGroups,
    dataEnd: metaStart,
  };
}

/** Flattens the schema (stored depth-first, each group followed by its children) into its leaves. */
function leafColumns(schema: ThriftSchemaElement[]): LeafColumn[] {
  const leaves: LeafColumn[] = [];
  // Each open group: its path and how many children it still expects.
  const stack: { path: string[]; left: number; repeated: boolean }[] = [];
  const root = schema[0]!;
  stack.push({ path: [], left: root.num_children ?? 0, repeated: false });
  for (let i = 1; i < schema.length; i++) {
    while (stack.length > 0 && stack[stack.length - 1]!.left === 0) stack.pop();
    const parent = stack[stack.length - 1];
    if (!parent) throw new ParquetFormatError('schema has more elements than its groups declare');
    parent.left--;
    const el = schema[i]!;
    const name = el.name === null ? `_${i}` : String(el.name);
    const repeated = el.repetition_type === 2 || parent.repeated;
    const path = [...parent.path, name];
    if ((el.num_children ?? 0) > 0) {
      stack.push({ path, left: el.num_children!, repeated });
      continue;
    }
    const physical = el.type === null ? undefined : PHYSICAL[el.type];
    if (!physical) throw new ParquetFormatError(`column ${path.join('.')} has no valid physical type`);
    leaves.push({
      name: path.join('.'),
      leaf: leaves.length,
      physical,
      typeLength: el.type_length ?? 0,
      maxDefinition: el.repetition_type === 1 ? 1 : 0,
      nested: path.length > 1 || repeated,
      time: timeEncoding(el, physical),
      decimalScale: decimalScale(el),
      text: physical === 'BYTE_ARRAY' && decimalScale(el) === null && el.converted_type !== 20 && el.logicalType?.BSON == null,
      unsigned: el.converted_type === 14 || el.converted_type === 13,
    });
  }
  return leaves;
}

// ConvertedType numbers of parquet.thrift.
const DATE = 6;
const TIMESTAMP_MILLIS = 9;
const TIMESTAMP_MICROS = 10;
const DECIMAL = 5;

function timeEncoding(el: ThriftSchemaElement, physical: PhysicalType): TimeEncoding | null {
  if (physical === 'INT96') return 'int96';
  const ts = el.logicalType?.TIMESTAMP;
  if (ts) {
    if (ts.unit?.MILLIS) return 'ms';
    if (ts.unit?.MICROS) return 'us';
    // parquetjs-lite's Thrift definitions predate NANOS: a TIMESTAMP with neither known unit is one.
    return 'ns';
  }
  if (el.converted_type === TIMESTAMP_MILLIS) return 'ms';
  if (el.converted_type === TIMESTAMP_MICROS) return 'us';
  if (el.converted_type === DATE || el.logicalType?.DATE) return 'date';
  return null;
}

function decimalScale(el: ThriftSchemaElement): number | null {
  const logical = el.logicalType?.DECIMAL;
  if (logical) return logical.scale ?? 0;
  if (el.converted_type === DECIMAL) return el.scale ?? 0;
  return null;
}

/** A Thrift i64 as a safe integer; a negative or huge one means the footer is garbage. */
export function toSafeInt(value: ThriftI64, what: string): number {
  const n = typeof value === 'number' ? value : Number(value.valueOf());
  if (!Number.isSafeInteger(n) || n < 0) throw new ParquetFormatError(`footer has an impossible ${what} (${String(n)})`);
  return n;
}

/** The message of anything thrown, including the strings parquetjs-lite throws. */
export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}
