import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRIMARY_LOG_SETTINGS } from '../helpers/ddl-workload.js';
import { ensurePostgres, freePort, startPostgres, type PgSetting, type PostgresCluster } from '../helpers/postgres-server.js';
import {
  pgbench,
  queryWorkloadSessions,
  recordPgbench,
  recordQueryWorkload,
  recordSessions,
  setupQueryObjects,
  type RecordedWindow,
} from '../helpers/query-workload.js';
import { runCli, type CliResult } from '../helpers/run-cli.js';
import type { ReplayResult } from '../../src/core/replay-result.js';

/**
 * `auditreplay replay` end to end, through the CLI, on real PostgreSQL 15: one primary
 * logs jsonlog while concurrent client sessions run recorded query windows (see
 * query-workload.ts); each test replays its own window onto a secondary that holds the
 * same data (`pgbench -i -s 1` and SHARED_SETUP_SQL on both before any window) and checks
 * the results file, the summary and the servers themselves.
 */

/** A secondary that logs every statement it runs, so the tests can find replay's tags in its log. */
const SECONDARY_LOG_SETTINGS: Record<string, PgSetting> = {
  log_destination: 'jsonlog',
  log_statement: 'all',
  log_min_duration_statement: 0,
  log_timezone: 'UTC',
  lc_messages: 'C',
};


const RESULT_FIELDS = [
  'runId',
  'originalId',
  'fingerprintId',
  'kind',
  'target',
  'scheduledAt',
  'startedAt',
  'durationMs',
  'rows',
  'checksum',
  'ok',
  'sqlState',
  'error',
  'originalDurationMs',
  'attempt',
] as const;

/** What extract says about an event of a window (the fields the tests use). */
interface ExtractedEvent {
  id: string;
  ts: number;
  session: string;
  /** The client's application_name. */
  client: string | null;
  kind: string;
  statement: string;
  fingerprintId: string;
}

/** Kinds replay runs without --allow-writes: queries, and session/tcl statements as context. */
const READ_ONLY_KINDS = new Set(['query', 'session', 'tcl']);
/** Failures a TPC-B replay with --allow-writes may record: lock timeout, deadlock, statement in an aborted transaction. */
const LOCK_STATES = new Set(['55P03', '40P01', '25P02']);
/** Characters replay's tag keeps as they are; the tests' ids must use only these to be found verbatim. */
const TAG_SAFE_ID = /^[A-Za-z0-9._:/@#=+-]+$/;

let primary: PostgresCluster;
/** Same data as the primary (pgbench -i -s 1, SHARED_SETUP_SQL), logs its statements; replays never write to it. */
let secondary: PostgresCluster;
const clusters: PostgresCluster[] = [];
let work: string;
let outputs = 0;

beforeAll(async () => {
  ensurePostgres([]);
  work = await mkdtemp(join(tmpdir(), 'auditreplay-replay-'));
  const [p, s] = await Promise.all([startPostgres({ settings: PRIMARY_LOG_SETTINGS }), startPostgres({ settings: SECONDARY_LOG_SETTINGS })]);
  primary = p;
  secondary = s;
  clusters.push(p, s);
  await Promise.all([setupQueryObjects(primary), setupQueryObjects(secondary)]);
  // Only the primary has it: a query on it fails on the secondary with 42P01.
  await primary.sql('CREATE TABLE primary_only (id integer PRIMARY KEY, label text); INSERT INTO primary_only SELECT g, \'p\' || g FROM generate_series(1, 5) AS g;', {
    applicationName: 'replay-test-setup',
  });
}, 600_000);

afterAll(async () => {
  await Promise.allSettled(clusters.map((c) => c.destroy()));
  if (work) await rm(work, { recursive: true, force: true });
}, 120_000);

function outFile(name: string): string {
  outputs++;
  return join(work, `${String(outputs).padStart(2, '0')}-${name}.jsonl`);
}

function sourceArgs(): string[] {
  // The collector's folder also holds postgresql.log (stderr before jsonlog starts): sniffed per file.
  return ['--source', primary.logDir, '--layout', 'flat'];
}

/** The events extract finds in the window, every kind, in extract's order. */
async function extractEvents(win: RecordedWindow): Promise<ExtractedEvent[]> {
  const out = outFile('events');
  const res = await runCli(['extract', ...sourceArgs(), '--from', win.from, '--to', win.to, '--out', out, '--progress', 'none']);
  expect(res.code, res.stderr).toBe(0);
  const text = (await readFile(out, 'utf8')).trim();
  return text === '' ? [] : text.split('\n').map((l) => JSON.parse(l) as ExtractedEvent);
}

interface ReplayRun extends CliResult {
  /** Wall time of the CLI process, ms. */
  wallMs: number;
  timedOut: boolean;
}

/**
 * Runs `auditreplay replay` on the window; kills it with SIGKILL after `timeoutMs` (the
 * test then fails on `timedOut`, with the output so far, instead of hanging).
 */
async function replay(
  win: RecordedWindow,
  target: string,
  out: string | null,
  extra: string[],
  options: { timeoutMs?: number; onSpawn?: (pid: number) => void } = {},
): Promise<ReplayRun> {
  const args = ['replay', ...sourceArgs(), '--from', win.from, '--to', win.to, '--target', target, ...(out === null ? [] : ['--out', out]), '--progress', 'none', ...extra];
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  const started = Date.now();
  const res = await runCli(args, {
    onSpawn: (pid) => {
      timer = setTimeout(() => {
        timedOut = true;
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }, options.timeoutMs ?? 90_000);
      options.onSpawn?.(pid);
    },
  });
  clearTimeout(timer);
  return { ...res, wallMs: Date.now() - started, timedOut };
}

/** Says what went wrong in a failed expectation: the command and its stderr. */
function describeRun(what: string, res: ReplayRun): string {
  return `${what}${res.timedOut ? ' (killed: timed out)' : ''}, exit ${res.code}\nstderr:\n${res.stderr.slice(-4000)}`;
}

/**
 * The results file: every line must be a JSON object with the documented fields and types.
 * Checked in plain code and asserted once (the first problems shown): a TPC-B window has
 * tens of thousands of lines.
 */
async function readResults(out: string): Promise<ReplayResult[]> {
  const text = await readFile(out, 'utf8');
  if (text === '') return [];
  expect(text.endsWith('\n'), 'the results file ends with a whole line').toBe(true);
  const problems: string[] = [];
  const results = text
    .slice(0, -1)
    .split('\n')
    .map((line, i) => {
      let r: ReplayResult;
      try {
        r = JSON.parse(line) as ReplayResult;
      } catch {
        problems.push(`line ${i + 1} is not JSON: ${line.slice(0, 300)}`);
        return null;
      }
      const wrong = resultShapeProblems(r);
      if (wrong.length > 0) problems.push(`line ${i + 1}: ${wrong.join('; ')} in ${line.slice(0, 600)}`);
      return r;
    });
  expect(problems.slice(0, 10), `${problems.length} malformed lines in ${out}`).toEqual([]);
  return results.filter((r): r is ReplayResult => r !== null);
}

/** What is wrong with one results line, by the contract's field list and types; empty when nothing. */
function resultShapeProblems(r: ReplayResult): string[] {
  if (typeof r !== 'object' || r === null) return ['not an object'];
  const p: string[] = [];
  for (const f of RESULT_FIELDS) if (!Object.hasOwn(r, f)) p.push(`no ${f}`);
  for (const f of ['runId', 'originalId', 'fingerprintId', 'kind', 'target'] as const) if (typeof r[f] !== 'string') p.push(`${f} is not a string`);
  // Epoch milliseconds: after 2020.
  for (const f of ['scheduledAt', 'startedAt'] as const) if (!(typeof r[f] === 'number' && r[f] > 1_577_836_800_000)) p.push(`${f} is not epoch ms`);
  if (!(typeof r.durationMs === 'number' && r.durationMs >= 0)) p.push('durationMs is not a duration');
  if (!(r.rows === null || (Number.isInteger(r.rows) && r.rows >= 0))) p.push('rows is not a count or null');
  if (!(r.checksum === null || (typeof r.checksum === 'string' && /^[0-9a-f]+$/i.test(r.checksum)))) p.push('checksum is not hex or null');
  if (typeof r.ok !== 'boolean') p.push('ok is not a boolean');
  if (!(r.sqlState === null || (typeof r.sqlState === 'string' && /^[0-9A-Z]{5}$/.test(r.sqlState)))) p.push('sqlState is not a SQLSTATE or null');
  if (r.ok === true && r.sqlState !== null) p.push('ok with a sqlState');
  if (r.ok === false && r.sqlState === null) p.push('failed without a sqlState');
  if (!(r.error === null || typeof r.error === 'string')) p.push('error is not a string or null');
  if (!(r.originalDurationMs === null || typeof r.originalDurationMs === 'number')) p.push('originalDurationMs is not a number or null');
  if (!(Number.isInteger(r.attempt) && r.attempt >= 1)) p.push('attempt is not 1..N');
  return p;
}

async function readSummaryFile(out: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(`${out}.summary.json`, 'utf8')) as Record<string, unknown>;
}

const num = (summary: Record<string, unknown> | null, key: string): number => {
  const v = summary?.[key];
  if (typeof v !== 'number') throw new Error(`summary.${key} is not a number: ${JSON.stringify(summary)}`);
  return v;
};
const obj = (summary: Record<string, unknown> | null, key: string): Record<string, number> => {
  const v = summary?.[key];
  if (typeof v !== 'object' || v === null) throw new Error(`summary.${key} is not an object: ${JSON.stringify(summary)}`);
  return v as Record<string, number>;
};
const total = (counts: Record<string, number>): number => Object.values(counts).reduce((a, b) => a + b, 0);

function byOriginalId(results: ReplayResult[]): Map<string, ReplayResult> {
  const map = new Map<string, ReplayResult>();
  const twice = new Set<string>();
  for (const r of results) {
    if (map.has(r.originalId)) twice.add(r.originalId);
    map.set(r.originalId, r);
  }
  expect([...twice].slice(0, 20), 'originalIds with two results').toEqual([]);
  return map;
}

/**
 * The results' originalIds are exactly `expected`, each once; on a mismatch says which ids
 * are missing, extra or repeated (the first 20 of each) instead of diffing whole lists.
 */
function expectSameIds(results: ReplayResult[], expected: readonly string[], what: string): void {
  const want = new Set(expected);
  const seen = new Map<string, number>();
  for (const r of results) seen.set(r.originalId, (seen.get(r.originalId) ?? 0) + 1);
  const missing = expected.filter((id) => !seen.has(id));
  const extra = [...seen.keys()].filter((id) => !want.has(id));
  const repeated = [...seen].filter(([, n]) => n > 1).map(([id]) => id);
  expect(
    { missing: missing.slice(0, 20), extra: extra.slice(0, 20), repeated: repeated.slice(0, 20), counts: [missing.length, extra.length, repeated.length] },
    `${what}: results (${results.length}) against expected ids (${expected.length})`,
  ).toEqual({ missing: [], extra: [], repeated: [], counts: [0, 0, 0] });
}

/**
 * The rows each event returned on the primary when the fixture ran it: the events of a
 * session (its application_name) in log order are the fixture's statements of that session.
 */
function recordedRows(win: RecordedWindow, events: ExtractedEvent[]): Map<string, number | null> {
  const rows = new Map<string, number | null>();
  const names = new Set(win.statements.map((st) => st.sessionName));
  for (const name of names) {
    const sent = win.statements.filter((st) => st.sessionName === name).sort((a, b) => a.index - b.index);
    const logged = events.filter((e) => e.client === name).sort((a, b) => a.ts - b.ts);
    expect(logged.map((e) => e.statement), `the logged statements of ${name}`).toEqual(sent.map((st) => st.sql));
    logged.forEach((e, i) => rows.set(e.id, sent[i]!.rows));
  }
  return rows;
}

/** Everything the server's logging collector wrote so far. */
async function logText(cluster: PostgresCluster): Promise<string> {
  const parts = await Promise.all((await cluster.logFiles()).map((f) => readFile(f, 'utf8')));
  return parts.join('\n');
}

async function query<R>(url: string, sql: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows as R[];
  } finally {
    await client.end();
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The value below which `p` of the sorted values fall (nearest rank). */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? 0;
}

describe('replay onto real PostgreSQL 15 secondaries', () => {
  it('replays a captured window exactly: one result per selected event, the primary\'s checksums, and orig= tags in the secondary\'s own log', async () => {
    const win = await recordQueryWorkload(primary, { sessions: 4, queriesPerSession: 25, seed: 11 });
    const events = await extractEvents(win);
    // The fixture and extract agree on what the window holds.
    expect(events).toHaveLength(win.statements.length);
    const kinds: Record<string, number> = {};
    for (const e of events) kinds[e.kind] = (kinds[e.kind] ?? 0) + 1;
    expect(kinds).toEqual(win.byKind);
    expect(new Set(events.map((e) => e.session)).size).toBe(4);
    const queryIds = events.filter((e) => e.kind === 'query').map((e) => e.id);
    const selected = events.filter((e) => READ_ONLY_KINDS.has(e.kind));
    expect(queryIds).toHaveLength(100);
    for (const e of events) expect(e.id, 'an id replay would percent-encode: the tag check below needs it verbatim').toMatch(TAG_SAFE_ID);

    const runId = 'exact-secondary';
    const out = outFile('exact-secondary');
    const res = await replay(win, secondary.url('postgres'), out, ['--speed', 'max', '--run-id', runId]);
    expect(res.code, describeRun('replay onto the secondary', res)).toBe(0);
    const results = await readResults(out);
    expect(results.length, 'results == summary.executed').toBe(num(res.summary, 'executed'));
    // One result per selected event: every query, and the session/tcl context statements.
    expectSameIds(results, selected.map((e) => e.id), 'queries, session and tcl statements of the window');
    const resultOf = byOriginalId(results);
    for (const e of selected) {
      const r = resultOf.get(e.id)!;
      expect(r, `result of ${e.id} (${e.statement})`).toMatchObject({ runId, kind: e.kind, fingerprintId: e.fingerprintId, ok: true, sqlState: null, attempt: 1 });
    }
    // Rows as the primary returned them when the workload ran, and checksums that tell results apart.
    const original = recordedRows(win, events);
    expect(new Map(queryIds.map((id) => [id, resultOf.get(id)!.rows])), 'rows per query against the recording').toEqual(new Map(queryIds.map((id) => [id, original.get(id)])));
    const checksums = queryIds.map((id) => resultOf.get(id)!.checksum);
    expect(checksums.filter((c) => c === null), 'queries without a checksum').toEqual([]);
    expect(new Set(checksums).size, 'distinct checksums').toBeGreaterThan(20);
    expect(res.summary).toMatchObject({ type: 'summary', command: 'replay', runId, complete: true, interrupted: false, queries: queryIds.length, ok: results.length, failed: 0, sessions: 4 });
    expect(total(obj(res.summary, 'skipped')), 'nothing to skip in a read-only window').toBe(0);
    expect(res.summary, 'the summary file and the last stderr line').toMatchObject(await readSummaryFile(out));

    // The primary's own checksums: the same window replayed read-only on the primary.
    const primaryOut = outFile('exact-primary');
    const onPrimary = await replay(win, primary.url('postgres'), primaryOut, ['--speed', 'max', '--run-id', 'exact-primary']);
    expect(onPrimary.code, describeRun('replay onto the primary', onPrimary)).toBe(0);
    const primaryResults = byOriginalId(await readResults(primaryOut));
    for (const id of queryIds) {
      const mine = resultOf.get(id)!;
      const theirs = primaryResults.get(id);
      expect(theirs, `the primary's result of ${id}`).toBeDefined();
      expect(theirs!.ok, `the primary's result of ${id}`).toBe(true);
      expect({ id, rows: mine.rows, checksum: mine.checksum }).toEqual({ id, rows: theirs!.rows, checksum: theirs!.checksum });
    }

    // Each replayed query carries its tag into the secondary's own log.
    const missing = (text: string): string[] => queryIds.filter((id) => !text.includes(`/* auditreplay run=${runId} orig=${id} */`));
    let absent = missing(await logText(secondary));
    for (let i = 0; i < 50 && absent.length > 0; i++) {
      // The logging collector writes asynchronously.
      await sleep(100);
      absent = missing(await logText(secondary));
    }
    expect(absent, "queries whose orig= tag is not in the secondary's log").toEqual([]);

    // compare joins the secondary's own log back to the primary's by those tags.
    const json = outFile('compare-logs');
    const cmp = await runCli([
      'compare', '--baseline-logs', primary.logDir, '--candidate-logs', secondary.logDir, '--layout', 'flat',
      '--from', win.from, '--to', 'now', '--json', json, '--markdown', outFile('compare-logs-md'), '--min-samples', '3',
    ]);
    expect(cmp.code, cmp.stderr).toBe(0);
    const report = JSON.parse(await readFile(json, 'utf8')) as { join: { matched: number } };
    expect(report.join.matched).toBeGreaterThanOrEqual(queryIds.length);
  }, 180_000);

  it('refuses a write hidden from the classifier on the server with SQLSTATE 25006 and records it', async () => {
    const countOrders = async (): Promise<number> => Number((await query<{ n: string }>(secondary.url('postgres'), 'SELECT count(*) AS n FROM orders'))[0]!.n);
    const ordersBefore = await countOrders();
    expect(ordersBefore).toBe(20);
    const [reader] = queryWorkloadSessions({ sessions: 1, queriesPerSession: 8, seed: 21 });
    const win = await recordSessions(
      primary,
      [
        {
          name: 'hidden-writes',
          steps: [
            { kind: 'query', sql: 'SELECT count(*) FROM orders' },
            { kind: 'dml', sql: 'UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid = 1' },
            { kind: 'dml', sql: 'DELETE FROM orders WHERE id = 2' },
            // A SELECT to the classifier; a DELETE to the server.
            { kind: 'query', sql: 'SELECT purge_orders()' },
            { kind: 'query', sql: 'SELECT count(*) FROM orders' },
            { kind: 'query', sql: 'SELECT abalance FROM pgbench_accounts WHERE aid = 3' },
          ],
        },
        reader!,
      ],
      { pauseMs: 5 },
    );
    const events = await extractEvents(win);
    const dmlIds = events.filter((e) => e.kind === 'dml').map((e) => e.id);
    expect(dmlIds).toHaveLength(2);
    const purge = events.filter((e) => e.statement.includes('purge_orders()'));
    expect(purge).toHaveLength(1);
    expect(purge[0]!.kind, 'the classifier sees a query').toBe('query');

    const out = outFile('hidden-write');
    const res = await replay(win, secondary.url('postgres'), out, ['--speed', 'max']);
    expect(res.code, describeRun('replay without --allow-writes', res)).toBe(0);
    const results = await readResults(out);
    const resultOf = byOriginalId(results);
    expect(resultOf.get(purge[0]!.id), 'the result of SELECT purge_orders()').toMatchObject({ ok: false, sqlState: '25006' });
    expect(resultOf.get(purge[0]!.id)!.error, "the server's message").toMatch(/read-only transaction/);
    for (const id of dmlIds) expect(resultOf.has(id), `a result for skipped DML ${id}`).toBe(false);
    expect(obj(res.summary, 'skipped').dml ?? 0).toBeGreaterThanOrEqual(2);
    expect(res.summary).toMatchObject({ complete: true, failed: 1, errorsBySqlState: { '25006': 1 } });
    expect(results.length).toBe(num(res.summary, 'executed'));
    // The session went on after the refusal.
    const after = events.filter((e) => e.session === purge[0]!.session && e.ts > purge[0]!.ts);
    expect(after).toHaveLength(2);
    for (const e of after) expect(resultOf.get(e.id), `result of ${e.statement}`).toMatchObject({ ok: true });

    expect(await countOrders(), "the secondary's orders").toBe(ordersBefore);
    const [a1] = await query<{ abalance: number }>(secondary.url('postgres'), 'SELECT abalance FROM pgbench_accounts WHERE aid = 1');
    expect(a1?.abalance, 'the UPDATE was not run').toBe(0);
  }, 120_000);

  it('keeps the original pace: p99 lag stays under 20 ms at --speed 1 when the server keeps up', async () => {
    const win = await recordQueryWorkload(primary, { sessions: 3, queriesPerSession: 45, pauseMs: [40, 120], seed: 5 });
    const events = (await extractEvents(win)).filter((e) => READ_ONLY_KINDS.has(e.kind));
    expect(events.length).toBeGreaterThanOrEqual(140);
    const first = Math.min(...events.map((e) => e.ts));
    const span = Math.max(...events.map((e) => e.ts)) - first;
    expect(span).toBeGreaterThan(3_000);

    const out = outFile('pace');
    const res = await replay(win, secondary.url('postgres'), out, ['--speed', '1']);
    expect(res.code, describeRun('replay --speed 1', res)).toBe(0);
    const results = await readResults(out);
    expect(results).toHaveLength(events.length);
    expect(res.summary).toMatchObject({ complete: true, failed: 0 });
    const lag = obj(res.summary, 'lagMs');
    expect(lag.p99, `summary.lagMs ${JSON.stringify(lag)}`).toBeLessThan(20);
    // The results say the same as the summary.
    expect(percentile(results.map((r) => r.startedAt - r.scheduledAt), 0.99)).toBeLessThan(20);
    // The schedule mirrors the original offsets...
    const ts = new Map(events.map((e) => [e.id, e.ts]));
    const start = Math.min(...results.map((r) => r.scheduledAt));
    const offSchedule = results
      .map((r) => ({ id: r.originalId, scheduled: r.scheduledAt - start, original: ts.get(r.originalId)! - first }))
      .filter((x) => !(Math.abs(x.scheduled - x.original) <= 5));
    expect(offSchedule.slice(0, 10), 'results whose scheduled offset is not the original offset (±5 ms)').toEqual([]);
    // ...and the run waited for it.
    expect(num(res.summary, 'elapsedMs'), `elapsedMs against a span of ${span} ms`).toBeGreaterThanOrEqual(0.9 * span);
    expect(Math.max(...results.map((r) => r.startedAt)) - Math.min(...results.map((r) => r.startedAt))).toBeGreaterThanOrEqual(0.9 * span);
  }, 120_000);

  it('leaves a valid results file marked incomplete when interrupted with SIGINT', async () => {
    const win = await recordQueryWorkload(primary, { sessions: 3, queriesPerSession: 20, pauseMs: [150, 250], seed: 9 });
    expect(win.spanMs).toBeGreaterThan(3_000);
    const events = (await extractEvents(win)).filter((e) => READ_ONLY_KINDS.has(e.kind));
    const runId = 'sigint-run';
    const out = outFile('sigint');
    let pid = 0;
    const running = replay(win, secondary.url('postgres'), out, ['--speed', '1', '--run-id', runId], { onSpawn: (p) => (pid = p) });
    let done = false;
    void running.then(() => (done = true));
    // Interrupt once the replay is well under way: its first tagged statement is in the secondary's log, then ~1 s more.
    const deadline = Date.now() + 30_000;
    while (!done && Date.now() < deadline && !(await logText(secondary)).includes(`run=${runId} `)) await sleep(100);
    if (!done) await sleep(1_000);
    if (done) expect.fail(describeRun('replay ended before it was interrupted', await running));
    process.kill(pid, 'SIGINT');
    const res = await running;
    expect(res.code, describeRun('replay interrupted with SIGINT', res)).toBe(130);

    expect(existsSync(out), 'the results file was committed').toBe(true);
    const results = await readResults(out);
    expect(results.length).toBeGreaterThan(0);
    expect(results.length).toBeLessThan(events.length);
    const ids = new Set(events.map((e) => e.id));
    expect(results.filter((r) => !ids.has(r.originalId)).map((r) => r.originalId), 'results for events not in the window').toEqual([]);
    byOriginalId(results);
    const summary = await readSummaryFile(out);
    expect(summary).toMatchObject({ complete: false, interrupted: true, executed: results.length });
    expect(res.summary).toMatchObject({ type: 'summary', command: 'replay', complete: false, interrupted: true, executed: results.length });
  }, 120_000);

  it('records a query that fails on the secondary with its SQLSTATE and goes on', async () => {
    const others = queryWorkloadSessions({ sessions: 2, queriesPerSession: 6, seed: 31 });
    const win = await recordSessions(
      primary,
      [
        {
          name: 'missing-table',
          steps: [
            { kind: 'query', sql: 'SELECT abalance FROM pgbench_accounts WHERE aid = 5' },
            { kind: 'query', sql: 'SELECT id, label FROM primary_only ORDER BY id' },
            { kind: 'query', sql: 'SELECT abalance FROM pgbench_accounts WHERE aid = 6' },
            { kind: 'query', sql: 'SELECT b.bid, count(*) FROM pgbench_accounts a JOIN pgbench_branches b ON b.bid = a.bid WHERE a.aid BETWEEN 10 AND 40 GROUP BY b.bid' },
          ],
        },
        ...others,
      ],
      { pauseMs: 5 },
    );
    const events = await extractEvents(win);
    const failing = events.filter((e) => e.statement.includes('primary_only'));
    expect(failing).toHaveLength(1);
    const after = events.filter((e) => e.session === failing[0]!.session && e.ts > failing[0]!.ts);
    expect(after).toHaveLength(2);

    const out = outFile('missing-table');
    const res = await replay(win, secondary.url('postgres'), out, ['--speed', 'max']);
    expect(res.code, describeRun('replay with a table missing on the secondary', res)).toBe(0);
    const results = await readResults(out);
    const resultOf = byOriginalId(results);
    expect(resultOf.get(failing[0]!.id), 'the result of the query on primary_only').toMatchObject({ ok: false, sqlState: '42P01' });
    for (const e of after) expect(resultOf.get(e.id), `result of ${e.statement}`).toMatchObject({ ok: true, sqlState: null });
    expect(results).toHaveLength(events.filter((e) => READ_ONLY_KINDS.has(e.kind)).length);
    expect(results.filter((r) => !r.ok)).toHaveLength(1);
    expect(res.summary).toMatchObject({ complete: true, failed: 1, errorsBySqlState: { '42P01': 1 }, executed: results.length });
  }, 120_000);

  it('finishes a TPC-B pgbench window with --allow-writes without hanging on lock order', async () => {
    // Both start from the same rows: the primary's pgbench tables are made afresh (outside any window), as the secondary's.
    const [tpcb] = await Promise.all([startPostgres(), pgbench(primary, ['-i', '-s', '1', '-q'])]);
    clusters.push(tpcb);
    await pgbench(tpcb, ['-i', '-s', '1', '-q']);
    // Scale 1: one branch row, which every transaction updates.
    const win = await recordPgbench(primary, ['-c', '4', '-j', '2', '-T', '2', '-n']);
    const events = await extractEvents(win);
    const dml = events.filter((e) => e.kind === 'dml');
    expect(dml.length, win.output).toBeGreaterThan(100);
    expect(new Set(events.map((e) => e.session)).size).toBeGreaterThanOrEqual(4);

    const history = async (): Promise<number> => Number((await query<{ n: string }>(tpcb.url('postgres'), 'SELECT count(*) AS n FROM pgbench_history'))[0]!.n);
    // At max speed the sessions' statements meet on the server in the most orders (at --speed 1 too, slower; one run keeps the suite short).
    const runs: [string, string[]][] = [['max', ['--speed', 'max']]];
    for (const [speed, flags] of runs) {
      if (speed !== 'max') await pgbench(tpcb, ['-i', '-s', '1', '-q']);
      const out = outFile(`tpcb-speed-${speed}`);
      const res = await replay(win, tpcb.url('postgres'), out, ['--allow-writes', ...flags, '--concurrency', '4', '--lock-timeout', '1s'], { timeoutMs: 120_000 });
      expect(res.timedOut, describeRun(`TPC-B replay at --speed ${speed}`, res)).toBe(false);
      expect(res.code, describeRun(`TPC-B replay at --speed ${speed}`, res)).toBe(0);
      expect(res.summary).toMatchObject({ complete: true, interrupted: false });
      const results = await readResults(out);
      expect(results.length).toBe(num(res.summary, 'executed'));
      // With --allow-writes nothing is skipped: every event of the window ran once.
      expectSameIds(results, events.map((e) => e.id), `TPC-B window at --speed ${speed}`);
      const states = [...new Set(results.filter((r) => !r.ok).map((r) => r.sqlState))];
      for (const s of states) expect(LOCK_STATES.has(s!), `a failure with SQLSTATE ${s} (expected one of ${[...LOCK_STATES].join(', ')})`).toBe(true);
      expect(results.filter((r) => r.ok && r.kind === 'dml').length, 'successful writes').toBeGreaterThan(0);
      expect(await history(), `pgbench_history on the secondary after --speed ${speed}`).toBeGreaterThan(0);
    }
  }, 300_000);

  it('prints the plan in --dry-run without connecting', async () => {
    const win = await recordQueryWorkload(primary, { sessions: 3, queriesPerSession: 10, pauseMs: 20, seed: 41 });
    const events = await extractEvents(win);
    const queries = events.filter((e) => e.kind === 'query').length;
    const tcl = events.filter((e) => e.kind === 'tcl').length;
    expect(queries).toBe(30);
    expect(tcl).toBe(6);
    const port = await freePort();
    // At --speed 2 the expected duration is a time (at max it is 'as fast as the target answers').
    const res = await replay(win, `postgres://postgres@127.0.0.1:${port}/postgres`, null, ['--dry-run', '--speed', '2'], { timeoutMs: 60_000 });
    expect(res.code, describeRun('replay --dry-run against a port where nothing listens', res)).toBe(0);
    const lines = res.stdout.split('\n');
    const lineWith = (re: RegExp, also: RegExp | null, what: string): void => {
      expect(
        lines.some((l) => re.test(l) && (also === null || also.test(l))),
        `${what} in the plan:\n${res.stdout}`,
      ).toBe(true);
    };
    lineWith(/sessions/i, /\b3\b/, 'the number of sessions');
    lineWith(/query/i, new RegExp(`\\b${queries}\\b`), 'the number of queries');
    lineWith(/tcl/i, new RegExp(`\\b${tcl}\\b`), 'the number of tcl statements');
    lineWith(/span/i, /\d/, 'the time span');
    lineWith(/expected|duration/i, /\d(\.\d+)?\s*(ms|s|sec|seconds?|min|minutes?)\b/i, 'the expected duration');
  }, 60_000);
  it('records a statement that waits longer than --lock-timeout with SQLSTATE 55P03, and its session goes on', async () => {
    // On the primary the second session waited for the first one's COMMIT; replayed, it may wait 500 ms.
    const win = await recordSessions(
      primary,
      [
        {
          name: 'holder',
          steps: [
            { kind: 'tcl', sql: 'BEGIN', pauseAfterMs: 20 },
            { kind: 'dml', sql: 'UPDATE pgbench_branches SET bbalance = bbalance + 1 WHERE bid = 1', pauseAfterMs: 2500 },
            { kind: 'tcl', sql: 'COMMIT' },
          ],
        },
        {
          name: 'waiter',
          steps: [
            { kind: 'query', sql: 'SELECT 1', pauseAfterMs: 400 },
            { kind: 'dml', sql: 'UPDATE pgbench_branches SET bbalance = bbalance - 1 WHERE bid = 1', pauseAfterMs: 20 },
            { kind: 'query', sql: 'SELECT bbalance FROM pgbench_branches WHERE bid = 1' },
          ],
        },
      ],
      { pauseMs: 5 },
    );
    const events = await extractEvents(win);
    const waiter = events.find((e) => e.statement.includes('bbalance - 1'))!;
    const after = events.find((e) => e.session === waiter.session && e.ts > waiter.ts)!;
    const commit = events.find((e) => e.kind === 'tcl' && /COMMIT/i.test(e.statement))!;
    const out = outFile('lock-timeout');
    const res = await replay(win, secondary.url('postgres'), out, ['--allow-writes', '--speed', '1', '--lock-timeout', '500ms'], { timeoutMs: 60_000 });
    expect(res.code, describeRun('replay of a lock wait', res)).toBe(0);
    const resultOf = byOriginalId(await readResults(out));
    const waited = resultOf.get(waiter.id)!;
    expect(waited, 'the waiting UPDATE').toMatchObject({ ok: false, sqlState: '55P03' });
    expect(waited.durationMs).toBeGreaterThanOrEqual(450);
    expect(waited.durationMs).toBeLessThan(2000);
    expect(resultOf.get(after.id), 'the statement after it in the same session').toMatchObject({ ok: true });
    expect(resultOf.get(commit.id), 'the holder commits').toMatchObject({ ok: true });
    expect(res.summary).toMatchObject({ complete: true, errorsBySqlState: { '55P03': 1 } });
  }, 60_000);
});
