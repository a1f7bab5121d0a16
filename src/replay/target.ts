/**
 * Where statements are applied or replayed: the secondary's PostgreSQL (`postgres://`)
 * or an embedded PGlite (`pglite://DIR`, `pglite://memory`). Sync and replay only talk
 * to this interface; the registry picks the implementation by URL scheme.
 */

/** What a target can do; sync and replay adapt to it instead of testing the URL scheme. */
export interface TargetCapabilities {
  /** DDL inside a transaction rolls back with it (PostgreSQL, PGlite: true). */
  transactionalDdl: boolean;
  /** Sessions can be opened on other databases of the same server (PGlite: false, it holds one). */
  multiDatabase: boolean;
  /** Several sessions may be open at once (PGlite: false, one in-process backend). */
  concurrentSessions: boolean;
  /** `pg_try_advisory_lock` excludes other processes (PGlite: false, a lock file does it). */
  advisoryLocks: boolean;
}

export interface QueryResult<R = Record<string, unknown>> {
  rows: R[];
  /** Rows affected or returned, as the command tag says; null when it says nothing. */
  rowCount: number | null;
  /** The command tag's first word, e.g. `SELECT`, `CREATE` (both drivers report only that). */
  command: string | null;
}

export interface QueryOptions {
  signal?: AbortSignal;
}

/** A result column: its name and the type's OID. */
export interface ResultField {
  name: string;
  typeId: number;
}

export interface ExecuteOptions extends QueryOptions {
  /**
   * Called with the result's rows in arrival order, each value in the server's text form
   * (null for SQL NULL), in batches of at most `batchSize` rows (default 1,000); rows are
   * dropped once it returns, so a result of any size needs constant memory.
   */
  onRows?: (rows: (string | null)[][], fields: readonly ResultField[]) => void;
  batchSize?: number;
}

export interface ExecuteResult {
  /** The command tag's first word, e.g. `SELECT`, `UPDATE`. */
  command: string | null;
  /** Rows returned or affected, as the command tag says; null when it says nothing. */
  rowCount: number | null;
  fields: ResultField[];
}

export interface StreamOptions extends QueryOptions {
  /** Rows fetched per round trip (default 1,000): the most rows held in memory at once. */
  batchSize?: number;
}

/** Where a session stands, as the server's ReadyForQuery said: in a transaction, in a failed one, or neither; null when unknown. */
export type TransactionStatus = 'idle' | 'transaction' | 'failed' | null;

/** One connection to one database of the target. Not safe for concurrent use: one statement at a time. */
export interface TargetSession {
  /** The database this session is connected to. */
  readonly database: string;
  /** One statement, with bind parameters, through the extended protocol. */
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[], options?: QueryOptions): Promise<QueryResult<R>>;
  /**
   * A script of one or more statements in one round trip (simple protocol), as psql sends
   * them. Without an explicit BEGIN, PostgreSQL runs a multi-statement script as one
   * implicit transaction. Results are discarded.
   */
  exec(script: string, options?: QueryOptions): Promise<void>;
  /**
   * A query's rows in batches of at most `batchSize`, through a server-side cursor, so
   * a large result never sits in memory. Rows are arrays in column order.
   */
  stream(sql: string, params?: readonly unknown[], options?: StreamOptions): AsyncIterable<unknown[][]>;
  /**
   * One statement of any kind, as a client of the original workload sent it (no bind
   * parameters), its rows handed to `onRows` as they arrive. This is how replay runs
   * logged statements: values stay in the server's text form, so checksums made on two
   * servers compare.
   */
  execute(sql: string, options?: ExecuteOptions): Promise<ExecuteResult>;
  /**
   * Back to how `connect` left it: its user and settings, and nothing of earlier work
   * (session settings, roles, prepared statements, temporary objects), as a connection
   * pool does between clients. Only outside a transaction.
   */
  reset(options?: QueryOptions): Promise<void>;
  /**
   * Asks the server to cancel the statement in flight, if any (best effort, as libpq's
   * PQcancel; the statement then fails with 57014). PGlite cannot interrupt its engine:
   * there it does nothing.
   */
  cancel(): void;
  /** After the last statement: idle, in a transaction, or in a failed transaction. */
  readonly transactionStatus: TransactionStatus;
  /** Whether the connection is still usable (false after the server or network dropped it). */
  readonly alive: boolean;
  /** Releases the connection; safe to call twice and after a failure. */
  close(): Promise<void>;
}

export interface ConnectOptions {
  /** Another database on the same server (default: the URL's). */
  database?: string;
  /** Another user (default: the URL's); replay connects as each session's original user. */
  user?: string;
  /** That user's password (default: as for the URL's user: PGPASSWORD, the password file). Never printed. */
  password?: string;
  /**
   * Session settings in force from the start, e.g. `default_transaction_read_only: 'on'`.
   * PostgreSQL gets them in the startup packet, so `RESET ALL` and `DISCARD ALL` return
   * to them; PGlite gets a `SET` (its one backend has no startup packet).
   */
  settings?: Record<string, string>;
  signal?: AbortSignal;
}

export interface Target {
  /** The URL with any password removed: safe to print. */
  readonly url: string;
  readonly kind: 'postgres' | 'pglite';
  readonly capabilities: TargetCapabilities;
  /** The database the URL names (`postgres` for PGlite). */
  readonly database: string;
  /** The user the target connects as. */
  readonly user: string;
  connect(options?: ConnectOptions): Promise<TargetSession>;
  /** Closes every session and releases the target (PGlite: shuts the engine down). */
  close(): Promise<void>;
}

export interface TargetOptions {
  /** `application_name` the sessions show in pg_stat_activity and the server's logs (default `auditreplay`). */
  applicationName?: string;
  /** How long connecting may take (default 10 s). */
  connectTimeoutMs?: number;
}

export interface TargetFactory {
  /** True when this factory handles the URL (by scheme). */
  accepts(url: string): boolean;
  create(url: string, options: TargetOptions): Promise<Target>;
}
