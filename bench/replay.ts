/**
 * Replay benchmark: `auditreplay replay --speed max --concurrency 4` replaying a select-only
 * PostgreSQL csvlog against a local PostgreSQL 15, next to the server's limit on the same
 * server (`pgbench -S -c 4 -j 2`) and pgreplay's replay of the same log (`pgreplay -c -j`).
 *
 *   npx tsx bench/replay.ts [--queries 200000] [--seconds 10] [--repeat 3] [--cli bin/auditreplay.js]
 *
 * The log is made once and cached under bench/data/ (git-ignored), keyed by DATA_VERSION and
 * --queries: a throwaway cluster with csvlog, log_statement=all and connection logging (what
 * pgreplay needs), `pgbench -i -s 10` (not logged), then `pgbench -S -c 4 -j 2 -T ..` rounds
 * until the log holds at least --queries SELECT statements. The measurements run on a fresh
 * cluster with no statement logging and the same pgbench data, in rounds of pgbench, replay,
 * pgreplay; the median of each tool counts. Nothing is pinned to a core: server and clients
 * share the machine's cores, as a replay against a real server would. Every client runs
 * under `/usr/bin/time` for its CPU time and peak RSS. Missing Debian packages
 * (postgresql-15, pgreplay, time) are installed with apt-get. The bench reports PASS/MISS
 * per target; a miss does not fail the process, only a broken run does (exit 1).
 */
import { parseNumericFlags } from './lib/bench-args.js';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DATA_DIR, fmtInt, mb, pad, ROOT, summaryLine } from './lib/okera-data.js';
import { PG_BIN, startPostgres, type PostgresCluster } from '../test/helpers/postgres-server.js';
import { ensurePackages, ensurePeerPackages, firstAndLastLine, isoOf } from './lib/pg-bench-tools.js';
import { reportResult } from './lib/bench-result.js';

/** Replay's queries/s as a fraction of pgbench's (the server's limit), at least. */
const TARGET_VS_PGBENCH = 0.8;
/** Replay's queries/s as a multiple of pgreplay -j's, at least. */
const TARGET_VS_PGREPLAY = 1.3;
/** Bump when the way the log is made changes, so a cached log is rebuilt. */
const DATA_VERSION = 1;
/** pgbench -i -s: the same on the log's server and the bench server (pgbench -i is deterministic). */
const SCALE = 10;
const CLIENTS = 4;
const THREADS = 2;
const TIME = '/usr/bin/time';

interface LogSet {
  file: string;
  lines: number;
  bytes: number;
  /** `statement:` records, and those of them that are a SELECT (all of them, in a select-only log). */
  statements: number;
  selects: number;
  /** The pace the log was written at: pgbench's tps over its rounds, weighted by their length. */
  originalQps: number;
  /** Window covering every record, for --from/--to. */
  from: string;
  to: string;
}

interface Summary {
  type?: string;
  complete?: boolean;
  executed?: number;
  queries?: number;
  ok?: number;
  failed?: number;
  skipped?: Record<string, number>;
  elapsedMs?: number;
  qps?: number;
  lagMs?: { p50?: number | null; p99?: number | null; max?: number | null };
  cpuUserMs?: number;
  cpuSystemMs?: number;
  peakRssBytes?: number;
  [key: string]: unknown;
}

interface Run {
  tool: string;
  wallMs: number;
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** From /usr/bin/time: the child's user and system CPU and peak RSS (null when time wrote nothing). */
  userMs: number | null;
  systemMs: number | null;
  rssBytes: number | null;
}

/** One tool's figures in one round. */
interface Measure {
  run: Run;
  /** Queries the tool ran, and the seconds its rate is taken over. */
  queries: number;
  seconds: number;
  qps: number;
  /** Queries per wall second, process start to exit. */
  wallQps: number;
  rssBytes: number | null;
  summary: Summary | null;
  notes: string[];
}

/** Runs a process to its end under `/usr/bin/time -f '%U %S %M' -o timeFile` and times it, start to exit. */
function run(tool: string, cmd: string, args: string[], options: { timeFile?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  const [c, a] = options.timeFile !== undefined ? [TIME, ['-f', '%U %S %M', '-o', options.timeFile, cmd, ...args]] : [cmd, args];
  if (options.timeFile !== undefined) rmSync(options.timeFile, { force: true });
  const t0 = performance.now();
  const child = spawn(c, a, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout = (stdout + d.toString()).slice(-65_536)));
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-65_536)));
  return new Promise((res, rej) => {
    child.on('error', rej);
    child.on('close', (exitCode) => {
      const wallMs = performance.now() - t0;
      const r: Run = { tool, wallMs, exitCode, stdout, stderr, userMs: null, systemMs: null, rssBytes: null };
      if (options.timeFile !== undefined && existsSync(options.timeFile)) {
        // A child killed by a signal makes time write a line before the figures: they are on the last line.
        const last = readFileSync(options.timeFile, 'utf8').trim().split('\n').pop() ?? '';
        const [user, system, kb] = last.trim().split(/\s+/).map(Number);
        if (user !== undefined && system !== undefined && Number.isFinite(user) && Number.isFinite(system)) [r.userMs, r.systemMs] = [user * 1000, system * 1000];
        if (kb !== undefined && Number.isFinite(kb) && kb > 0) r.rssBytes = kb * 1024;
      }
      res(r);
    });
  });
}

/** Lines of the file that hold the pattern (grep -c; `-i` for case-insensitive). */
function countMatches(file: string, pattern: string, flags: string[] = []): number {
  const r = spawnSync('grep', ['-c', ...flags, '-F', '--', pattern, file]);
  // grep exits 1 when nothing matched, and still prints 0.
  if (r.status !== 0 && r.status !== 1) throw new Error(`grep -c on ${file} failed: ${r.stderr.toString()}`);
  return Number(r.stdout.toString().trim());
}

function countLines(file: string): number {
  return Number(spawnSync('wc', ['-l', file]).stdout.toString().trim().split(/\s+/)[0]);
}

/** `statement:` records of a csvlog (the message field starts with it), and those that are a SELECT. */
function statementsOf(file: string): { statements: number; selects: number } {
  return { statements: countMatches(file, ',"statement: '), selects: countMatches(file, ',"statement: select ', ['-i']) };
}

function connArgs(pg: PostgresCluster): string[] {
  return ['-h', '127.0.0.1', '-p', String(pg.port), '-U', 'postgres'];
}

/** `pgbench -i -s SCALE`, with its statements kept out of the log (its connection and disconnection are still logged: an empty session). */
async function pgbenchInit(pg: PostgresCluster): Promise<void> {
  const r = await run('pgbench -i', join(PG_BIN, 'pgbench'), ['-i', '-s', String(SCALE), '-q', ...connArgs(pg), 'postgres'], {
    env: { PGOPTIONS: '-c log_statement=none -c log_min_duration_statement=-1' },
  });
  if (r.exitCode !== 0) throw new Error(`pgbench -i failed (exit ${r.exitCode}): ${r.stderr}`);
}

function pgbenchSelectArgs(pg: PostgresCluster, seconds: number): string[] {
  return ['-S', '-c', String(CLIENTS), '-j', String(THREADS), '-T', String(seconds), '-n', ...connArgs(pg), 'postgres'];
}

/** Makes (or reuses) a select-only csvlog with at least `queries` SELECT statements, written by pgbench -S. */
async function logSet(queries: number, firstRoundSeconds: number): Promise<LogSet> {
  const dir = join(DATA_DIR, `pg-select-q${queries}`);
  const file = join(dir, 'postgresql.csv');
  const marker = join(dir, '.complete.json');
  if (existsSync(marker) && existsSync(file)) {
    const cached = JSON.parse(readFileSync(marker, 'utf8')) as LogSet & { version: number };
    if (cached.version === DATA_VERSION && statSync(file).size === cached.bytes) {
      console.log(`data:  reusing ${relative(ROOT, file)} (${fmtInt(cached.selects)} SELECTs)`);
      return { ...cached, file };
    }
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  console.log(`data:  making a select-only csvlog of >= ${fmtInt(queries)} SELECTs with pgbench -S -c ${CLIENTS} -j ${THREADS} into ${relative(ROOT, dir)}`);
  const pg = await startPostgres({
    settings: {
      log_destination: 'csvlog',
      log_statement: 'all',
      log_connections: true,
      log_disconnections: true,
      log_timezone: 'UTC',
      lc_messages: 'C',
      max_connections: 50,
    },
  });
  let pgbenchSeconds = 0;
  let pgbenchQueries = 0;
  try {
    await pgbenchInit(pg);
    const csv = join(pg.logDir, 'postgresql.csv');
    let selects = statementsOf(csv).selects;
    // SELECTs per second, once a round has measured it: the last round runs just long enough.
    let rate = 0;
    for (let round = 1; selects < queries; round++) {
      const seconds = rate > 0 ? Math.max(1, Math.min(firstRoundSeconds, Math.ceil(((queries - selects) / rate) * 1.1))) : firstRoundSeconds;
      const r = await run('pgbench -S', join(PG_BIN, 'pgbench'), pgbenchSelectArgs(pg, seconds));
      if (r.exitCode !== 0) throw new Error(`pgbench -S failed (exit ${r.exitCode}): ${r.stderr}`);
      const tps = Number(/tps = ([\d.]+)/.exec(r.stdout)?.[1] ?? NaN);
      const before = selects;
      selects = statementsOf(csv).selects;
      rate = (selects - before) / seconds;
      if (Number.isFinite(tps)) {
        pgbenchSeconds += seconds;
        pgbenchQueries += tps * seconds;
      }
      console.log(`data:  round ${round}: pgbench -S -T ${seconds}: ${Number.isFinite(tps) ? fmtInt(tps) : '?'} tps, log now ${fmtInt(selects)} SELECTs`);
    }
    await pg.stop();
    copyFileSync(csv, file);
  } finally {
    await pg.destroy();
  }
  const [first, last] = firstAndLastLine(file);
  const { statements, selects } = statementsOf(file);
  const set: LogSet = {
    file,
    lines: countLines(file),
    bytes: statSync(file).size,
    statements,
    selects,
    originalQps: pgbenchSeconds > 0 ? pgbenchQueries / pgbenchSeconds : 0,
    from: isoOf(first, -3_600_000),
    to: isoOf(last, 3_600_000),
  };
  writeFileSync(marker, JSON.stringify({ ...set, version: DATA_VERSION }, null, 1));
  return set;
}

/** The measure in the middle when sorted by qps (the lower one of the two middle ones for an even count). */
function median(ms: Measure[]): Measure {
  const sorted = [...ms].sort((a, b) => a.qps - b.qps);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

/** A duration in ms as the summary gives it: whole numbers as they are, else one decimal. */
function fmtMs(ms: number | null | undefined): string {
  if (typeof ms !== 'number') return '?';
  return Number.isInteger(ms) ? fmtInt(ms) : ms.toFixed(1);
}

function lastLines(text: string, n = 8): string {
  return text.trimEnd().split('\n').slice(-n).join('\n');
}

function cpuPer1k(m: Measure): string {
  if (m.run.userMs === null || m.run.systemMs === null || m.queries === 0) return 'n/a';
  return ((m.run.userMs + m.run.systemMs) / (m.queries / 1000)).toFixed(1);
}

function cpuSplit(m: Measure): string {
  if (m.run.userMs === null || m.run.systemMs === null || m.queries === 0) return 'n/a';
  return `${(m.run.userMs / (m.queries / 1000)).toFixed(1)}/${(m.run.systemMs / (m.queries / 1000)).toFixed(1)}`;
}

/**
 * Whether the CLI has the replay command: `replay --help` exits 0 and prints replay's usage
 * (without the command, commander prints the top-level help and exits 0 too).
 */
function hasReplay(cli: string): boolean {
  const r = spawnSync(process.execPath, [cli, 'replay', '--help'], { stdio: ['ignore', 'pipe', 'ignore'], timeout: 60_000 });
  return r.status === 0 && /^usage:.*\breplay\b/i.test(r.stdout.toString().trimStart());
}

async function main(): Promise<void> {
  const args = parseNumericFlags(process.argv.slice(2), 'bench/replay.ts', { queries: 200_000, seconds: 10, repeat: 3 });
  console.log(`bench: replay, node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} CPU(s)`);
  console.log('bench: nothing pinned: the server and every client share the machine\'s cores');
  if (!existsSync(args.cli)) throw new Error(`CLI not found: ${args.cli}`);
  if (args.cli === join(ROOT, 'bin', 'auditreplay.js') && !existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) {
    throw new Error('dist/cli/main.js is missing: run `npm run build` first');
  }
  ensurePackages(['postgresql-15', 'time']);
  // Without pgreplay the rest is still measured, and its row says it is missing.
  const missing = ensurePeerPackages(['pgreplay']);
  // Without the replay command the rest still runs (the log, pgbench, pgreplay), and the run counts as broken.
  const replayable = hasReplay(args.cli);
  if (!replayable) console.error(`error: ${relative(ROOT, args.cli) || args.cli} has no replay command (\`replay --help\` prints no replay usage); measuring pgbench and pgreplay only`);

  const set = await logSet(args.queries, args.seconds);
  console.log(
    `data:  ${fmtInt(set.lines)} lines, ${mb(set.bytes)} MB, ${fmtInt(set.selects)} SELECTs of ${fmtInt(set.statements)} statements, ` +
      `written at ~${fmtInt(set.originalQps)} qps, ${set.from} .. ${set.to}`,
  );
  let broken = !replayable;
  const fail = (msg: string): void => {
    broken = true;
    console.error(`error: ${msg}`);
  };
  /** Why a run is broken: the round loop reports it after the run's line. */
  type Outcome = Measure | { error: string };
  const broke = (error: string): Outcome => ({ error });
  if (set.selects !== set.statements) console.log(`WARN  the log is not select-only: ${fmtInt(set.statements - set.selects)} other statements`);
  const version = (cmd: string, flag: string): string => spawnSync(cmd, [flag]).stdout?.toString().trim().split('\n')[0] || `${cmd}: not installed`;
  console.log(`tools: ${version(join(PG_BIN, 'pgbench'), '--version')}; ${version('pgreplay', '-v')}`);

  const pg = await startPostgres({ settings: { max_connections: 50 } });
  const tmp = await mkdtemp(join(tmpdir(), 'auditreplay-bench-replay-'));
  const timeFile = join(tmp, 'time.txt');
  const results = join(tmp, 'results.jsonl');
  const measures = new Map<string, Measure[]>([
    ['pgbench -S', []],
    ['auditreplay replay', []],
    ['pgreplay -c -j', []],
    ['node-postgres floor', []],
  ]);
  let serverVersion: string | undefined;
  try {
    await pgbenchInit(pg);
    serverVersion = (await pg.sql('\\pset tuples_only on\n\\pset format unaligned\nSELECT version();\n')).trim();
    console.log(`server: ${serverVersion}, port ${pg.port}, no statement logging, pgbench -i -s ${SCALE}`);

    const pgbench = async (): Promise<Outcome> => {
      const r = await run('pgbench -S', join(PG_BIN, 'pgbench'), pgbenchSelectArgs(pg, args.seconds), { timeFile });
      if (r.exitCode !== 0) return broke(`pgbench -S exited with ${r.exitCode}:\n${lastLines(r.stderr || r.stdout)}`);
      const tps = Number(/tps = ([\d.]+)/.exec(r.stdout)?.[1] ?? NaN);
      const done = Number(/number of transactions actually processed: (\d+)/.exec(r.stdout)?.[1] ?? NaN);
      if (!Number.isFinite(tps) || !Number.isFinite(done)) return broke(`no tps in pgbench's output:\n${lastLines(r.stdout)}`);
      // Select-only: one statement per transaction; the rate excludes connecting, as pgbench's tps does.
      return { run: r, queries: done, seconds: done / tps, qps: tps, wallQps: done / (r.wallMs / 1000), rssBytes: r.rssBytes, summary: null, notes: [] };
    };

    const replay = async (): Promise<Outcome> => {
      rmSync(results, { force: true });
      const r = await run(
        'auditreplay replay',
        process.execPath,
        [
          args.cli,
          'replay',
          '--source',
          set.file,
          '--format',
          'pg-csv',
          '--layout',
          'flat',
          '--from',
          set.from,
          '--to',
          set.to,
          '--target',
          pg.url('postgres'),
          '--speed',
          'max',
          '--concurrency',
          String(CLIENTS),
          '--out',
          results,
          '--progress',
          'none',
        ],
        { timeFile },
      );
      if (r.exitCode !== 0) return broke(`auditreplay replay exited with ${r.exitCode}:\n${lastLines(r.stderr)}`);
      const s = summaryLine<Summary>(r.stderr.trimEnd().split('\n'));
      if (s === null) return broke('auditreplay replay printed no JSON summary as its last stderr line');
      const queries = typeof s.queries === 'number' ? s.queries : s.executed;
      if (typeof queries !== 'number' || queries <= 0) return broke(`the replay summary has no executed/queries count: ${JSON.stringify(s)}`);
      if (s.complete === false) return broke('the replay summary says complete: false');
      const failed = s.failed ?? 0;
      // A few failures leave the rate meaningful; many mean the replay ran against the wrong data.
      if (failed > queries / 100) return broke(`${fmtInt(failed)} of ${fmtInt(queries)} replayed statements failed: ${JSON.stringify(s)}`);
      const elapsedMs = typeof s.elapsedMs === 'number' && s.elapsedMs > 0 ? s.elapsedMs : r.wallMs;
      const notes: string[] = [];
      if (queries !== set.selects) notes.push(`WARN  replayed ${fmtInt(queries)} queries, the log holds ${fmtInt(set.selects)} SELECTs`);
      if (failed > 0) notes.push(`WARN  ${fmtInt(failed)} statements failed`);
      const outLines = existsSync(results) ? countLines(results) : 0;
      if (typeof s.executed === 'number' && outLines !== s.executed) notes.push(`WARN  --out holds ${fmtInt(outLines)} lines, the summary says ${fmtInt(s.executed)} executed`);
      return { run: r, queries, seconds: elapsedMs / 1000, qps: queries / (elapsedMs / 1000), wallQps: queries / (r.wallMs / 1000), rssBytes: s.peakRssBytes ?? r.rssBytes, summary: s, notes };
    };

    const pgreplay = async (): Promise<Outcome> => {
      const r = await run('pgreplay -c -j', 'pgreplay', ['-c', '-j', '-h', '127.0.0.1', '-p', String(pg.port), set.file], { timeFile });
      if (r.exitCode !== 0) return broke(`pgreplay exited with ${r.exitCode}:\n${lastLines(r.stderr || r.stdout)}`);
      const executed = Number(/SQL statements executed: (\d+)/.exec(r.stdout)?.[1] ?? NaN);
      const errors = Number(/\((\d+) or [\d.]+% of these completed with error\)/.exec(r.stdout)?.[1] ?? NaN);
      const notes: string[] = [];
      if (!Number.isFinite(executed)) notes.push('WARN  no "SQL statements executed" in pgreplay\'s statistics');
      else if (executed !== set.statements) notes.push(`WARN  pgreplay executed ${fmtInt(executed)} statements, the log holds ${fmtInt(set.statements)}`);
      if (Number.isFinite(errors) && errors > 0) notes.push(`WARN  ${fmtInt(errors)} of pgreplay's statements completed with an error`);
      const secs = r.wallMs / 1000;
      return { run: r, queries: set.selects, seconds: secs, qps: set.selects / secs, wallQps: set.selects / secs, rssBytes: r.rssBytes, summary: null, notes };
    };

    const floor = async (): Promise<Outcome> => {
      const r = await run('node-postgres floor', process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'lib', 'driver-floor.ts'), '--url', pg.url('postgres'), '--queries', String(set.selects), '--connections', String(CLIENTS)], { timeFile });
      if (r.exitCode !== 0) return broke(`the driver floor exited with ${r.exitCode}:\n${lastLines(r.stderr || r.stdout)}`);
      const f = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { qps?: number; seconds?: number };
      if (typeof f.qps !== 'number' || typeof f.seconds !== 'number') return broke(`no qps from the driver floor:\n${lastLines(r.stdout)}`);
      return { run: r, queries: set.selects, seconds: f.seconds, qps: f.qps, wallQps: set.selects / (r.wallMs / 1000), rssBytes: r.rssBytes, summary: null, notes: [] };
    };

    const steps: [string, () => Promise<Outcome>][] = [
      ['pgbench -S', pgbench],
      ['auditreplay replay', replay],
      ['pgreplay -c -j', pgreplay],
      ['node-postgres floor', floor],
    ];
    // Rounds of all three rather than one tool K times in a row, so a change of load on a shared machine hits every tool alike.
    for (let round = 1; round <= args.repeat; round++) {
      for (const [label, once] of steps) {
        if (label === 'auditreplay replay' && !replayable) continue;
        if (label === 'pgreplay -c -j' && missing.has('pgreplay')) continue;
        process.stdout.write(`run:   ${label.padEnd(18)} ${args.repeat > 1 ? `(round ${round}) ` : ''}... `);
        const m = await once();
        if ('error' in m) {
          console.log('broken');
          fail(m.error);
          continue;
        }
        measures.get(label)!.push(m);
        const s = m.summary;
        let line = `${(m.run.wallMs / 1000).toFixed(2)} s, ${fmtInt(m.queries)} queries, ${fmtInt(m.qps)} qps`;
        if (s !== null) {
          const skipped = Object.entries(s.skipped ?? {}).filter(([, n]) => n > 0);
          line +=
            ` (summary: executed ${fmtInt(s.executed ?? 0)}, ok ${fmtInt(s.ok ?? 0)}, failed ${fmtInt(s.failed ?? 0)}` +
            `${skipped.length > 0 ? `, skipped ${skipped.map(([k, n]) => `${k} ${fmtInt(n)}`).join(' ')}` : ''}` +
            `${typeof s.qps === 'number' ? `, qps ${fmtInt(s.qps)}` : ''}` +
            `${s.lagMs ? `, lag p50/p99/max ${fmtMs(s.lagMs.p50)}/${fmtMs(s.lagMs.p99)}/${fmtMs(s.lagMs.max)} ms` : ''}` +
            `${typeof s.cpuUserMs === 'number' ? `, cpu user/sys ${fmtInt(s.cpuUserMs)}/${fmtInt(s.cpuSystemMs ?? 0)} ms` : ''})`;
        }
        if (label === 'pgreplay -c -j') {
          const total = /Total run time: ([\d.]+) seconds/.exec(m.run.stdout)?.[1];
          const lag = /Maximum lag behind schedule: (\d+) seconds/.exec(m.run.stdout)?.[1];
          if (total !== undefined) line += ` (pgreplay: run time ${total} s without the idle time it jumped${lag !== undefined ? `, max lag ${lag} s` : ''})`;
        }
        console.log(line);
        for (const n of m.notes) console.log(`       ${n}`);
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    await pg.destroy();
  }

  const base = measures.get('pgbench -S')!;
  const ours = measures.get('auditreplay replay')!;
  const theirs = measures.get('pgreplay -c -j')!;
  if (base.length === 0) fail('no pgbench run to compare with');
  const medians = [...measures].filter(([, ms]) => ms.length > 0).map(([, ms]) => median(ms));
  const limit = base.length > 0 ? median(base).qps : NaN;
  const widths = [18, 10, 8, 10, 10, 9, 9, 10, 11, 13];
  console.log('');
  console.log(pad(['tool', 'queries', 'rate s', 'qps', 'wall qps', 'vs pgbench', 'MB/s log', 'peak RSS', 'CPU ms/1k', 'user/sys /1k'], widths));
  for (const m of medians) {
    const isLogReader = m.run.tool !== 'pgbench -S';
    console.log(
      pad(
        [
          m.run.tool,
          fmtInt(m.queries),
          m.seconds.toFixed(2),
          fmtInt(m.qps),
          fmtInt(m.wallQps),
          `${(m.qps / limit).toFixed(2)}x`,
          isLogReader ? (set.bytes / 1024 / 1024 / m.seconds).toFixed(1) : '-',
          m.rssBytes !== null ? `${mb(m.rssBytes)} MB` : 'n/a',
          cpuPer1k(m),
          cpuSplit(m),
        ],
        widths,
      ),
    );
  }
  console.log('');
  console.log(`qps: the median of ${args.repeat} round(s). pgbench: its tps (select-only, one statement per transaction, connecting excluded), over -T ${args.seconds};`);
  console.log(`replay: the summary's ${ours.length === 0 ? 'queries (else executed)' : ours[0]!.summary?.queries !== undefined ? 'queries' : 'executed'} over its elapsedMs; pgreplay: the log's ${fmtInt(set.selects)} SELECTs over its wall time (parse included).`);
  console.log('rate s: the seconds each rate is taken over; wall qps: queries per wall second, process start to exit (Node\'s start-up included);');
  console.log(`MB/s log: the csvlog (${mb(set.bytes)} MB) per rate second; peak RSS: replay's summary peakRssBytes, else /usr/bin/time's %M;`);
  console.log('CPU ms/1k: the client\'s user+system CPU (/usr/bin/time, whole process) per 1,000 queries; user/sys /1k: the split.');
  console.log(`pgreplay -j keeps the log's timing within a session and only jumps over time when every connection is idle: it cannot go faster than the log was written (~${fmtInt(set.originalQps)} qps).`);
  if (ours.length > 1 && base.length === ours.length) {
    // Each round runs the tools back to back: their ratio drifts less with the machine's load than either rate.
    console.log(`replay vs pgbench per round: ${ours.map((m, k) => `${(m.qps / base[k]!.qps).toFixed(2)}x`).join(', ')}`);
    if (theirs.length === ours.length) console.log(`replay vs pgreplay per round: ${ours.map((m, k) => `${(m.qps / theirs[k]!.qps).toFixed(2)}x`).join(', ')}`);
  }
  console.log(`server: ${serverVersion ?? '?'}`);
  console.log('');
  // Rounded down, so a ratio just under the target never reads as the target.
  const verdict = (name: string, ratio: number, target: number): void =>
    console.log(`target ${name} >= ${target}x: ${ratio >= target ? 'PASS' : 'MISS'} (${(Math.floor(ratio * 100) / 100).toFixed(2)})`);
  if (ours.length > 0 && base.length > 0) verdict('replay qps vs pgbench -S', median(ours).qps / limit, TARGET_VS_PGBENCH);
  else console.log(`target replay qps vs pgbench -S >= ${TARGET_VS_PGBENCH}x: not measured`);
  if (ours.length > 0 && theirs.length > 0) verdict('replay qps vs pgreplay -j', median(ours).qps / median(theirs).qps, TARGET_VS_PGREPLAY);
  else console.log(`target replay qps vs pgreplay -j >= ${TARGET_VS_PGREPLAY}x: not measured`);
  if (theirs.length > 0 && base.length > 0) console.log(`(pgreplay -j at ${(median(theirs).qps / limit).toFixed(2)}x pgbench)`);
  const floorRuns = measures.get('node-postgres floor')!;
  if (floorRuns.length > 0 && ours.length > 0) {
    const f = median(floorRuns).qps;
    console.log(`(the node-postgres floor, the driver alone on the same 4 connections, at ${(f / limit).toFixed(2)}x pgbench; replay at ${(median(ours).qps / f).toFixed(2)}x of it)`);
  }
  if (ours.length > 0) {
    const s = median(ours).summary;
    const cpu = typeof s?.cpuUserMs === 'number' ? s.cpuUserMs + (s.cpuSystemMs ?? 0) : null;
    console.log(`replay client CPU: ${cpuPer1k(median(ours))} ms per 1k queries (/usr/bin/time)${cpu !== null ? `, ${(cpu / (median(ours).queries / 1000)).toFixed(1)} ms by its summary` : ''}`);
  }
  const mine = ours.length > 0 ? median(ours) : null;
  const peers: [string, Measure[], string][] = [
    ['pgbench -S -c 4 (the server\'s limit)', base, `target: ratio >= ${TARGET_VS_PGBENCH}`],
    ['pgreplay -c -j', theirs, missing.has('pgreplay') ? `peer missing: ${missing.get('pgreplay')}` : `target: ratio >= ${TARGET_VS_PGREPLAY}; pgreplay cannot beat the log's own pace (~${fmtInt(set.originalQps)} qps)`],
    ['node-postgres alone (bench/lib/driver-floor.ts)', floorRuns, 'the driver on the same 4 connections, nothing of replay around it; no target'],
  ];
  for (const [peer, runs, note] of peers) {
    const theirsMedian = runs.length > 0 ? median(runs) : null;
    reportResult({
      workload: `--speed max --concurrency 4, ${fmtInt(set.selects)} SELECTs from a csvlog`,
      peer,
      unit: 'qps',
      rate: mine?.qps ?? null,
      peakRssBytes: mine?.rssBytes ?? null,
      mbPerSec: mine !== null ? set.bytes / (1024 * 1024) / mine.seconds : null,
      peerRate: theirsMedian?.qps ?? null,
      peerPeakRssBytes: theirsMedian?.rssBytes ?? null,
      ratio: mine !== null && theirsMedian !== null ? mine.qps / theirsMedian.qps : null,
      note: mine === null ? 'failed: replay did not complete' : note,
    });
  }
  if (broken) process.exit(1);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
