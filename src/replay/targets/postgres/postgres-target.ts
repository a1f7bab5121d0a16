import { connect as netConnect } from 'node:net';
import pg from 'pg';
import Cursor from 'pg-cursor';
import { AuditReplayError } from '../../../core/errors.js';
import type {
  ConnectOptions,
  ExecuteOptions,
  ExecuteResult,
  QueryOptions,
  QueryResult,
  StreamOptions,
  Target,
  TargetOptions,
  TargetSession,
  TransactionStatus,
} from '../../target.js';
import { abortedError, targetError } from '../../target-error.js';
import { pgpassLookup, pgpassPath } from './pgpass.js';
import { postgresSettings, redactUrl, sslAttempts, type PostgresSettings } from './postgres-url.js';
import { StreamedStatement } from './streamed-statement.js';

/** What node-postgres says when the server answers an SSLRequest with 'N'. */
const NO_SSL = /does not support SSL/i;

/**
 * A PostgreSQL server reached through node-postgres. Each session is its own client
 * (no pool: sync holds few sessions, and replay bounds its own concurrency). The URL is
 * read as libpq reads it (see `postgresSettings`): sslmode, root and client
 * certificates, PG* variables, the password from the URL, PGPASSWORD or the password
 * file. The password is never part of `url` or of an error message.
 */
export class PostgresTarget implements Target {
  readonly kind = 'postgres';
  readonly capabilities = { transactionalDdl: true, multiDatabase: true, concurrentSessions: true, advisoryLocks: true };
  readonly url: string;
  readonly database: string;
  readonly user: string;
  private readonly settings: PostgresSettings;
  private readonly sessions = new Set<PostgresSession>();
  /** Set once a `prefer` server said it has no TLS: later sessions skip the encrypted attempt, as libpq's retry would fail the same way. */
  private readonly tls = { plainOnly: false };
  private closed = false;

  constructor(rawUrl: string, options: TargetOptions = {}) {
    this.url = redactUrl(rawUrl);
    this.settings = postgresSettings(rawUrl, options);
    this.database = this.settings.database;
    this.user = this.settings.user;
  }

  async connect(options: ConnectOptions = {}): Promise<TargetSession> {
    const database = options.database ?? this.database;
    const user = options.user ?? this.user;
    const what =
      `connecting to ${this.url}` +
      (database === this.database && user === this.user ? '' : ` (${[user === this.user ? '' : `user ${user}`, database === this.database ? '' : `database ${database}`].filter(Boolean).join(', ')})`);
    if (options.signal?.aborted) throw abortedError(options.signal.reason, what);
    if (this.closed) throw new AuditReplayError('internal', `${what}: the target is closed`);
    let client: pg.Client;
    try {
      client = await connectPgClient(this.settings, this.clientConfig(database, options), what, this.tls);
    } catch (err) {
      throw err instanceof AuditReplayError ? err : targetError(err, what, true);
    }
    const session = new PostgresSession(client, database, { host: this.settings.base.host!, port: this.settings.port }, () => this.sessions.delete(session));
    this.sessions.add(session);
    if (options.signal?.aborted) {
      await session.close();
      throw abortedError(options.signal.reason, what);
    }
    return session;
  }

  private clientConfig(database: string, options: ConnectOptions): pg.ClientConfig {
    const config: pg.ClientConfig = { ...this.settings.base, database };
    if (options.user !== undefined && options.user !== this.user) {
      config.user = options.user;
      const { host, port } = this.settings;
      const file = pgpassPath();
      // Another user's password: given, else the password file's line for that user (PGPASSWORD is the URL user's).
      config.password = options.password ?? (() => pgpassLookup({ host, port, database, user: options.user! }, file) as string);
    } else if (options.password !== undefined) config.password = options.password;
    if (options.settings && Object.keys(options.settings).length > 0) {
      config.options = [config.options, startupOptions(options.settings)].filter(Boolean).join(' ');
    }
    return config;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.sessions].map((s) => s.close()));
  }
}

/**
 * A connected node-postgres client for `config`, trying TLS as libpq does for the
 * settings' sslmode: under `prefer` TLS first and then a plain connection, the other kind
 * again when the server's pg_hba refuses the first. `state.plainOnly` remembers a
 * `prefer` server that has no TLS, so later connections skip the attempt that would fail.
 * Driver errors are thrown as they are; TLS required by a server without it is
 * `target-unsupported`. Used by the target and by the table sink.
 */
export async function connectPgClient(settings: PostgresSettings, config: pg.ClientConfig, what: string, state: { plainOnly: boolean } = { plainOnly: false }): Promise<pg.Client> {
  const attempts = state.plainOnly ? [false as const] : sslAttempts(settings);
  let lastError: unknown;
  for (const [i, ssl] of attempts.entries()) {
    const last = i === attempts.length - 1;
    try {
      return await openClient({ ...config, ssl });
    } catch (err) {
      lastError = err;
      if (ssl !== false && NO_SSL.test((err as Error)?.message ?? '')) {
        if (settings.sslMode === 'prefer') state.plainOnly = true;
        if (last) throw new AuditReplayError('target-unsupported', `${what}: the server does not accept TLS connections (sslmode=${settings.sslMode})`, { cause: err });
        continue;
      }
      // libpq retries with the other kind of connection when the server refuses the first
      // (pg_hba hostssl/hostnossl lines) or, under prefer, when the TLS handshake fails.
      const code = String((err as { code?: unknown })?.code ?? '');
      if (!last && (code === '28000' || (ssl !== false && /^(EPROTO|ERR_SSL_)/.test(code)))) continue;
      throw err;
    }
  }
  throw lastError;
}

async function openClient(config: pg.ClientConfig): Promise<pg.Client> {
  const client = new pg.Client(config);
  // A client whose socket dies emits 'error'; without a listener that would crash the process.
  client.on('error', () => {});
  try {
    await client.connect();
    return client;
  } catch (err) {
    await client.end().catch(() => {});
    throw err;
  }
}

/**
 * Settings as the startup packet's `options` (`-c name=value`, spaces and backslashes
 * escaped as libpq wants), so the server treats them as the session's defaults.
 */
export function startupOptions(settings: Record<string, string>): string {
  return Object.entries(settings)
    .map(([name, value]) => {
      if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(name)) throw new AuditReplayError('usage', `'${name}' is not a setting name`);
      return `-c ${name}=${value.replace(/[\\ ]/g, (c) => `\\${c}`)}`;
    })
    .join(' ');
}

interface CancelAddress {
  host: string;
  port: number;
}

class PostgresSession implements TargetSession {
  private closed = false;
  private lost = false;
  /** Resolves when the connection ends, so nothing waits forever on a server that is gone. */
  private readonly ended: Promise<void>;

  constructor(
    private readonly client: pg.Client,
    readonly database: string,
    private readonly cancelAddress: CancelAddress,
    private readonly onClose: () => void,
  ) {
    this.ended = new Promise((resolve) => {
      client.on('end', () => {
        this.lost = true;
        resolve();
      });
    });
    client.on('error', () => {
      this.lost = true;
    });
  }

  get alive(): boolean {
    return !this.closed && !this.lost;
  }

  get transactionStatus(): TransactionStatus {
    // ReadyForQuery's status byte, which node-postgres keeps.
    switch ((this.client as unknown as { _txStatus?: string | null })._txStatus) {
      case 'I':
        return 'idle';
      case 'T':
        return 'transaction';
      case 'E':
        return 'failed';
      default:
        return null;
    }
  }

  async reset(options: QueryOptions = {}): Promise<void> {
    // The startup packet's settings are the session's defaults, so DISCARD ALL returns to them.
    await this.exec('DISCARD ALL', options);
  }

  async execute(sql: string, options: ExecuteOptions = {}): Promise<ExecuteResult> {
    const statement = new StreamedStatement(sql, options.onRows, options.batchSize);
    return this.run('running a statement', options.signal, () => {
      void this.client.query(statement as unknown as pg.QueryConfig);
      return statement.done;
    });
  }

  async query<R = Record<string, unknown>>(sql: string, params: readonly unknown[] = [], options: QueryOptions = {}): Promise<QueryResult<R>> {
    const res = await this.run('running a query', options.signal, () => this.client.query({ text: sql, values: params as unknown[] }));
    return { rows: res.rows as R[], rowCount: res.rowCount ?? null, command: res.command ?? null };
  }

  async exec(script: string, options: QueryOptions = {}): Promise<void> {
    // No values: node-postgres sends the text with the simple protocol, several statements in one round trip.
    await this.run('running a script', options.signal, () => this.client.query(script));
  }

  async *stream(sql: string, params: readonly unknown[] = [], options: StreamOptions = {}): AsyncIterable<unknown[][]> {
    const batchSize = options.batchSize ?? 1000;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new AuditReplayError('usage', `batchSize must be a positive integer, not ${batchSize}`);
    this.check('reading a result', options.signal);
    const cursor = this.client.query(new Cursor(sql, params as unknown[], { rowMode: 'array' }));
    try {
      for (;;) {
        const rows = await this.run('reading a result', options.signal, () => cursor.read(batchSize) as Promise<unknown[][]>);
        if (rows.length === 0) return;
        yield rows;
      }
    } finally {
      // On a dead connection the portal's close would wait forever for the server's answer.
      if (this.alive) await Promise.race([cursor.close().catch(() => {}), this.ended]);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
    await Promise.race([this.client.end().catch(() => {}), this.ended]);
  }

  private check(what: string, signal: AbortSignal | undefined): void {
    if (signal?.aborted) throw abortedError(signal.reason, `${what} on database ${this.database}`);
    if (this.closed) throw new AuditReplayError('target-lost', `${what} on database ${this.database}: the session is closed`);
  }

  /** Runs one round trip; an abort sends the server a cancel request and the call fails as `aborted`. */
  private async run<T>(what: string, signal: AbortSignal | undefined, call: () => Promise<T>): Promise<T> {
    this.check(what, signal);
    const onAbort = (): void => this.cancel();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await call();
    } catch (err) {
      if (signal?.aborted) throw abortedError(signal.reason, `${what} on database ${this.database}`);
      const e = targetError(err, `${what} on database ${this.database}`);
      if (e.code === 'target-lost') this.lost = true;
      throw e;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** A CancelRequest on a new connection, as libpq's PQcancel sends it (no authentication, best effort). */
  cancel(): void {
    const { processID, secretKey } = this.client as unknown as { processID: number | null; secretKey: number | null };
    if (processID === null || secretKey === null) return;
    const { host, port } = this.cancelAddress;
    const socket = host.startsWith('/') ? netConnect({ path: `${host}/.s.PGSQL.${port}` }) : netConnect({ host, port });
    const message = Buffer.alloc(16);
    message.writeInt32BE(16, 0);
    message.writeInt32BE(80877102, 4);
    message.writeInt32BE(processID, 8);
    message.writeInt32BE(secretKey, 12);
    socket.on('error', () => {});
    socket.on('connect', () => socket.end(message));
    socket.setTimeout(10_000, () => socket.destroy());
  }
}
