import { PGlite } from '@electric-sql/pglite';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { AuditReplayError } from '../../../core/errors.js';
import type { ConnectOptions, QueryOptions, QueryResult, StreamOptions, Target, TargetSession } from '../../target.js';
import { targetError } from '../../target-error.js';
import { acquireLockFile, type LockFile } from './lock-file.js';

/**
 * An embedded PostgreSQL (PGlite, WASM) in this process: `pglite://memory`, or
 * `pglite://DIR` kept on disk. It holds one database and one backend, so sessions
 * share it one statement at a time; a lock file keeps a second process off a DIR.
 */
export class PgliteTarget implements Target {
  readonly kind = 'pglite';
  readonly capabilities = { transactionalDdl: true, multiDatabase: false, concurrentSessions: false, advisoryLocks: false };
  readonly database = 'postgres';
  readonly user = 'postgres';

  private constructor(
    readonly url: string,
    private readonly db: PGlite,
    private readonly lock: LockFile | null,
  ) {}

  /** Opens (creating when missing) the database of `pglite://memory` or `pglite://DIR`. */
  static async open(url: string): Promise<PgliteTarget> {
    const where = url.replace(/^pglite:\/\//i, '');
    if (!where) throw new AuditReplayError('usage', `'${url}' names no place: use pglite://memory or pglite://DIR`);
    if (where === 'memory') return new PgliteTarget(url, await PGlite.create(), null);
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
    options.signal?.throwIfAborted();
    if (options.database !== undefined && options.database !== this.database) {
      throw new AuditReplayError('target-unsupported', `${this.url} holds one database ('${this.database}'), not '${options.database}'`);
    }
    return new PgliteSession(this.db, this.database);
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

  constructor(
    private readonly db: PGlite,
    readonly database: string,
  ) {}

  get alive(): boolean {
    return !this.closed && !this.db.closed;
  }

  async query<R = Record<string, unknown>>(sql: string, params: readonly unknown[] = [], options: QueryOptions = {}): Promise<QueryResult<R>> {
    options.signal?.throwIfAborted();
    try {
      const res = await this.db.query<R>(sql, params as unknown[]);
      return { rows: res.rows, rowCount: res.affectedRows ?? res.rows.length, command: null };
    } catch (err) {
      throw targetError(err, 'running a query on PGlite');
    }
  }

  async exec(script: string, options: QueryOptions = {}): Promise<void> {
    options.signal?.throwIfAborted();
    try {
      await this.db.exec(script);
    } catch (err) {
      throw targetError(err, 'running a script on PGlite');
    }
  }

  async *stream(sql: string, params: readonly unknown[] = [], options: StreamOptions = {}): AsyncIterable<unknown[][]> {
    // A cursor lives in a transaction: the caller's when there is one, else one of our own.
    const batchSize = options.batchSize ?? 1000;
    const name = `auditreplay_cursor_${++cursorSeq}`;
    const ownTx = !this.db.isInTransaction();
    let failed = false;
    try {
      if (ownTx) await this.db.exec('BEGIN');
      await this.db.query(`DECLARE ${name} NO SCROLL CURSOR FOR ${sql}`, params as unknown[]);
      for (;;) {
        options.signal?.throwIfAborted();
        const res = await this.db.query<unknown[]>(`FETCH ${batchSize} FROM ${name}`, [], { rowMode: 'array' });
        if (res.rows.length === 0) return;
        yield res.rows;
      }
    } catch (err) {
      failed = true;
      throw targetError(err, 'reading a result on PGlite');
    } finally {
      if (ownTx) await this.db.exec(failed ? 'ROLLBACK' : 'COMMIT').catch(() => {});
      else await this.db.exec(`CLOSE ${name}`).catch(() => {});
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
