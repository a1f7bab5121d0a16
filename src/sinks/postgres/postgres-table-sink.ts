import type pg from 'pg';
import { from as copyFrom, type CopyStreamQuery } from 'pg-copy-streams';
import Cursor from 'pg-cursor';
import { AuditReplayError } from '../../core/errors.js';
import { targetError } from '../../replay/target-error.js';
import { connectPgClient } from '../../replay/targets/postgres/postgres-target.js';
import { postgresSettings, redactUrl, type PostgresSettings } from '../../replay/targets/postgres/postgres-url.js';
import { int64Value, rowToRecord, valueOf, type Column, type ColumnType, type RecordSchema, type Row } from '../record-schema.js';
import type { Sink } from '../sink.js';

/** Rows per COPY, and at most per batch read back. */
const DEFAULT_BATCH_ROWS = 10_000;
/** Characters of COPY text gathered before they go to the stream: big enough to keep the socket busy, small enough to bound memory. */
const CHUNK_CHARS = 256 * 1024;
/** How long abort waits for the server's answers before it just closes the connection (which rolls back too). */
const ABORT_WAIT_MS = 5_000;
/** Our own URL parameters: taken out before the URL goes to `postgresSettings`, which rejects parameters it does not know. */
const OWN_PARAMS = new Set(['table', 'run']);
/** PostgreSQL's limit on identifier length, in bytes; longer names are truncated silently, which would write to another table than named. */
const MAX_IDENTIFIER_BYTES = 63;

const PG_TYPES: Record<ColumnType, string> = {
  string: 'text',
  int64: 'bigint',
  double: 'double precision',
  timestamp: 'timestamp with time zone',
  boolean: 'boolean',
  json: 'jsonb',
};

/** The columns every table has besides the record's: which run a row belongs to, and its position in that run. */
const RUN_COLUMNS = [
  { name: 'run_id', type: 'text', nullable: false },
  { name: 'row_seq', type: 'bigint', nullable: false },
] as const;

export interface TableSinkOptions {
  /** The record's columns: they become the table's columns, same names. */
  schema: RecordSchema;
  /** Stored in `run_id` on every row; a run written again replaces that run's earlier rows. */
  runId: string;
  /** Rows per COPY (default 10,000). */
  batchRows?: number;
}

export interface ReadTableOptions {
  /** Types the values read back. */
  schema: RecordSchema;
}

/** True for a `postgres://` or `postgresql://` URL with a `table=` parameter: a table to write records to or read them from. */
export function isTableUrl(url: string): boolean {
  if (!/^postgres(ql)?:\/\//i.test(url)) return false;
  const q = url.split('#')[0]!.indexOf('?');
  return q >= 0 && new URLSearchParams(url.split('#')[0]!.slice(q + 1)).has('table');
}

/**
 * Opens a PostgreSQL table as a sink: `postgres://user@host:port/db?table=schema.name`
 * (an unqualified name is in `public`; connection parameters as for a replay target,
 * e.g. `sslmode`). Creates the schema and the table when missing, one column per record
 * field (same names) plus `run_id` and `row_seq`, keyed on (run_id, row_seq); an
 * existing table must have those columns with those types. Rows go in with COPY,
 * `batchRows` (default 10,000) per COPY, inside one transaction per run: nothing of the
 * run is visible until `commit`, and `abort`, a failure or a killed process leaves
 * none of its rows. Writing a run id again replaces that run's rows, as writing a file
 * again replaces the file.
 */
export async function openTableSink<T>(url: string, options: TableSinkOptions): Promise<Sink<T>> {
  const target = parseTableUrl(url);
  if (target.run !== null && target.run !== options.runId) {
    throw usage(url, `run=${target.run} is for reading a run back; this run writes run ${options.runId}`);
  }
  const batchRows = options.batchRows ?? DEFAULT_BATCH_ROWS;
  if (!Number.isInteger(batchRows) || batchRows < 1) throw usage(url, `batchRows must be a positive integer, not ${batchRows}`);
  if (options.runId === '' || options.runId.includes('\0')) throw usage(url, 'the run id must be a non-empty text without NUL characters');
  const encoders = options.schema.columns.map(columnEncoder);
  const client = await connect(target, `connecting to ${target.redacted}`);
  const sink = new PostgresTableSink<T>(client, target, options.schema, encoders, options.runId, batchRows);
  try {
    await sink.start();
  } catch (err) {
    await closeClient(client);
    throw err;
  }
  return sink;
}

/**
 * Reads records back from a table a table sink wrote, in batches of at most 10,000, ordered
 * by run and position in the run: only run `<id>` with `&run=<id>` in the URL, else every
 * run. Streams through a server-side cursor, so a big table is never held in memory.
 * A table that does not exist fails as `sink-not-found`; URL errors are thrown at once.
 */
export function readTable(url: string, options: ReadTableOptions): AsyncIterable<Row[]> {
  const target = parseTableUrl(url);
  return readRows(target, options.schema);
}

async function* readRows(target: TableUrl, schema: RecordSchema): AsyncGenerator<Row[]> {
  const client = await connect(target, `connecting to ${target.redacted}`);
  try {
    const what = `reading ${target.redacted}`;
    const columns = await tableColumns(client, target, what);
    if (columns === null) throw new AuditReplayError('sink-not-found', `${what}: table ${target.display} does not exist`);
    checkColumns(target, schema, columns);
    const select = schema.columns.map((c) => selectExpression(c)).join(', ');
    const sql =
      `SELECT ${select} FROM ${target.qualified}` + (target.run === null ? '' : ' WHERE run_id = $1') + ' ORDER BY run_id, row_seq';
    const cursor = client.query(new Cursor<unknown[]>(sql, target.run === null ? [] : [target.run], { rowMode: 'array' }));
    const decoders = schema.columns.map(columnDecoder);
    for (;;) {
      let rows: unknown[][];
      try {
        rows = await cursor.read(DEFAULT_BATCH_ROWS);
      } catch (err) {
        throw sinkError(err, what);
      }
      if (rows.length === 0) return;
      const batch: Row[] = new Array(rows.length);
      for (let i = 0; i < rows.length; i++) {
        const row = rows[i]!;
        const values: Row = {};
        for (let j = 0; j < decoders.length; j++) values[schema.columns[j]!.name] = decoders[j]!(row[j]);
        batch[i] = rowToRecord(values, schema);
      }
      yield batch;
    }
  } finally {
    // A reader that stops early leaves the portal open: closing the connection ends it too.
    await closeClient(client);
  }
}

/** The sink over one connection: the table's DDL in its own transaction, then the run's transaction until commit or abort. */
class PostgresTableSink<T> implements Sink<T> {
  readonly url: string;
  private state: 'open' | 'committed' | 'aborted' | 'failed' = 'open';
  private failure: AuditReplayError | null = null;
  private copy: CopyBatch | null = null;
  /** Position of the next record in the run, from 1. */
  private seq = 1;
  private readonly runIdText: string;
  private readonly copySql: string;

  constructor(
    private readonly client: pg.Client,
    private readonly target: TableUrl,
    private readonly schema: RecordSchema,
    private readonly encoders: readonly ValueEncoder[],
    private readonly runId: string,
    private readonly batchRows: number,
  ) {
    this.url = target.redacted;
    this.runIdText = copyEscape(runId);
    const names = [...schema.columns.map((c) => quoteIdent(c.name)), ...RUN_COLUMNS.map((c) => c.name)];
    this.copySql = `COPY ${target.qualified} (${names.join(', ')}) FROM STDIN`;
  }

  /** Creates or checks the table, then begins the run's transaction. */
  async start(): Promise<void> {
    await this.ensureTable();
    const what = `starting run ${this.runId} in ${this.url}`;
    try {
      await this.client.query('BEGIN');
      // Two writers of one run would interleave their rows (or one would wait hours on the key): the second fails at once.
      const lock = await this.client.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0)) AS ok', [
        `auditreplay run ${this.target.qualified} ${this.runId}`,
      ]);
      if (!lock.rows[0]?.ok) {
        throw new AuditReplayError('sink-failed', `${what}: another process is writing run ${this.runId} to table ${this.target.display}`);
      }
      await this.client.query(`DELETE FROM ${this.target.qualified} WHERE run_id = $1`, [this.runId]);
    } catch (err) {
      await this.client.query('ROLLBACK').catch(() => {});
      throw sinkError(err, what);
    }
  }

  /** The table's DDL, committed on its own so concurrent runs (which hold their transactions for long) can use the table at once. */
  private async ensureTable(): Promise<void> {
    const { target, client, schema } = this;
    const what = `creating table ${target.display} in ${this.url}`;
    try {
      await client.query('BEGIN');
      // Serializes concurrent first runs: two CREATE TABLE IF NOT EXISTS racing can fail on the catalog's unique keys.
      await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`auditreplay table ${target.qualified}`]);
      const columns = await tableColumns(client, target, what);
      if (columns === null) {
        // CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege on the database even when the schema exists: ask first.
        const ns = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [target.schema]);
        if (ns.rowCount === 0) await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(target.schema)}`);
        const defs = [
          ...schema.columns.map((c) => `${quoteIdent(c.name)} ${PG_TYPES[c.type]}${c.nullable ? '' : ' NOT NULL'}`),
          ...RUN_COLUMNS.map((c) => `${c.name} ${c.type} NOT NULL`),
          // The key is the index readers use for one run in order; it also refuses a row twice at one position.
          'PRIMARY KEY (run_id, row_seq)',
        ];
        await client.query(`CREATE TABLE IF NOT EXISTS ${target.qualified} (\n  ${defs.join(',\n  ')}\n)`);
        await client.query(`COMMENT ON TABLE ${target.qualified} IS ${quoteLiteral(`auditreplay ${schema.name} records, one transaction per run`)}`);
      } else {
        checkColumns(target, schema, columns);
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw sinkError(err, what);
    }
  }

  async write(batch: readonly T[]): Promise<void> {
    this.checkOpen('write');
    if (batch.length === 0) return;
    // Encoded first, so a record that cannot be stored fails the call before any of its batch is sent.
    const lines = this.encode(batch);
    try {
      let chunk = '';
      for (const line of lines) {
        this.copy ??= new CopyBatch(this.client, this.copySql);
        chunk += line;
        this.copy.rows++;
        if (this.copy.rows >= this.batchRows) {
          await this.copy.write(chunk);
          chunk = '';
          const copy = this.copy;
          this.copy = null;
          await copy.end();
        } else if (chunk.length >= CHUNK_CHARS) {
          await this.copy.write(chunk);
          chunk = '';
        }
      }
      // Sent now rather than at the next call: a slow run should not keep rows in memory, and errors show early.
      if (chunk !== '') await this.copy!.write(chunk);
    } catch (err) {
      throw await this.fail(err, `writing to ${this.url}`);
    }
  }

  private encode(batch: readonly T[]): string[] {
    const lines: string[] = new Array(batch.length);
    const columns = this.schema.columns;
    for (let i = 0; i < batch.length; i++) {
      const record = batch[i] as Row;
      let line = '';
      for (let j = 0; j < columns.length; j++) {
        const column = columns[j]!;
        const v = valueOf(record, column);
        if (v === null) {
          if (!column.nullable) throw this.recordError(i, column, 'is null, but the column is NOT NULL');
          line += '\\N\t';
          continue;
        }
        let text: string;
        try {
          text = this.encoders[j]!(v);
        } catch (err) {
          throw this.recordError(i, column, (err as Error).message);
        }
        line += text + '\t';
      }
      lines[i] = `${line}${this.runIdText}\t${this.seq + i}\n`;
    }
    this.seq += batch.length;
    return lines;
  }

  private recordError(index: number, column: Column, message: string): AuditReplayError {
    return new AuditReplayError(
      'sink-failed',
      `cannot write record ${this.seq + index} of run ${this.runId} to ${this.url}: column "${column.name}" ${message}; the batch was not written`,
    );
  }

  async commit(): Promise<void> {
    if (this.state === 'committed') return;
    this.checkOpen('commit');
    try {
      if (this.copy) {
        const copy = this.copy;
        this.copy = null;
        await copy.end();
      }
      const res = await this.client.query('COMMIT');
      // COMMIT of a transaction that failed unnoticed answers ROLLBACK, not an error.
      if (res.command !== 'COMMIT') throw new AuditReplayError('sink-failed', `committing run ${this.runId} to ${this.url}: the server rolled the run back`);
    } catch (err) {
      throw await this.fail(err, `committing run ${this.runId} to ${this.url}`);
    }
    this.state = 'committed';
    await closeClient(this.client);
  }

  async abort(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'aborted';
    await this.rollback();
  }

  /** Rolls back and closes; closing alone would roll back too, so a server that does not answer cannot hold abort up. */
  private async rollback(): Promise<void> {
    const copy = this.copy;
    this.copy = null;
    copy?.cancel();
    await Promise.race([this.client.query('ROLLBACK').catch(() => {}), delay(ABORT_WAIT_MS)]);
    await closeClient(this.client);
  }

  private async fail(err: unknown, what: string): Promise<AuditReplayError> {
    const e = sinkError(err, what);
    // An abort during the call is what made it fail; abort has rolled back already.
    if (this.state !== 'open') return e;
    this.state = 'failed';
    this.failure = e;
    await this.rollback();
    return e;
  }

  private checkOpen(call: string): void {
    if (this.state === 'open') return;
    if (this.failure) throw this.failure;
    throw new AuditReplayError('internal', `${call} on ${this.url} after it was ${this.state}`);
  }
}

/**
 * One COPY ... FROM STDIN. Its errors arrive as events, at any time; they are kept, and
 * every wait (for the socket to drain, for the server's answer) also ends on one.
 */
class CopyBatch {
  rows = 0;
  private error: Error | null = null;
  private readonly stream: CopyStreamQuery;
  private readonly failed: Promise<never>;
  private readonly finished: Promise<void>;

  constructor(client: pg.Client, sql: string) {
    this.stream = client.query(copyFrom(sql, { highWaterMark: CHUNK_CHARS }));
    this.failed = new Promise<never>((_resolve, reject) => {
      this.stream.on('error', (err: Error) => {
        this.error ??= err;
        reject(this.error);
      });
    });
    // Waits that lose the race must not surface as unhandled rejections.
    this.failed.catch(() => {});
    this.finished = new Promise<void>((resolve) => this.stream.once('finish', resolve));
  }

  async write(text: string): Promise<void> {
    // After an error the stream has no connection any more: writing would throw a TypeError.
    if (this.error) throw this.error;
    if (!this.stream.write(text)) {
      await Promise.race([new Promise<void>((resolve) => this.stream.once('drain', resolve)), this.failed]);
    }
  }

  /** Ends the COPY and waits until the server has taken every row. */
  async end(): Promise<void> {
    if (this.error) throw this.error;
    this.stream.end();
    await Promise.race([this.finished, this.failed]);
  }

  /** Sends CopyFail (the server then drops the rows of this COPY); the transaction's rollback follows. */
  cancel(): void {
    if (this.error || this.stream.writableFinished) return;
    this.stream.destroy(new Error('the run was aborted'));
  }
}

type ValueEncoder = (v: unknown) => string;

// COPY text format: backslash starts an escape, tab ends a field, newline ends a row.
const COPY_SPECIAL = /[\\\t\n\r\0]/;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** Text for one COPY field; NUL has no representation in a PostgreSQL text value. */
function copyEscape(s: string): string {
  if (!COPY_SPECIAL.test(s)) return s;
  if (s.includes('\0')) throw new Error('holds a NUL character (U+0000), which PostgreSQL text cannot store');
  return s.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c]!);
}

/** A `\u0000` escape in JSON text (not preceded by an escaped backslash): jsonb refuses it. */
const JSON_NUL = /(?:^|[^\\])(?:\\\\)*\\u0000/;

function columnEncoder(column: Column): ValueEncoder {
  const expected = (what: string, v: unknown): Error => new Error(`should be ${what}, not ${typeof v === 'object' ? JSON.stringify(v) : `${typeof v} ${String(v)}`}`.slice(0, 300));
  switch (column.type) {
    case 'string':
      return (v) => {
        if (typeof v !== 'string') throw expected('a string', v);
        return copyEscape(v);
      };
    case 'int64':
      return (v) => {
        // String() of an unsafe integer may use exponent notation, which bigint input refuses.
        if (typeof v === 'number' && Number.isInteger(v)) return Number.isSafeInteger(v) ? String(v) : BigInt(v).toString();
        if (typeof v === 'bigint') {
          if (v < -(2n ** 63n) || v >= 2n ** 63n) throw new Error(`is ${v}, beyond the range of bigint`);
          return v.toString();
        }
        throw expected('an integer (number or bigint)', v);
      };
    case 'double':
      return (v) => {
        if (typeof v !== 'number') throw expected('a number', v);
        // String(-0) is '0': keep the sign, as float8 does.
        return Object.is(v, -0) ? '-0' : String(v);
      };
    case 'timestamp': {
      // Formatting the date and time of day is most of the cost, and consecutive records mostly fall in the same second.
      let lastSecond = Number.NaN;
      let lastPrefix = '';
      return (v) => {
        if (typeof v !== 'number') throw expected('epoch milliseconds', v);
        const [seconds, fraction] = splitMicros(v);
        if (seconds !== lastSecond) {
          lastPrefix = secondText(v, seconds);
          lastSecond = seconds;
        }
        return `${lastPrefix}.${fractionText(fraction)}+00`;
      };
    }
    case 'boolean':
      return (v) => {
        if (typeof v !== 'boolean') throw expected('a boolean', v);
        return v ? 't' : 'f';
      };
    case 'json':
      return (v) => {
        let text: string | undefined;
        try {
          text = JSON.stringify(v);
        } catch (err) {
          throw new Error(`is not JSON: ${(err as Error).message}`, { cause: err });
        }
        if (text === undefined) throw expected('a JSON value', v);
        if (text.includes('\\u0000') && JSON_NUL.test(text)) throw new Error('holds a NUL character (U+0000), which jsonb cannot store');
        return copyEscape(text);
      };
  }
}

/**
 * Epoch milliseconds (fractional to the microsecond) as timestamptz input text in UTC,
 * e.g. `2026-11-20 10:00:00.123456+00`: a Date would keep only milliseconds.
 */
export function timestampText(ms: number): string {
  const [seconds, fraction] = splitMicros(ms);
  return `${secondText(ms, seconds)}.${fractionText(fraction)}+00`;
}

/** Whole epoch seconds (rounded down) and the microseconds after them. */
function splitMicros(ms: number): [number, number] {
  if (!Number.isFinite(ms)) throw new Error(`is ${ms}, not a time`);
  const us = Math.round(ms * 1000);
  let seconds = Math.floor(us / 1e6);
  let fraction = us - seconds * 1e6;
  // Far from 1970 the division may round across a second.
  if (fraction < 0) {
    seconds -= 1;
    fraction += 1e6;
  } else if (fraction >= 1e6) {
    seconds += 1;
    fraction -= 1e6;
  }
  return [seconds, fraction];
}

/** `YYYY-MM-DD HH:MM:SS` of an epoch second, UTC; only years 1 to 9999 have that form. */
function secondText(ms: number, seconds: number): string {
  const date = new Date(seconds * 1000);
  const year = date.getUTCFullYear();
  if (!(year >= 1 && year <= 9999)) throw new Error(`is ${ms}, outside the years 1 to 9999`);
  const iso = date.toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

function fractionText(us: number): string {
  return String(us).padStart(6, '0');
}

/** The SELECT expression for a column, as the decoder expects it. */
function selectExpression(column: Column): string {
  const c = quoteIdent(column.name);
  switch (column.type) {
    case 'int64':
      return `${c}::text`;
    case 'timestamp':
      // extract(epoch) is numeric since PostgreSQL 14, so the microseconds are exact (double before).
      return `(extract(epoch from ${c}) * 1000000)::bigint::text`;
    case 'json':
      return `${c}::text`;
    default:
      return c;
  }
}

function columnDecoder(column: Column): (v: unknown) => unknown {
  switch (column.type) {
    case 'int64':
      return (v) => (v === null ? null : int64Value(v as string));
    case 'timestamp':
      return (v) => (v === null ? null : Number(v) / 1000);
    case 'json':
      return (v) => (v === null ? null : JSON.parse(v as string));
    default:
      return (v) => v;
  }
}

interface TableUrl {
  /** The URL without our parameters, for `postgresSettings`. */
  connectionUrl: string;
  redacted: string;
  settings: PostgresSettings;
  schema: string;
  table: string;
  /** `"schema"."table"`, for SQL. */
  qualified: string;
  /** `schema.table` as the user would write it, for messages. */
  display: string;
  run: string | null;
}

function parseTableUrl(url: string): TableUrl {
  if (!/^postgres(ql)?:\/\//i.test(url)) throw usage(url, 'not a PostgreSQL table URL: use postgres://user@host:port/db?table=schema.name');
  const [beforeHash = ''] = url.split('#');
  const q = beforeHash.indexOf('?');
  const query = q < 0 ? '' : beforeHash.slice(q + 1);
  const params = new URLSearchParams(query);
  const single = (name: string): string | null => {
    const all = params.getAll(name);
    if (all.length > 1) throw usage(url, `${name}= is given ${all.length} times`);
    return all[0] ?? null;
  };
  const tableText = single('table');
  if (tableText === null || tableText === '') throw usage(url, 'no table: add table=schema.name to the URL');
  const run = single('run');
  if (run === '') throw usage(url, 'run= is empty');
  const [schema, table] = parseQualifiedName(url, tableText);
  // Kept as the user wrote them (not re-encoded by URLSearchParams): postgresSettings reads them as libpq would.
  const kept = query.split('&').filter((p) => {
    if (p === '') return false;
    const key = p.split('=')[0]!;
    let name = key;
    try {
      name = decodeURIComponent(key.replace(/\+/g, ' '));
    } catch {
      // postgresSettings reports the malformed parameter.
    }
    return !OWN_PARAMS.has(name);
  });
  const connectionUrl = `${q < 0 ? beforeHash : beforeHash.slice(0, q)}${kept.length > 0 ? `?${kept.join('&')}` : ''}`;
  const redacted = redactUrl(url);
  let settings: PostgresSettings;
  try {
    settings = postgresSettings(connectionUrl);
  } catch (err) {
    // Its message names the stripped URL; ours names the one given.
    if (err instanceof AuditReplayError) throw new AuditReplayError(err.code, err.message.replace(redactUrl(connectionUrl), redacted), { cause: err });
    throw err;
  }
  const display = `${displayIdent(schema)}.${displayIdent(table)}`;
  return { connectionUrl, redacted, settings, schema, table, qualified: `${quoteIdent(schema)}.${quoteIdent(table)}`, display, run };
}

/**
 * `schema.name` or `name` (schema `public`), each part an identifier as SQL writes it:
 * unquoted (letters, digits, `_`, `$`; folded to lower case, as PostgreSQL does) or in
 * double quotes (kept as is, `""` for a quote).
 */
function parseQualifiedName(url: string, text: string): [string, string] {
  const parts: string[] = [];
  let i = 0;
  for (;;) {
    let part: string;
    if (text[i] === '"') {
      let j = i + 1;
      part = '';
      for (;;) {
        const end = text.indexOf('"', j);
        if (end < 0) throw usage(url, `table=${text}: unterminated quoted name`);
        part += text.slice(j, end);
        if (text[end + 1] === '"') {
          part += '"';
          j = end + 2;
          continue;
        }
        i = end + 1;
        break;
      }
      if (part === '') throw usage(url, `table=${text}: empty quoted name`);
      if (part.includes('\0')) throw usage(url, `table=${text}: a name cannot hold a NUL character`);
    } else {
      const m = /^[A-Za-z_][A-Za-z0-9_$]*/.exec(text.slice(i));
      if (!m) throw usage(url, `table=${text} is not a table name: use name or schema.name (double-quote a name with other characters)`);
      part = m[0].toLowerCase();
      i += m[0].length;
    }
    if (Buffer.byteLength(part) > MAX_IDENTIFIER_BYTES) throw usage(url, `table=${text}: '${part}' is longer than PostgreSQL's ${MAX_IDENTIFIER_BYTES}-byte limit`);
    parts.push(part);
    if (i === text.length) break;
    if (text[i] !== '.' || parts.length === 2) {
      throw usage(url, `table=${text} is not a table name: use name or schema.name (double-quote a name with other characters)`);
    }
    i++;
  }
  return parts.length === 2 ? [parts[0]!, parts[1]!] : ['public', parts[0]!];
}

interface TableColumn {
  name: string;
  type: string;
  notNull: boolean;
  hasDefault: boolean;
}

/** The table's columns, or null when there is no such table. */
async function tableColumns(client: pg.Client, target: TableUrl, what: string): Promise<TableColumn[] | null> {
  try {
    const found = await client.query<{ oid: string | null }>('SELECT to_regclass($1)::oid AS oid', [target.qualified]);
    const oid = found.rows[0]?.oid ?? null;
    if (oid === null) return null;
    const res = await client.query<{ name: string; type: string; not_null: boolean; has_default: boolean }>(
      `SELECT attname AS name, format_type(atttypid, atttypmod) AS type, attnotnull AS not_null,
              (atthasdef OR attidentity <> '' OR attgenerated <> '') AS has_default
         FROM pg_attribute WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
      [oid],
    );
    return res.rows.map((r) => ({ name: r.name, type: r.type, notNull: r.not_null, hasDefault: r.has_default }));
  } catch (err) {
    throw sinkError(err, what);
  }
}

/** Fails as `usage` naming every column that does not fit the records (missing, another type, NOT NULL where a record may have none). */
function checkColumns(target: TableUrl, schema: RecordSchema, columns: readonly TableColumn[]): void {
  const byName = new Map(columns.map((c) => [c.name, c]));
  const wanted = [...schema.columns.map((c) => ({ name: c.name, type: PG_TYPES[c.type], nullable: c.nullable })), ...RUN_COLUMNS];
  const problems: string[] = [];
  for (const w of wanted) {
    const have = byName.get(w.name);
    if (!have) problems.push(`column "${w.name}" (${w.type}) is missing`);
    else if (have.type !== w.type) problems.push(`column "${w.name}" is ${have.type}, not ${w.type}`);
    else if (have.notNull && w.nullable) problems.push(`column "${w.name}" is NOT NULL, but ${schema.name} records may have no value there`);
  }
  // Other columns are the table owner's business, as long as a row without them can go in.
  const ours = new Set(wanted.map((w) => w.name));
  for (const c of columns) {
    if (!ours.has(c.name) && c.notNull && !c.hasDefault) problems.push(`column "${c.name}" is NOT NULL without a default, and ${schema.name} records have no such field`);
  }
  if (problems.length > 0) {
    throw new AuditReplayError('usage', `table ${target.display} in ${target.redacted} does not fit ${schema.name} records: ${problems.join('; ')}`);
  }
}

/** Connects with the TLS attempts libpq makes for the URL's sslmode, as the target does. */
async function connect(target: TableUrl, what: string): Promise<pg.Client> {
  try {
    return await connectPgClient(target.settings, { ...target.settings.base }, what);
  } catch (err) {
    if (err instanceof AuditReplayError) throw new AuditReplayError('sink-failed', err.message, { cause: err });
    throw sinkError(err, what, true);
  }
}

async function closeClient(client: pg.Client): Promise<void> {
  await Promise.race([client.end().catch(() => {}), delay(ABORT_WAIT_MS)]);
}

/** A driver error as `sink-failed`, with targetError's wording (connection lost, authentication, SQLSTATE). */
function sinkError(err: unknown, what: string, connecting = false): AuditReplayError {
  if (err instanceof AuditReplayError && err.code !== 'target-failed' && err.code !== 'target-lost' && err.code !== 'target-auth') return err;
  const e = targetError(err, what, connecting);
  return new AuditReplayError('sink-failed', e.message, { cause: err, ...(e.sqlState ? { sqlState: e.sqlState } : {}) });
}

function usage(url: string, message: string): AuditReplayError {
  return new AuditReplayError('usage', `${message} (in ${redactUrl(url)})`);
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function displayIdent(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : quoteIdent(name);
}

function quoteLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
