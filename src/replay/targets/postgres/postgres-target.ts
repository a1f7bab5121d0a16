import pg from 'pg';
import Cursor from 'pg-cursor';
import type { AuditReplayError } from '../../../core/errors.js';
import type { ConnectOptions, QueryOptions, QueryResult, StreamOptions, Target, TargetOptions, TargetSession } from '../../target.js';
import { targetError } from '../../target-error.js';
import { postgresClientConfig, redactUrl } from './postgres-url.js';

/**
 * A PostgreSQL server reached through node-postgres. Each session is its own client
 * (no pool: sync holds few sessions, and replay bounds its own concurrency). The
 * password comes from the URL, PGPASSWORD or ~/.pgpass (pg reads both) and is never
 * part of `url` or of an error message.
 */
export class PostgresTarget implements Target {
  readonly kind = 'postgres';
  readonly capabilities = { transactionalDdl: true, multiDatabase: true, concurrentSessions: true, advisoryLocks: true };
  readonly url: string;
  readonly database: string;
  readonly user: string;
  private readonly sessions = new Set<PostgresSession>();

  constructor(
    private readonly rawUrl: string,
    private readonly options: TargetOptions,
  ) {
    this.url = redactUrl(rawUrl);
    const config = postgresClientConfig(rawUrl, options);
    this.database = config.database ?? config.user ?? 'postgres';
    this.user = config.user ?? 'postgres';
  }

  async connect(options: ConnectOptions = {}): Promise<TargetSession> {
    options.signal?.throwIfAborted();
    const config = postgresClientConfig(this.rawUrl, this.options);
    const database = options.database ?? this.database;
    const client = new pg.Client({ ...config, database });
    // An idle client whose socket dies emits 'error'; without a listener that would crash the process.
    client.on('error', () => {});
    try {
      await client.connect();
    } catch (err) {
      await client.end().catch(() => {});
      throw targetError(err, `connecting to ${this.url} (database ${database})`, true);
    }
    const session = new PostgresSession(client, database, () => this.sessions.delete(session));
    this.sessions.add(session);
    return session;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.sessions].map((s) => s.close()));
  }
}

class PostgresSession implements TargetSession {
  private closed = false;
  private lost = false;

  constructor(
    private readonly client: pg.Client,
    readonly database: string,
    private readonly onClose: () => void,
  ) {
    client.on('error', () => {
      this.lost = true;
    });
    client.on('end', () => {
      this.lost = true;
    });
  }

  get alive(): boolean {
    return !this.closed && !this.lost;
  }

  async query<R = Record<string, unknown>>(sql: string, params: readonly unknown[] = [], options: QueryOptions = {}): Promise<QueryResult<R>> {
    options.signal?.throwIfAborted();
    try {
      const res = await this.client.query({ text: sql, values: params as unknown[] });
      return { rows: res.rows as R[], rowCount: res.rowCount ?? null, command: res.command ?? null };
    } catch (err) {
      throw this.fail(err, 'running a query');
    }
  }

  async exec(script: string, options: QueryOptions = {}): Promise<void> {
    options.signal?.throwIfAborted();
    try {
      // No values: node-postgres sends the text with the simple protocol, several statements in one round trip.
      await this.client.query(script);
    } catch (err) {
      throw this.fail(err, 'running a script');
    }
  }

  async *stream(sql: string, params: readonly unknown[] = [], options: StreamOptions = {}): AsyncIterable<unknown[][]> {
    const batchSize = options.batchSize ?? 1000;
    const cursor = this.client.query(new Cursor(sql, params as unknown[], { rowMode: 'array' }));
    try {
      for (;;) {
        options.signal?.throwIfAborted();
        let rows: unknown[][];
        try {
          rows = (await cursor.read(batchSize)) as unknown[][];
        } catch (err) {
          throw this.fail(err, 'reading a result');
        }
        if (rows.length === 0) return;
        yield rows;
      }
    } finally {
      await cursor.close().catch(() => {});
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
    await this.client.end().catch(() => {});
  }

  private fail(err: unknown, what: string): AuditReplayError {
    const e = targetError(err, `${what} on database ${this.database}`);
    if (e.code === 'target-lost') this.lost = true;
    return e;
  }
}
