import pg from 'pg';
import { Rng } from '../../samples/gen/prng.js';
import { runPgTool, type PostgresCluster, type ToolResult } from './postgres-server.js';

/**
 * A real query workload on PostgreSQL 15 for the replay tests: concurrent client sessions
 * (node `pg` clients, each its own backend, so the log's session ids differ) run
 * pgbench-style selects, joins and aggregates with their values written as literals (the
 * simple protocol, one statement per log record, as psql and `pgbench -M simple` send
 * them), a little session context (SET) and read-only transaction blocks. Each recording
 * is a window of its own: `from` is taken before an idle margin and `to` after another,
 * so two recordings made one after the other never share a statement, and whatever a
 * test runs between recordings falls outside both.
 *
 * The primary should log with `PRIMARY_LOG_SETTINGS` of ddl-workload.ts (jsonlog,
 * log_statement=all, UTC, messages in English).
 */

/** The kinds a step can be, as extract classifies them. */
export type WorkloadKind = 'query' | 'session' | 'tcl' | 'dml';

/** One statement a session sends. */
export interface WorkloadStep {
  sql: string;
  /** How extract classifies it (the test's expectation, not a guess the fixture checks). */
  kind: WorkloadKind;
  /** The SQLSTATE it must fail with on the primary; unset: it must succeed. */
  fails?: string;
  /** Pause after this step instead of the session's usual one, in ms. */
  pauseAfterMs?: number;
}

/** The statements of one client session, in order. */
export interface WorkloadSession {
  /** Shown as application_name, so the session can be told apart in the log. */
  name: string;
  steps: WorkloadStep[];
  /** Database to connect to (default `postgres`). */
  database?: string;
  /** Login role (default `postgres`). */
  user?: string;
}

/** A statement as the fixture ran it. */
export interface RecordedStatement {
  /** Index of its session in the recording. */
  session: number;
  /** That session's name: its application_name, which extract reports as the event's `client`. */
  sessionName: string;
  /** Its position in that session, 0-based. */
  index: number;
  sql: string;
  kind: WorkloadKind;
  /** When the client sent it, epoch ms. */
  sentAt: number;
  /** Client-side round trip, ms. */
  durationMs: number;
  ok: boolean;
  /** The SQLSTATE it failed with, or null. */
  sqlState: string | null;
  /** Rows returned or affected, as the command tag said. */
  rows: number | null;
}

/** A recorded window: pass `from` and `to` to extract and replay. */
export interface RecordedWindow {
  /** Window start (inclusive), ISO 8601 UTC with milliseconds, before the leading margin. */
  from: string;
  /** Window end (exclusive), ISO 8601 UTC with milliseconds, after the trailing margin. */
  to: string;
  fromMs: number;
  toMs: number;
  /** When the first statement was sent and when the last one was, epoch ms. */
  firstSentMs: number;
  lastSentMs: number;
  /** `lastSentMs - firstSentMs`: how long a replay at the original pace must take, at least. */
  spanMs: number;
  /** Every statement sent, in send order. */
  statements: RecordedStatement[];
  /** Statements per session, by session index. */
  perSession: number[];
  /** Statements by kind. */
  byKind: Partial<Record<WorkloadKind, number>>;
  /** Statements that failed on the primary (every one of them on purpose). */
  failures: number;
}

export interface RecordOptions {
  /**
   * Pause between two statements of a session, ms: a number, or `[min, max]` for a pause
   * drawn uniformly (seeded) per statement. Default 0 (as fast as the server answers).
   */
  pauseMs?: number | readonly [number, number];
  /** Idle time inside the window before the first statement and after the last one (default 150 ms). */
  marginMs?: number;
  /** Seeds the drawn pauses (default 1). */
  seed?: number;
}

export interface QueryWorkloadOptions extends RecordOptions {
  /** Concurrent client sessions (default 4). */
  sessions?: number;
  /** Queries per session, context statements not counted (default 25). */
  queriesPerSession?: number;
  /**
   * Per session, two `SET` statements (search_path first, work_mem about halfway) and one
   * read-only `BEGIN ... COMMIT` block around two or three of the queries (default true).
   */
  context?: boolean;
}

/**
 * Objects the query workloads use besides pgbench's tables, created identically on the
 * primary and on every secondary before any window is recorded: `orders` with 20 rows
 * and `purge_orders()`, a function whose SELECT hides a DELETE from the classifier.
 */
export const SHARED_SETUP_SQL = `
CREATE TABLE orders (id integer PRIMARY KEY, customer text NOT NULL, amount numeric(10,2) NOT NULL);
INSERT INTO orders SELECT g, 'customer-' || (g % 7), (g * 12.5)::numeric(10,2) FROM generate_series(1, 20) AS g;
CREATE FUNCTION purge_orders() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE n integer;
BEGIN
  DELETE FROM orders;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END
$$;
`;

/**
 * The lowest pgbench_accounts aid the generated queries read. aid 1 is left to tests that
 * write (an UPDATE of aid 1 on the primary must not change a checksum another test compares).
 */
export const FIRST_READ_AID = 2;
const ACCOUNTS_AT_SCALE_1 = 100_000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until the clock is past `ms`, so the next statement's log time (milliseconds) is later than the last one's. */
async function pastMillisecond(ms: number): Promise<void> {
  while (Date.now() <= ms) await new Promise((resolve) => setImmediate(resolve));
}

export { runPgTool, type ToolResult } from './postgres-server.js';

/** Runs pgbench against the cluster's `postgres` database and fails with its output unless it exits 0. */
export async function pgbench(cluster: PostgresCluster, args: readonly string[]): Promise<ToolResult> {
  const r = await runPgTool(cluster, 'pgbench', [...args, 'postgres']);
  if (r.code !== 0) throw new Error(`pgbench ${args.join(' ')} failed (exit ${r.code}): ${r.stderr || r.stdout}`);
  return r;
}

/**
 * `pgbench -i -s SCALE` (deterministic: every cluster initialised so holds the same rows),
 * then SHARED_SETUP_SQL. Run it on the primary and on each secondary before recording.
 */
export async function setupQueryObjects(cluster: PostgresCluster, options: { scale?: number; shared?: boolean } = {}): Promise<void> {
  await pgbench(cluster, ['-i', '-s', String(options.scale ?? 1), '-q']);
  if (options.shared ?? true) await cluster.sql(SHARED_SETUP_SQL, { applicationName: 'query-workload-setup' });
}

function pauseDrawer(pause: RecordOptions['pauseMs'], rng: Rng): () => number {
  if (pause === undefined) return () => 0;
  if (typeof pause === 'number') return () => pause;
  const [lo, hi] = pause;
  return () => lo + rng.float() * (hi - lo);
}

/**
 * Runs the sessions at once, each on its own connection, inside a window of its own, and
 * returns the window. Throws when a statement fails unless it was meant to fail with that
 * very SQLSTATE, and when a step meant to fail succeeds.
 */
export async function recordSessions(cluster: PostgresCluster, sessions: readonly WorkloadSession[], options: RecordOptions = {}): Promise<RecordedWindow> {
  const marginMs = options.marginMs ?? 150;
  const rng = new Rng(options.seed ?? 1);
  const clients = sessions.map(
    (s) =>
      new pg.Client({
        host: cluster.host,
        port: cluster.port,
        user: s.user ?? 'postgres',
        database: s.database ?? 'postgres',
        application_name: s.name,
      }),
  );
  for (const c of clients) c.on('error', () => {});
  const statements: RecordedStatement[] = [];
  try {
    // Connecting logs no statement: done before the window opens.
    await Promise.all(clients.map((c) => c.connect()));
    const fromMs = Date.now();
    await sleep(marginMs);
    await Promise.all(
      sessions.map(async (s, si) => {
        const client = clients[si]!;
        const pause = pauseDrawer(options.pauseMs, rng.fork(`session-${si}`));
        for (let i = 0; i < s.steps.length; i++) {
          const step = s.steps[i]!;
          const sentAt = Date.now();
          let sqlState: string | null = null;
          let rows: number | null = null;
          try {
            // No parameters: the simple protocol, the literal values in the logged text.
            const res = await client.query(step.sql);
            rows = res.rowCount ?? null;
          } catch (err) {
            sqlState = (err as { code?: string }).code ?? 'unknown';
            if (step.fails !== sqlState) throw new Error(`query workload ${s.name}: ${step.sql} failed with ${sqlState}: ${(err as Error).message}`, { cause: err });
          }
          if (step.fails !== undefined && sqlState === null) throw new Error(`query workload ${s.name}: ${step.sql} succeeded but must fail with ${step.fails}`);
          statements.push({ session: si, sessionName: s.name, index: i, sql: step.sql, kind: step.kind, sentAt, durationMs: Date.now() - sentAt, ok: sqlState === null, sqlState, rows });
          if (i < s.steps.length - 1) {
            const wait = step.pauseAfterMs ?? pause();
            if (wait > 0) await sleep(wait);
          }
          // Within a session, log order is then time order even at millisecond resolution.
          await pastMillisecond(Date.now());
        }
      }),
    );
    await sleep(marginMs);
    const toMs = Date.now();
    statements.sort((a, b) => a.sentAt - b.sentAt || a.session - b.session || a.index - b.index);
    const byKind: Partial<Record<WorkloadKind, number>> = {};
    for (const st of statements) byKind[st.kind] = (byKind[st.kind] ?? 0) + 1;
    const firstSentMs = statements[0]?.sentAt ?? fromMs + marginMs;
    const lastSentMs = statements[statements.length - 1]?.sentAt ?? firstSentMs;
    return {
      ...windowTimes(fromMs, toMs, firstSentMs, lastSentMs),
      statements,
      perSession: sessions.map((_, si) => statements.filter((st) => st.session === si).length),
      byKind,
      failures: statements.filter((st) => !st.ok).length,
    };
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => {})));
  }
}

/** The generated sessions of recordQueryWorkload, deterministic for a seed. */
export function queryWorkloadSessions(options: Omit<QueryWorkloadOptions, keyof RecordOptions> & { seed?: number } = {}): WorkloadSession[] {
  const sessions = options.sessions ?? 4;
  const queries = options.queriesPerSession ?? 25;
  const context = options.context ?? true;
  if (!(Number.isInteger(sessions) && sessions >= 1 && Number.isInteger(queries) && queries >= 1)) {
    throw new Error('sessions and queriesPerSession are whole numbers >= 1');
  }
  const root = new Rng(options.seed ?? 1);
  return Array.from({ length: sessions }, (_, si) => {
    const r = root.fork(`query-session-${si}`);
    const aid = (span = 0): number => r.int(FIRST_READ_AID, ACCOUNTS_AT_SCALE_1 - span);
    const query = (): WorkloadStep => {
      const shape = r.weighted<string>([
        ['point', 6],
        ['join', 2],
        ['aggregate', 1],
        ['in-list', 1],
        ['tellers', 1],
      ]);
      switch (shape) {
        case 'point':
          return { kind: 'query', sql: `SELECT abalance FROM pgbench_accounts WHERE aid = ${aid()}` };
        case 'join': {
          const a = aid(20);
          return {
            kind: 'query',
            sql: `SELECT a.aid, a.abalance, b.bid, b.bbalance FROM pgbench_accounts a JOIN pgbench_branches b ON b.bid = a.bid WHERE a.aid BETWEEN ${a} AND ${a + r.int(3, 20)} ORDER BY a.aid`,
          };
        }
        case 'aggregate': {
          const a = aid(5_000);
          return {
            kind: 'query',
            sql: `SELECT bid, count(*) AS n, sum(abalance) AS total, min(aid) AS lo, max(aid) AS hi FROM pgbench_accounts WHERE aid BETWEEN ${a} AND ${a + r.int(100, 5_000)} GROUP BY bid`,
          };
        }
        case 'in-list':
          return { kind: 'query', sql: `SELECT aid, bid, abalance, filler FROM pgbench_accounts WHERE aid IN (${aid()}, ${aid()}, ${aid()})` };
        default:
          return {
            kind: 'query',
            sql: `SELECT t.tid, t.tbalance, b.bbalance FROM pgbench_tellers t JOIN pgbench_branches b USING (bid) WHERE t.tid <= ${r.int(1, 10)}`,
          };
      }
    };
    const steps: WorkloadStep[] = [];
    if (context) steps.push({ kind: 'session', sql: 'SET search_path TO public' });
    // The read-only block sits somewhere in the middle, holding up to three of the queries.
    const blockAt = context && queries >= 2 ? r.int(0, queries - 2) : -1;
    let left = queries;
    // One SET work_mem once about half the queries are sent: every session has exactly two session statements.
    let workMemSet = !context;
    for (let q = 0; left > 0; q++) {
      if (!workMemSet && left <= Math.ceil(queries / 2)) {
        steps.push({ kind: 'session', sql: `SET work_mem = '${r.pick(['4MB', '8MB', '16MB'])}'` });
        workMemSet = true;
      }
      if (q === blockAt) {
        steps.push({ kind: 'tcl', sql: r.chance(0.5) ? 'BEGIN READ ONLY' : 'BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY' });
        const inBlock = Math.min(left, r.int(2, 3));
        for (let k = 0; k < inBlock; k++) steps.push(query());
        left -= inBlock;
        steps.push({ kind: 'tcl', sql: 'COMMIT' });
        continue;
      }
      steps.push(query());
      left--;
    }
    if (!workMemSet) steps.push({ kind: 'session', sql: "SET work_mem = '8MB'" });
    return { name: `qw-${si}`, steps };
  });
}

/**
 * Records a pgbench-style read workload: `sessions` concurrent clients, each sending
 * `queriesPerSession` selects (point lookups, joins with pgbench_branches and
 * pgbench_tellers, an aggregate, IN lists) plus, with `context`, `SET search_path`,
 * `SET work_mem` and one `BEGIN ... READ ONLY` / `COMMIT` block. Reads only pgbench's
 * tables, never aid 1. Needs `setupQueryObjects` (pgbench -i) on the cluster first.
 * Deterministic for a seed, apart from the log's session ids and times.
 */
export function recordQueryWorkload(cluster: PostgresCluster, options: QueryWorkloadOptions = {}): Promise<RecordedWindow> {
  return recordSessions(cluster, queryWorkloadSessions(options), options);
}

/** The times of a recorded window: its ends (ISO and ms) and when its first and last statements were sent. */
function windowTimes(fromMs: number, toMs: number, firstSentMs: number, lastSentMs: number): Pick<RecordedWindow, 'from' | 'to' | 'fromMs' | 'toMs' | 'firstSentMs' | 'lastSentMs' | 'spanMs'> {
  return { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString(), fromMs, toMs, firstSentMs, lastSentMs, spanMs: lastSentMs - firstSentMs };
}

/**
 * Records a pgbench run (e.g. `['-c', '4', '-j', '2', '-T', '5', '-n']`) in a window of its
 * own, like recordSessions; `statements` stays empty (pgbench does not say what it sent).
 */
export async function recordPgbench(cluster: PostgresCluster, args: readonly string[], options: { marginMs?: number } = {}): Promise<RecordedWindow & { output: string }> {
  const marginMs = options.marginMs ?? 150;
  const fromMs = Date.now();
  await sleep(marginMs);
  const firstSentMs = Date.now();
  const r = await pgbench(cluster, args);
  const lastSentMs = Date.now();
  await sleep(marginMs);
  const toMs = Date.now();
  return {
    ...windowTimes(fromMs, toMs, firstSentMs, lastSentMs),
    statements: [],
    perSession: [],
    byKind: {},
    failures: 0,
    output: r.stdout + r.stderr,
  };
}
