import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensurePostgres, startPostgres, type PostgresCluster } from '../helpers/postgres-server.js';
import { ROOT } from '../helpers/run-cli.js';

/**
 * Graceful shutdown as Kubernetes asks for it: SIGTERM during a sync and during a replay
 * against a real PostgreSQL 15. The logs are written here (PostgreSQL jsonlog records, as
 * the decoder reads them), so each run lasts as long as the test needs.
 */

let server: PostgresCluster;
let work: string;
const PASSWORD = 's3cret-pw-7f3a';
const DAY = Date.UTC(2026, 10, 20, 10, 0, 0);
const WINDOW = ['--from', '2026-11-20', '--to', '2026-11-21', '--layout', 'flat'];

beforeAll(async () => {
  ensurePostgres([]);
  work = await mkdtemp(join(tmpdir(), 'auditreplay-sigterm-'));
  server = await startPostgres();
}, 300_000);

afterAll(async () => {
  await server?.destroy();
  if (work) await rm(work, { recursive: true, force: true });
}, 60_000);

interface LogStatement {
  sql: string;
  session: string;
  /** Start time, ms after DAY. */
  at: number;
}

/** PostgreSQL jsonlog lines of these statements (log_min_duration_statement=0 style); ids are `session:line`. */
function jsonlog(statements: LogStatement[], extra: { after: number; line: string }[] = []): { text: string; ids: string[] } {
  const lineNums = new Map<string, number>();
  const lines: string[] = [];
  const ids: string[] = [];
  statements.forEach((s, i) => {
    const n = (lineNums.get(s.session) ?? 0) + 1;
    lineNums.set(s.session, n);
    ids.push(`${s.session}:${n}`);
    const ts = new Date(DAY + s.at).toISOString().replace('T', ' ').replace('Z', ' UTC');
    lines.push(
      JSON.stringify({
        timestamp: ts,
        user: 'postgres',
        dbname: 'postgres',
        pid: 4000 + [...lineNums.keys()].indexOf(s.session),
        session_id: s.session,
        line_num: n,
        error_severity: 'LOG',
        state_code: '00000',
        message: `duration: 1.000 ms  statement: ${s.sql}`,
      }),
    );
    for (const e of extra) if (e.after === i) lines.push(e.line);
  });
  return { text: lines.join('\n') + '\n', ids };
}

async function writeLog(name: string, text: string): Promise<string> {
  const dir = join(work, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'postgresql-2026-11-20_100000.json'), text);
  return dir;
}

interface Running {
  pid: number;
  /** Stderr lines so far. */
  lines: string[];
  /** Resolves once a stderr line satisfies `test` (rejects when the process ends first). */
  waitForLine(test: (entry: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; endedAt: number }>;
}

/** Runs the CLI with stderr readable while it runs (run-cli.ts gives it only at the end). */
function startCli(args: string[]): Running {
  const child = spawn(process.execPath, ['bin/auditreplay.js', ...args], { cwd: ROOT });
  let stdout = '';
  let stderr = '';
  const lines: string[] = [];
  let waiters: (() => void)[] = [];
  let ended = false;
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    const parts = stderr.split('\n');
    lines.splice(0, lines.length, ...parts.slice(0, -1));
    for (const w of waiters) w();
  });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; endedAt: number }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      ended = true;
      for (const w of waiters) w();
      resolve({ code, signal, stdout, stderr, endedAt: Date.now() });
    });
  });
  const waitForLine = (test: (entry: Record<string, unknown>) => boolean, timeoutMs = 60_000): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no such stderr line in ${timeoutMs} ms:\n${stderr.slice(-3000)}`)), timeoutMs);
      const check = (): void => {
        for (const line of lines) {
          let entry: Record<string, unknown>;
          try {
            entry = JSON.parse(line) as Record<string, unknown>;
          } catch {
            continue;
          }
          if (test(entry)) {
            clearTimeout(timer);
            waiters = waiters.filter((w) => w !== check);
            return resolve(entry);
          }
        }
        if (ended) {
          clearTimeout(timer);
          reject(new Error(`the process ended before the line appeared:\n${stderr.slice(-3000)}`));
        }
      };
      waiters.push(check);
      check();
    });
  return { pid: child.pid!, lines, waitForLine, done };
}

async function query<R>(sql: string, params: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: server.url('postgres') });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as R[];
  } finally {
    await client.end();
  }
}

/** Polls `test` until it holds; fails at once, with its stderr, when the process ends first. */
async function until(run: Running, test: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  let ended = false;
  void run.done.then(() => (ended = true));
  const deadline = Date.now() + timeoutMs;
  while (!(await test())) {
    if (ended) throw new Error(`the process ended before ${what}:\n${run.lines.slice(-20).join('\n')}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Sends SIGTERM as Kubernetes does, and waits: the run must exit 143. Gives its result and how long it took to stop. */
async function terminate(run: Running): Promise<{ res: Awaited<Running['done']>; stopMs: number }> {
  const signalledAt = Date.now();
  process.kill(run.pid, 'SIGTERM');
  const res = await run.done;
  expect(res.code, res.stderr.slice(-3000)).toBe(143);
  return { res, stopMs: res.endedAt - signalledAt };
}

/** The tables of the drain-timeout test on the server, by name. */
async function drainTables(): Promise<string[]> {
  return (await query<{ t: string }>("SELECT tablename AS t FROM pg_tables WHERE tablename LIKE 'drain\\_%' ORDER BY 1")).map((r) => r.t);
}

/** Every stderr line is one JSON object with the run's id and a stage, and no line holds the target's password. */
function expectJsonLogs(stderr: string, runId: unknown): Record<string, unknown>[] {
  expect(stderr).not.toContain(PASSWORD);
  const lines = stderr.trim().split('\n');
  const entries = lines.map((line) => {
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new Error(`a stderr line is not JSON: ${line}`);
    }
    return entry;
  });
  for (const e of entries) {
    expect(e, JSON.stringify(e)).toMatchObject({ runId, stage: expect.stringMatching(/^(cli|ingest|extract|sync|verify|replay|sinks|compare)$/), msg: expect.any(String) });
    expect(e.level).toMatch(/^(trace|debug|info|warn|error|fatal)$/);
  }
  expect(entries[entries.length - 1]).toMatchObject({ type: 'summary' });
  return entries;
}

function readJsonl(text: string): Record<string, unknown>[] {
  if (text === '') return [];
  expect(text.endsWith('\n'), 'the file ends with a whole line').toBe(true);
  return text
    .slice(0, -1)
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('SIGTERM during sync', () => {
  it('commits the batch in flight with its checkpoint, keeps the rejects, exits 143 at once, and the rerun applies exactly the rest', async () => {
    // 240 slow DDL statements (25 ms each), every 12th a CREATE ROLE ... SUPERUSER the DCL guard refuses, two malformed lines.
    const statements: LogStatement[] = [];
    for (let i = 0; i < 240; i++) {
      const sql = i % 12 === 5 ? `CREATE ROLE sig_boss_${i} SUPERUSER` : `CREATE TABLE sig_t${String(i).padStart(3, '0')} AS SELECT 1 AS x FROM pg_sleep(0.025)`;
      statements.push({ sql, session: 'sig.1', at: i * 100 });
    }
    const log = jsonlog(statements, [
      { after: 3, line: '{"timestamp": "2026-11-20 10:00:00.350 UTC", "broken' },
      { after: 100, line: 'not json at all' },
    ]);
    const refusedIds = log.ids.filter((_, i) => statements[i]!.sql.startsWith('CREATE ROLE'));
    const applyIds = log.ids.filter((id) => !refusedIds.includes(id));
    const source = await writeLog('sync-logs', log.text);
    const target = `postgres://postgres:${PASSWORD}@127.0.0.1:${server.port}/postgres`;
    const rejects1 = join(work, 'sync-rejects-1.jsonl');
    const args = ['sync', '--source', source, ...WINDOW, '--target', target, '--batch', '4', '--progress', 'none'];

    const run = startCli([...args, '--rejects', rejects1]);
    await until(run, async () => {
      const rows = await query<{ n: string }>("SELECT count(*) AS n FROM auditreplay.applied WHERE to_regclass('auditreplay.applied') IS NOT NULL").catch(() => []);
      return Number(rows[0]?.n ?? 0) >= 40;
    }, 'the first 40 statements in the ledger');
    const { res, stopMs } = await terminate(run);
    expect(stopMs, 'exit after SIGTERM, ms').toBeLessThan(5_000);

    const entries = expectJsonLogs(res.stderr, expect.any(String));
    const summary = entries[entries.length - 1]!;
    expect(summary).toMatchObject({ type: 'summary', command: 'sync', interrupted: true, halted: false });
    expect(entries.every((e) => e.runId === summary.runId)).toBe(true);

    // The checkpoint is the last statement committed: the ledger holds exactly the statements up to it, the catalog exactly their tables.
    const [checkpoint] = await query<{ id: string }>('SELECT id FROM auditreplay.checkpoint');
    const at = applyIds.indexOf(checkpoint!.id);
    expect(at, `checkpoint ${checkpoint?.id}`).toBeGreaterThanOrEqual(39);
    expect(at, 'stopped before the end').toBeLessThan(applyIds.length - 1);
    const ledger = (await query<{ id: string; status: string }>('SELECT id, status FROM auditreplay.applied')).map((r) => r.id).sort();
    expect(ledger).toEqual(applyIds.slice(0, at + 1).sort());
    const [tables] = await query<{ n: string }>("SELECT count(*) AS n FROM pg_tables WHERE tablename LIKE 'sig\\_t%'");
    expect(Number(tables!.n)).toBe(at + 1);
    expect(summary.applied).toBe(at + 1);
    expect(summary.checkpoint).toMatchObject({ id: checkpoint!.id });

    // The rejects file is committed, whole lines only: both bad lines, and every refused statement before the checkpoint, once.
    const rejects = readJsonl(await readFile(rejects1, 'utf8'));
    expect(rejects.length).toBe(summary.rejected);
    expect(rejects.filter((r) => r.reason === 'malformed-line')).toHaveLength(2);
    const refused = rejects.filter((r) => r.reason === 'refused').map((r) => (JSON.parse(r.raw as string) as { id: string }).id);
    expect(new Set(refused).size).toBe(refused.length);
    const lastIndex = log.ids.indexOf(checkpoint!.id);
    expect(refused).toEqual(expect.arrayContaining(refusedIds.filter((id) => log.ids.indexOf(id) < lastIndex)));
    expect(refused.every((id) => refusedIds.includes(id))).toBe(true);
    expect(rejects.length).toBe(2 + refused.length);

    // The rerun applies exactly the rest: together every statement once (a CREATE TABLE run twice would halt the sync).
    const rerun = startCli([...args, '--rejects', join(work, 'sync-rejects-2.jsonl')]);
    const again = await rerun.done;
    expect(again.code, again.stderr.slice(-3000)).toBe(0);
    const second = expectJsonLogs(again.stderr, expect.any(String)).at(-1)!;
    expect(second).toMatchObject({ interrupted: false, applied: applyIds.length - (at + 1), alreadyApplied: at + 1, failed: 0 });
    const all = (await query<{ id: string }>('SELECT id FROM auditreplay.applied')).map((r) => r.id).sort();
    expect(all).toEqual([...applyIds].sort());
    const [allTables] = await query<{ n: string }>("SELECT count(*) AS n FROM pg_tables WHERE tablename LIKE 'sig\\_t%'");
    expect(Number(allTables!.n)).toBe(applyIds.length);
    const [end] = await query<{ id: string }>('SELECT id FROM auditreplay.checkpoint');
    expect(end!.id).toBe(applyIds.at(-1));
    console.log(`sync: SIGTERM after ${at + 1} of ${applyIds.length} statements; exited 143 after ${stopMs} ms`);
  }, 180_000);

  it('cancels a statement still running after --drain-timeout, rolls its batch back, and the rerun applies it', async () => {
    const sqls = [
      'CREATE TABLE drain_a (x int)',
      'CREATE TABLE drain_b (x int)',
      'CREATE TABLE drain_c (x int)',
      'CREATE TABLE drain_slow AS SELECT 1 AS x FROM pg_sleep(5)',
      'CREATE TABLE drain_d (x int)',
    ];
    const log = jsonlog(sqls.map((sql, i) => ({ sql, session: 'drain.1', at: i * 1000 })));
    const source = await writeLog('drain-logs', log.text);
    const args = ['sync', '--source', source, ...WINDOW, '--target', server.url('postgres'), '--source-id', 'drain', '--batch', '2', '--progress', 'none'];
    const run = startCli([...args, '--drain-timeout', '300ms']);
    await until(
      run,
      async () => (await query<{ n: string }>("SELECT count(*) AS n FROM pg_stat_activity WHERE query LIKE '%pg_sleep(5)%' AND pid <> pg_backend_pid()"))[0]!.n !== '0',
      'the slow statement running',
    );
    const { res, stopMs } = await terminate(run);
    // The statement would have run for 5 s: it was cancelled.
    expect(stopMs).toBeLessThan(3_500);
    const summary = expectJsonLogs(res.stderr, expect.any(String)).at(-1)!;
    expect(summary).toMatchObject({ interrupted: true, applied: 2, checkpoint: { id: log.ids[1] } });
    const ledger = (await query<{ id: string }>("SELECT id FROM auditreplay.applied WHERE source = 'drain' ORDER BY id")).map((r) => r.id);
    expect(ledger).toEqual([log.ids[0], log.ids[1]]);
    const tables = await drainTables();
    expect(tables, 'the batch in flight (drain_c, drain_slow) rolled back whole').toEqual(['drain_a', 'drain_b']);

    const rerun = startCli(args);
    const again = await rerun.done;
    expect(again.code, again.stderr.slice(-3000)).toBe(0);
    expect(expectJsonLogs(again.stderr, expect.any(String)).at(-1)).toMatchObject({ applied: 3, alreadyApplied: 2 });
    const after = await drainTables();
    expect(after).toEqual(['drain_a', 'drain_b', 'drain_c', 'drain_d', 'drain_slow']);
    console.log(`sync: the statement in flight cancelled after --drain-timeout 300ms; exited 143 after ${stopMs} ms`);
  }, 120_000);
});

describe('SIGTERM during replay', () => {
  it('drains, keeps whole results and a summary marked incomplete, and exits 143', async () => {
    // Three sessions, a query every 200 ms each for 5 s of log time: replayed at --speed 1 it lasts 5 s.
    const statements: LogStatement[] = [];
    for (let i = 0; i < 25; i++) {
      for (let s = 0; s < 3; s++) statements.push({ sql: `SELECT pg_sleep(0.02), ${i} AS step, ${s} AS session`, session: `rq.${s}`, at: 1000 + i * 200 + s * 50 });
    }
    statements.sort((a, b) => a.at - b.at);
    const log = jsonlog(statements);
    const source = await writeLog('replay-logs', log.text);
    const out = join(work, 'replay-results.jsonl');
    const target = `postgres://postgres:${PASSWORD}@127.0.0.1:${server.port}/postgres`;
    const run = startCli(['replay', '--source', source, ...WINDOW, '--target', target, '--speed', '1', '--out', out, '--run-id', 'sigterm-replay', '--progress', 'json', '--progress-interval', '200ms']);
    await run.waitForLine((e) => e.msg === 'progress' && Number(e.executed) >= 10);
    const { res, stopMs } = await terminate(run);
    expect(stopMs).toBeLessThan(5_000);

    const entries = expectJsonLogs(res.stderr, 'sigterm-replay');
    const summary = entries.at(-1)!;
    expect(existsSync(out), 'the results file was committed').toBe(true);
    const results = readJsonl(await readFile(out, 'utf8'));
    expect(results.length).toBeGreaterThanOrEqual(10);
    expect(results.length).toBeLessThan(statements.length);
    for (const r of results) {
      expect(r).toMatchObject({ runId: 'sigterm-replay', ok: true, originalId: expect.any(String), durationMs: expect.any(Number) });
      expect(log.ids).toContain(r.originalId);
    }
    expect(new Set(results.map((r) => r.originalId)).size).toBe(results.length);
    expect(summary).toMatchObject({ type: 'summary', command: 'replay', complete: false, interrupted: true, executed: results.length });
    const file = JSON.parse(await readFile(`${out}.summary.json`, 'utf8')) as Record<string, unknown>;
    expect(file).toMatchObject({ complete: false, interrupted: true, executed: results.length });
    expect(JSON.stringify(file)).not.toContain(PASSWORD);
    console.log(`replay: SIGTERM after ${results.length} of ${statements.length} statements; exited 143 after ${stopMs} ms`);
  }, 120_000);
});
