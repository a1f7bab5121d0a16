import type { BaseEvent, RejectReason } from '../../../core/audit-event.js';
import type { DecodeSink, DecoderOptions, ObjectDecoder, RandomAccessFile } from '../../decoder.js';
import type { ObjectRef } from '../../source.js';
import { fieldMapping, resolveMapping, type Field, type Mapping } from './column-mapping.js';
import { chunkRange, decodeColumnChunk, type CellValue } from './parquet-column.js';
import {
  MAX_ROWS_PER_GROUP,
  ParquetFormatError,
  ParquetUnsupportedError,
  errorText,
  readFooter,
  toSafeInt,
  type LeafColumn,
  type ParquetFooter,
} from './parquet-footer.js';
import type { ThriftRowGroup } from './parquetjs-lite.js';
import { jsonOf, numberOf, statusOf, textOf, timeOf, type Converter } from './parquet-values.js';

/** Events are handed on at least this often within a row group, so a big group is not one huge batch. */
const ROWS_PER_BATCH = 8192;
const PHYSICAL_CODES = ['BOOLEAN', 'INT32', 'INT64', 'INT96', 'FLOAT', 'DOUBLE', 'BYTE_ARRAY', 'FIXED_LEN_BYTE_ARRAY'];

/** A read of the object failed (storage, not format): rejected as `read-error`. */
class ReadFailure extends Error {
  override readonly name = 'ReadFailure';
}

/**
 * Parquet audit tables: an export of Okera's `okera_system.audit_logs`, a dump of
 * Snowflake's QUERY_HISTORY, or any flat table mapped with `--columns`. The footer is
 * read first, then one row group at a time and only the mapped columns of it, so
 * memory holds one row group's mapped columns, never the file. A row is rejected with
 * its 1-based row number as `line`; a row group that cannot be read is rejected at
 * its first row and the next one is tried.
 */
export const parquetDecoder: ObjectDecoder = {
  format: 'parquet',
  description: 'Parquet audit tables (Okera audit_logs exports, Snowflake QUERY_HISTORY dumps, others with --columns)',
  sniffBytes: (head) => head.length >= 4 && head[0] === 0x50 && head[1] === 0x41 && head[2] === 0x52 && head[3] === 0x31,
  async *decode(object: ObjectRef, file: RandomAccessFile, out: DecodeSink, options: DecoderOptions): AsyncGenerator<void> {
    const user = fieldMapping(options.columns);
    const guarded: RandomAccessFile = {
      size: file.size,
      read: (offset, length) =>
        file.read(offset, length).catch((err: unknown) => {
          if (isAbort(err)) throw err;
          throw new ReadFailure(errorText(err), { cause: err });
        }),
    };
    let footer: ParquetFooter;
    try {
      footer = await readFooter(guarded);
    } catch (err) {
      if (isAbort(err)) throw err;
      out.reject(1, reasonFor(err), `not a readable Parquet file: ${errorText(err)}`, null);
      return;
    }
    const mapping = resolveMapping(footer.columns, user);
    if ('problem' in mapping) {
      out.reject(1, 'unknown-format', mapping.problem, null);
      return;
    }
    const rows = new RowBuilder(object, mapping, out);
    const groups = footer.rowGroups;
    let firstRow = 1;
    for (let g = 0; g < groups.length; g++) {
      const group = groups[g]!;
      let count: number;
      try {
        count = toSafeInt(group.num_rows ?? -1, 'row count');
      } catch (err) {
        // Without its row count the numbering of every later row is unknown: stop here.
        out.reject(firstRow, 'malformed-line', `row group ${g + 1} of ${groups.length}: ${errorText(err)}; it and the rest of the file are lost`, null);
        return;
      }
      let cells: Map<LeafColumn, CellValue[]>;
      try {
        if (count > MAX_ROWS_PER_GROUP) throw new ParquetUnsupportedError(`${count} rows in one group; at most ${MAX_ROWS_PER_GROUP} are held at once`);
        cells = await readRowGroup(guarded, footer, group, mapping.needed, count);
      } catch (err) {
        if (isAbort(err)) throw err;
        const span = count > 0 ? ` (rows ${firstRow}–${firstRow + count - 1})` : '';
        out.reject(firstRow, reasonFor(err), `row group ${g + 1} of ${groups.length}${span} cannot be read: ${errorText(err)}; its rows are lost`, null);
        firstRow += count;
        yield;
        continue;
      }
      rows.bind(cells);
      for (let r = 0; r < count; r++) {
        rows.emit(r, firstRow + r);
        if ((r + 1) % ROWS_PER_BATCH === 0 && r + 1 < count) yield;
      }
      firstRow += count;
      yield;
    }
  },
};

/** Reads the mapped columns of one row group, in file order so reads move forward through the object. */
async function readRowGroup(
  file: RandomAccessFile,
  footer: ParquetFooter,
  group: ThriftRowGroup,
  needed: readonly LeafColumn[],
  rows: number,
): Promise<Map<LeafColumn, CellValue[]>> {
  const chunks = group.columns ?? [];
  if (chunks.length !== footer.columns.length) {
    throw new ParquetFormatError(`row group has ${chunks.length} column chunks for ${footer.columns.length} columns`);
  }
  const plan = needed
    .map((column) => {
      const chunk = chunks[column.leaf]!;
      const range = chunkRange(chunk, column, footer.dataEnd);
      const md = chunk.meta_data!;
      if (PHYSICAL_CODES[md.type ?? -1] !== column.physical) throw new ParquetFormatError(`column ${column.name}: chunk type differs from the schema`);
      const path = md.path_in_schema?.map(String).join('.');
      if (path !== undefined && path !== '' && path !== column.name) throw new ParquetFormatError(`column ${column.name}: chunk belongs to ${path}`);
      return { column, chunk, range };
    })
    .sort((a, b) => a.range.start - b.range.start);
  const cells = new Map<LeafColumn, CellValue[]>();
  for (const { column, chunk, range } of plan) {
    const bytes = await file.read(range.start, range.length);
    cells.set(column, decodeColumnChunk(bytes, chunk, column, rows));
  }
  return cells;
}

interface FieldSource<T> {
  column: LeafColumn;
  convert: Converter<T>;
  cells: CellValue[];
}

/** Builds events from the cells of a row group, with converters chosen once per file. */
class RowBuilder {
  private readonly id: FieldSource<string | null>[];
  private readonly statement: FieldSource<string | null>[];
  private readonly ts: FieldSource<number | null>[];
  private readonly precise: FieldSource<number | null>[];
  private readonly end: FieldSource<number | null>[];
  private readonly duration: FieldSource<number | null>[];
  private readonly user: FieldSource<string | null>[];
  private readonly database: FieldSource<string | null>[];
  private readonly session: FieldSource<string | null>[];
  private readonly client: FieldSource<string | null>[];
  private readonly ok: FieldSource<boolean | null>[];
  private readonly status: FieldSource<string | null>[];
  private readonly error: FieldSource<string | null>[];
  private readonly extra: (FieldSource<unknown> & { key: string })[];
  private readonly all: FieldSource<unknown>[] = [];
  private readonly idPrefix: string;

  constructor(
    private readonly object: ObjectRef,
    private readonly mapping: Mapping,
    private readonly out: DecodeSink,
  ) {
    const make = <T>(field: Field, convert: (c: LeafColumn) => Converter<T>): FieldSource<T>[] => (mapping.fields[field] ?? []).map((column) => this.track({ column, convert: convert(column), cells: [] }));
    this.id = make('id', textOf);
    this.statement = make('statement', textOf);
    this.ts = make('ts', timeOf);
    this.end = make('end', timeOf);
    this.duration = make('durationMs', numberOf);
    this.user = make('user', textOf);
    this.database = make('database', textOf);
    this.session = make('session', textOf);
    this.client = make('client', textOf);
    this.precise = mapping.precise ? [this.track({ column: mapping.precise, convert: timeOf(mapping.precise), cells: [] })] : [];
    this.ok = make('ok', statusOf);
    // A status text doubles as the error where the table has no error column (Okera writes the error there).
    this.status = make('ok', textOf).filter((s) => s.column.physical === 'BYTE_ARRAY');
    this.error = make('error', textOf);
    this.extra = mapping.extra.map((column) => this.track({ column, convert: jsonOf(column), cells: [], key: column.name.toLowerCase() }));
    this.idPrefix = `${object.key || object.name}:`;
  }

  private track<S extends FieldSource<unknown>>(source: S): S {
    this.all.push(source);
    return source;
  }

  bind(cells: Map<LeafColumn, CellValue[]>): void {
    for (const s of this.all) s.cells = cells.get(s.column) ?? [];
  }

  emit(r: number, rowNo: number): void {
    const out = this.out;
    const id = this.id.length === 0 ? this.idPrefix + rowNo : first(this.id, r);
    if (id === null) return out.reject(rowNo, 'malformed-line', `row has no id (${names(this.id)} is empty)`, this.raw(r));
    const statement = first(this.statement, r);
    if (statement === null) return out.reject(rowNo, 'malformed-line', `row has no statement (${names(this.statement)} is empty)`, this.raw(r));
    const start = first(this.ts, r);
    if (start === null) return out.reject(rowNo, 'bad-timestamp', `row has no readable start time in ${names(this.ts)}`, this.raw(r));
    const precise = first(this.precise, r);
    const ts = precise !== null && Math.abs(precise - start) < 1 ? precise : start;
    let end = first(this.end, r);
    if (end !== null && end <= 0) end = null;
    let durationMs = first(this.duration, r);
    // From the start column the end was measured against; rounded to the µs against float noise.
    if (durationMs === null && end !== null) durationMs = Math.round((end - start) * 1000) / 1000;
    else if (end === null && durationMs !== null) end = start + durationMs;
    const errorText = first(this.error, r);
    let ok = first(this.ok, r);
    if (ok === null && errorText !== null) ok = false;
    const event: BaseEvent = {
      id,
      ts,
      end,
      durationMs,
      user: first(this.user, r),
      database: first(this.database, r),
      session: first(this.session, r),
      client: first(this.client, r),
      statement,
      ok,
      error: ok === false ? (errorText ?? first(this.status, r)) : null,
      source: { format: 'parquet', object: this.object.name, line: rowNo },
    };
    let extra: Record<string, unknown> | undefined;
    for (const x of this.extra) {
      const v = x.convert(x.cells[r] ?? null);
      if (v !== undefined) (extra ??= {})[x.key] = v;
    }
    if (extra) event.extra = extra;
    out.event(event);
  }

  /** The row's mapped cells as JSON, for the reject log. */
  private raw(r: number): string {
    const row: Record<string, unknown> = {};
    for (const s of this.all) {
      const v = s.cells[r] ?? null;
      row[s.column.name] = typeof v === 'bigint' ? String(v) : Buffer.isBuffer(v) ? v.toString('hex') : v;
    }
    return JSON.stringify(row);
  }
}

/** The first column of a field with a usable value in row `r`. */
function first<T>(sources: FieldSource<T | null>[], r: number): T | null {
  for (let i = 0; i < sources.length; i++) {
    const s = sources[i]!;
    const v = s.convert(s.cells[r] ?? null);
    if (v !== null) return v;
  }
  return null;
}

function names(sources: FieldSource<unknown>[]): string {
  return sources.map((s) => s.column.name).join(' or ');
}

function reasonFor(err: unknown): RejectReason {
  if (err instanceof ReadFailure) return 'read-error';
  if (err instanceof ParquetUnsupportedError) return 'unknown-format';
  return 'malformed-line';
}

function isAbort(err: unknown): boolean {
  const e = err as { name?: unknown; code?: unknown } | null;
  return e !== null && typeof e === 'object' && (e.name === 'AbortError' || e.code === 'ABORT_ERR');
}
