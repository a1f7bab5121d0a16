import { messages, PGlite, protocol } from '@electric-sql/pglite';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { AuditReplayError } from '../../../core/errors.js';
import { splitStatements } from '../../../extract/sql/split-statements.js';
import { quoteIdent, quoteLiteral } from '../../sync/sql-names.js';
import type {
  ConnectOptions,
  ExecuteOptions,
  ExecuteResult,
  QueryOptions,
  QueryResult,
  ResultField,
  StreamOptions,
  Target,
  TargetSession,
  TransactionStatus,
} from '../../target.js';
import { abortedError, targetError } from '../../target-error.js';
import { acquireLockFile, type LockFile } from './lock-file.js';

/** The superuser PGlite runs as. */
const SUPERUSER = 'postgres';
/** Statements that reset the session user: a no-op in PGlite's single-user backend, which never records whom it started as. */
const RESET_SESSION_AUTH = /^(RESET\s+SESSION\s+AUTHORIZATION|SET\s+SESSION\s+AUTHORIZATION\s+DEFAULT)$/i;

/**
 * An embedded PostgreSQL (PGlite, WASM) in this process: `pglite://memory`, or
 * `pglite://DIR` kept on disk (created when missing). It holds one database and one
 * backend, so sessions share it one statement at a time, and a transaction one session
 * opens is seen by the others; a lock file (`DIR.lock`) keeps a second opener off a DIR.
 */
export class PgliteTarget implements Target {
  readonly kind = 'pglite';
  readonly capabilities = { transactionalDdl: true, multiDatabase: false, concurrentSessions: false, advisoryLocks: false };
  readonly database = 'postgres';
  readonly user = SUPERUSER;

  private constructor(
    readonly url: string,
    private readonly db: PGlite,
    private readonly lock: LockFile | null,
  ) {}

  /** Opens the database of `pglite://memory` or `pglite://DIR`; a DIR another opener holds is `target-busy`. */
  static async open(url: string): Promise<PgliteTarget> {
    const where = url.replace(/^pglite:\/\//i, '');
    if (!where) throw new AuditReplayError('usage', `'${url}' names no place: use pglite://memory or pglite://DIR`);
    if (where === 'memory') {
      try {
        return new PgliteTarget(url, await PGlite.create(), null);
      } catch (err) {
        throw targetError(err, `opening ${url}`, true);
      }
    }
    const dir = resolve(where);
    await mkdir(dir, { recursive: true });
    const lock = await acquireLockFile(`${dir}.lock`, url);
    try {
      return new PgliteTarget(url, await PGlite.create({ dataDir: dir }), lock);
    } catch (err) {
      await lock.release();
      throw targetError(err, `opening ${url}`, true);
    }
  }

  async connect(options: ConnectOptions = {}): Promise<TargetSession> {
    if (options.signal?.aborted) throw abortedError(options.signal.reason, `connecting to ${this.url}`);
    if (options.database !== undefined && options.database !== this.database) {
      throw new AuditReplayError('target-unsupported', `${this.url} holds one database ('${this.database}'), not '${options.database}'`);
    }
    if (this.db.closed) throw new AuditReplayError('internal', `connecting to ${this.url}: the target is closed`);
    // One backend for every session: the user and settings are the backend's from here on.
    const setup = [
      `SET SESSION AUTHORIZATION ${quoteIdent(options.user ?? SUPERUSER)}`,
      ...Object.entries(options.settings ?? {}).map(([name, value]) => `SELECT set_config(${quoteLiteral(name)}, ${quoteLiteral(value)}, false)`),
    ].join(';\n');
    const session = new PgliteSession(this.db, this.database, setup);
    if (options.user !== undefined || options.settings !== undefined) await session.exec(setup, options.signal ? { signal: options.signal } : {});
    return session;
  }

  async close(): Promise<void> {
    try {
      if (!this.db.closed) await this.db.close();
    } finally {
      await this.lock?.release();
    }
  }
}

let cursorSeq = 0;

class PgliteSession implements TargetSession {
  private closed = false;

  /** @param setup what makes the backend this session's again: its user and settings */
  constructor(
    private readonly db: PGlite,
    readonly database: string,
    private readonly setup: string,
  ) {}

  get alive(): boolean {
    return !this.closed && !this.db.closed;
  }

  get transactionStatus(): TransactionStatus {
    return this.db.closed ? null : this.db.isInTransaction() ? 'transaction' : 'idle';
  }

  cancel(): void {
    // The engine runs in this thread's WASM: nothing can interrupt a statement from outside.
  }

  async reset(options: QueryOptions = {}): Promise<void> {
    // DISCARD ALL returns to the server's defaults, not to this session's: set those again.
    // DISCARD ALL refuses to run in a script (an implicit transaction): two calls.
    await this.exec('DISCARD ALL', options);
    await this.exec(this.setup, options);
  }

  async execute(sql: string, options: ExecuteOptions = {}): Promise<ExecuteResult> {
    const what = 'running a statement on PGlite';
    this.check(what, options.signal);
    const batchSize = options.batchSize ?? 1000;
    const onRows = options.onRows;
    let fields: ResultField[] = [];
    let batch: (string | null)[][] = [];
    let command: string | null = null;
    let rowCount: number | null = null;
    let error: unknown = null;
    const flush = (): void => {
      if (batch.length === 0) return;
      const rows = batch;
      batch = [];
      onRows!(rows, fields);
    };
    // The wire protocol's simple Query, parsed as the bytes come: rows in the server's text
    // form, handed on in batches, never all in memory (as on PostgreSQL).
    const parser = new protocol.Parser();
    const onMessage = (msg: messages.BackendMessage): void => {
      try {
        if (msg instanceof messages.RowDescriptionMessage) {
          flush();
          fields = msg.fields.map((f) => ({ name: f.name, typeId: f.dataTypeID }));
        } else if (msg instanceof messages.DataRowMessage) {
          if (!onRows) return;
          batch.push(msg.fields);
          if (batch.length >= batchSize) flush();
        } else if (msg instanceof messages.CommandCompleteMessage) {
          flush();
          const words = msg.text.split(' ');
          command = words[0] ?? null;
          const last = Number(words[words.length - 1]);
          rowCount = words.length > 1 && Number.isInteger(last) ? last : null;
        } else if (msg instanceof messages.DatabaseError) {
          error ??= msg;
        }
      } catch (err) {
        error ??= err;
      }
    };
    try {
      await this.db.runExclusive(() =>
        this.db.execProtocolRawStream(protocol.serialize.query(sql), { onRawData: (data) => parser.parse(data, onMessage) }),
      );
    } catch (err) {
      throw targetError(err, what);
    }
    if (error !== null) throw targetError(error, what);
    return { command, rowCount, fields };
  }

  async query<R = Record<string, unknown>>(sql: string, params: readonly unknown[] = [], options: QueryOptions = {}): Promise<QueryResult<R>> {
    const what = 'running a query on PGlite';
    this.check(what, options.signal);
    try {
      const res = await this.db.query<R>(withSessionReset(sql), params as unknown[]);
      return { rows: res.rows, rowCount: res.rowCount ?? null, command: res.command ?? null };
    } catch (err) {
      throw targetError(err, what);
    }
  }

  async exec(script: string, options: QueryOptions = {}): Promise<void> {
    const what = 'running a script on PGlite';
    this.check(what, options.signal);
    try {
      await this.db.exec(withSessionReset(script));
    } catch (err) {
      throw targetError(err, what);
    }
  }

  async *stream(sql: string, params: readonly unknown[] = [], options: StreamOptions = {}): AsyncIterable<unknown[][]> {
    const what = 'reading a result on PGlite';
    const batchSize = options.batchSize ?? 1000;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new AuditReplayError('usage', `batchSize must be a positive integer, not ${batchSize}`);
    this.check(what, options.signal);
    // A cursor lives in a transaction: the caller's when there is one, else one of our own.
    const name = `auditreplay_cursor_${++cursorSeq}`;
    const ownTx = !this.db.isInTransaction();
    let failed = false;
    try {
      if (ownTx) await this.db.exec('BEGIN');
      await this.db.query(`DECLARE ${name} NO SCROLL CURSOR FOR ${sql}`, params as unknown[]);
      for (;;) {
        this.check(what, options.signal);
        const res = await this.db.query<unknown[]>(`FETCH ${batchSize} FROM ${name}`, [], { rowMode: 'array' });
        if (res.rows.length === 0) return;
        yield res.rows;
      }
    } catch (err) {
      failed = true;
      throw targetError(err, what);
    } finally {
      if (!this.db.closed) {
        if (ownTx) await this.db.exec(failed ? 'ROLLBACK' : 'COMMIT').catch(() => {});
        else await this.db.exec(`CLOSE ${name}`).catch(() => {});
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private check(what: string, signal: AbortSignal | undefined): void {
    if (signal?.aborted) throw abortedError(signal.reason, what);
    if (!this.alive) throw new AuditReplayError('target-lost', `${what}: the session is closed`);
  }
}

/**
 * The script with each statement that resets the session user replaced by an explicit
 * `SET SESSION AUTHORIZATION postgres`, so sync's switch back from a statement's owner
 * works as it does on PostgreSQL. Other scripts pass untouched.
 */
export function withSessionReset(script: string): string {
  if (!/SESSION\s+AUTHORIZATION/i.test(script)) return script;
  const statements = splitStatements(script);
  let changed = false;
  const out = statements.map((s) => {
    const bare = s.replace(/^(\s*(--[^\n]*\n|\/\*[\s\S]*?\*\/))*\s*/, '');
    if (!RESET_SESSION_AUTH.test(bare)) return s;
    changed = true;
    return `SET SESSION AUTHORIZATION ${SUPERUSER}`;
  });
  return changed ? out.join(';\n') : script;
}
