/**
 * Every benchmark in bench/, one after another, each in a process of its own, at sizes
 * that fit a 2-core machine and 10 minutes (data generation included); collects the rows
 * each one reports (bench/lib/bench-result.ts) and writes them as one table to
 * bench/RESULTS.md, which it also prints.
 *
 *   npm run bench                                   # builds, then this
 *   npx tsx bench/run-all.ts [--only extract,sync] [--out bench/RESULTS.md]   # needs dist/
 *
 * A bench that exits non-zero or times out gets a row saying so and makes this exit 1; a
 * peer tool that is missing gets a row from its bench saying so, and a missed target is a
 * figure like any other: neither changes the exit code. Each bench's whole output goes to
 * `<data dir>/run-all/<bench>.log` as well as to stdout, prefixed with its name.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { PG_BIN } from '../test/helpers/postgres-server.js';
import { parseResults, RESULTS_FILE_ENV, type BenchResult } from './lib/bench-result.js';
import { DATA_DIR, fmtInt, ROOT } from './lib/okera-data.js';

interface BenchSpec {
  name: string;
  script: string;
  /** The reduced size run here. */
  args: string[];
  /** How to run it at its full, documented size, and what that size is. */
  full: string;
  fullSize: string;
  /** Past this the bench is stopped and reported as timed out, so one hang cannot eat the whole budget. */
  timeoutSeconds: number;
}

/**
 * The sizes: with no cached data, on a 2-core VM that other test suites kept at a load
 * average of 7-10, the benches took 59, 28, 60, 65, 71, 35 and 11 s (5.5 min, about one of
 * it making data) plus 31-43 s of build: the budget of `npm run bench` is 10 minutes.
 */
const BENCHES: readonly BenchSpec[] = [
  { name: 'extract', script: 'extract.ts', args: ['--events', '200000'], full: 'npm run bench:extract', fullSize: '2,000,000 requests', timeoutSeconds: 180 },
  { name: 'ingest-s3', script: 'ingest-s3.ts', args: ['--events', '200000'], full: 'npm run build && npx tsx bench/ingest-s3.ts', fullSize: '2,000,000 requests', timeoutSeconds: 120 },
  {
    name: 'extract-pg',
    script: 'extract-pg.ts',
    args: ['--lines', '150000', '--seconds', '5', '--repeat', '2'],
    full: 'npm run build && npx tsx bench/extract-pg.ts',
    fullSize: '1,000,000 csvlog lines, 3 rounds',
    timeoutSeconds: 180,
  },
  { name: 'sync', script: 'sync.ts', args: ['--statements', '5000', '--repeat', '1'], full: 'npm run bench:sync', fullSize: '10,000 statements, 3 rounds', timeoutSeconds: 150 },
  {
    name: 'replay',
    script: 'replay.ts',
    args: ['--queries', '20000', '--seconds', '5', '--repeat', '1'],
    full: 'npm run bench:replay',
    fullSize: '>= 200,000 SELECTs, pgbench -T 10, 3 rounds',
    timeoutSeconds: 180,
  },
  { name: 'sinks', script: 'sinks.ts', args: ['--rows', '50000'], full: 'npm run bench:sinks', fullSize: '2,000,000 rows per sink', timeoutSeconds: 120 },
  { name: 'compare', script: 'compare.ts', args: ['--rows', '200000', '--big', '0'], full: 'npm run bench:compare', fullSize: '1,000,000 then 10,000,000 executions per side', timeoutSeconds: 90 },
];

interface Outcome {
  spec: BenchSpec;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  wallMs: number;
  rows: BenchResult[];
  /** Whether its data sets were reused from the cache, generated, or both (null: it uses none). */
  data: 'reused' | 'generated' | 'partly generated' | null;
  logFile: string;
}

/** The process group of the bench running now, so Ctrl-C and a timeout reach its children too. */
let current: ChildProcess | null = null;
let interrupted = false;

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

/** Copies a stream to stdout line by line with a prefix, and as it is to the log. */
function relay(stream: NodeJS.ReadableStream, prefix: string, log: NodeJS.WritableStream, sink: NodeJS.WritableStream, lines: string[]): void {
  let partial = '';
  stream.on('data', (d: Buffer) => {
    log.write(d);
    const parts = (partial + d.toString()).split('\n');
    partial = parts.pop() ?? '';
    for (const l of parts) {
      sink.write(`${prefix}${l}\n`);
      lines.push(l);
    }
  });
  stream.on('end', () => {
    if (partial !== '') {
      sink.write(`${prefix}${partial}\n`);
      lines.push(partial);
    }
  });
}

async function runBench(spec: BenchSpec, tmp: string, logDir: string): Promise<Outcome> {
  const resultsFile = join(tmp, `${spec.name}.jsonl`);
  const logFile = join(logDir, `${spec.name}.log`);
  const log = createWriteStream(logFile);
  const args = ['--import', 'tsx', join(ROOT, 'bench', spec.script), ...spec.args];
  console.log(`\n== ${spec.name}: npx tsx bench/${spec.script} ${spec.args.join(' ')}`);
  const t0 = performance.now();
  // Its own process group: a timeout then stops the CLI runs and servers it started as well.
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, [RESULTS_FILE_ENV]: resultsFile }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  current = child;
  const lines: string[] = [];
  const prefix = `[${spec.name}] `;
  relay(child.stdout!, prefix, log, process.stdout, lines);
  relay(child.stderr!, prefix, log, process.stderr, lines);
  let timedOut = false;
  let hardKill: NodeJS.Timeout | undefined;
  const timer = setTimeout(() => {
    timedOut = true;
    console.error(`${prefix}timed out after ${spec.timeoutSeconds} s: stopping it`);
    killGroup(child, 'SIGTERM');
    hardKill = setTimeout(() => killGroup(child, 'SIGKILL'), 15_000);
  }, spec.timeoutSeconds * 1000);
  const [exitCode, signal] = await new Promise<[number | null, string | null]>((res) => {
    child.on('error', (err) => {
      lines.push(`spawn failed: ${err.message}`);
      res([null, null]);
    });
    child.on('close', (code, sig) => res([code, sig]));
  });
  clearTimeout(timer);
  clearTimeout(hardKill);
  current = null;
  await new Promise<void>((res) => log.end(res));
  const wallMs = performance.now() - t0;
  const rows = existsSync(resultsFile) ? parseResults(readFileSync(resultsFile, 'utf8')) : [];
  const reused = lines.some((l) => /^data:\s+reusing\b/.test(l));
  const generated = lines.some((l) => /^data:\s+(generating|making|running)\b/.test(l));
  const data = reused && generated ? 'partly generated' : generated ? 'generated' : reused ? 'reused' : null;
  console.log(`== ${spec.name}: ${(wallMs / 1000).toFixed(1)} s, ${timedOut ? 'timed out' : signal !== null ? `killed by ${signal}` : `exit ${exitCode}`}, ${rows.length} row(s)`);
  return { spec, exitCode, signal, timedOut, wallMs, rows, data, logFile };
}

/** Why a bench counts as crashed, or null when it ran to the end. */
function crash(o: Outcome): string | null {
  if (o.timedOut) return `timed out after ${o.spec.timeoutSeconds} s`;
  if (o.signal !== null) return `killed by ${o.signal}`;
  if (o.exitCode !== 0) return o.exitCode === null ? 'could not start' : `exited with ${o.exitCode}`;
  if (o.rows.length === 0) return 'reported no results';
  return null;
}

function fmtRate(n: number | null | undefined): string {
  if (typeof n !== 'number') return '';
  return n >= 100 ? fmtInt(n) : n.toFixed(1);
}

function fmtMiB(bytes: number | null | undefined): string {
  return typeof bytes === 'number' ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : '';
}

/** The rows as table cells, and the notes the workload cells point to as `(n)`. */
function tableOf(outcomes: readonly Outcome[]): { header: string[]; rows: string[][]; notes: string[] } {
  const header = ['workload', 'peer', 'ours', 'peer rate', 'ratio', 'MB/s', 'peak RSS'];
  const rows: string[][] = [];
  const notes: string[] = [];
  const noted = (text: string, note: string | undefined): string => {
    if (note === undefined || note === '') return text;
    let k = notes.indexOf(note);
    if (k < 0) k = notes.push(note) - 1;
    return `${text} (${k + 1})`;
  };
  for (const o of outcomes) {
    for (const r of o.rows) {
      rows.push([
        noted(`${o.spec.name}: ${r.workload}`, r.note),
        r.peer,
        r.rate === null ? 'not measured' : `${fmtRate(r.rate)} ${r.unit}`,
        typeof r.peerRate === 'number' ? `${fmtRate(r.peerRate)} ${r.unit}` : '',
        typeof r.ratio === 'number' ? `${r.ratio.toFixed(2)}x` : '',
        typeof r.mbPerSec === 'number' ? r.mbPerSec.toFixed(1) : '',
        fmtMiB(r.peakRssBytes) + (typeof r.peerPeakRssBytes === 'number' ? ` (peer ${fmtMiB(r.peerPeakRssBytes)})` : ''),
      ]);
    }
    const why = crash(o);
    if (why !== null) {
      rows.push([noted(`${o.spec.name}: CRASHED, ${why}`, `see ${relative(ROOT, o.logFile)} for its output; the rows above it, if any, are what it reported before`), '-', 'not measured', '', '', '', '']);
    }
  }
  return { header, rows, notes };
}

/** A table with padded columns: Markdown (pipes in cells escaped) or plain for a terminal. */
function renderTable(header: string[], rows: string[][], markdown: boolean): string {
  const cell = (c: string): string => (markdown ? c.replace(/\|/g, '\\|') : c);
  const all = [header, ...rows].map((r) => r.map(cell));
  const widths = header.map((_, i) => Math.max(3, ...all.map((r) => r[i]!.length)));
  // Left-aligned text columns, right-aligned figures.
  const right = (i: number): boolean => i >= 2;
  const line = (r: string[]): string => `| ${r.map((c, i) => (right(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (right(i) ? `${'-'.repeat(w + 1)}:` : `${'-'.repeat(w + 2)}`)).join('|')}|`;
  return [line(all[0]!), rule, ...all.slice(1).map(line)].join('\n');
}

function firstLine(cmd: string, args: string[]): string | null {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return r.status === 0 && r.stdout ? (r.stdout.trim().split('\n')[0] ?? null) : null;
}

function fmtDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}

function parseArgs(argv: string[]): { only: Set<string> | null; out: string } {
  let only: Set<string> | null = null;
  let out = join(ROOT, 'bench', 'RESULTS.md');
  for (let i = 0; i < argv.length; i++) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--only' && value !== undefined) {
      only = new Set(value.split(','));
      const unknown = [...only].filter((n) => !BENCHES.some((b) => b.name === n));
      if (unknown.length > 0) throw new Error(`--only: no bench named ${unknown.join(', ')} (there are ${BENCHES.map((b) => b.name).join(', ')})`);
      i++;
    } else if (flag === '--out' && value !== undefined) {
      out = resolve(value);
      i++;
    } else if (flag === '--help' || flag === '-h') {
      console.log('usage: npx tsx bench/run-all.ts [--only extract,ingest-s3,extract-pg,sync,replay,sinks,compare] [--out bench/RESULTS.md]');
      process.exit(0);
    } else throw new Error(`unknown argument: ${flag}`);
  }
  return { only, out };
}

async function main(): Promise<void> {
  const { only, out } = parseArgs(process.argv.slice(2));
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error('dist/cli/main.js is missing: run `npm run build` first (npm run bench does)');
  const started = new Date();
  const loadStart = loadavg()[0]!;
  const logDir = join(DATA_DIR, 'run-all');
  mkdirSync(logDir, { recursive: true });
  const tmp = await mkdtemp(join(tmpdir(), 'auditreplay-bench-all-'));
  process.on('SIGINT', () => {
    interrupted = true;
    if (current !== null) killGroup(current, 'SIGINT');
  });
  const outcomes: Outcome[] = [];
  const t0 = performance.now();
  try {
    for (const spec of BENCHES) {
      if (only !== null && !only.has(spec.name)) continue;
      if (interrupted) break;
      outcomes.push(await runBench(spec, tmp, logDir));
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const totalMs = performance.now() - t0;
  if (interrupted) {
    console.error('interrupted: RESULTS.md not written');
    process.exit(130);
  }

  const { header, rows, notes } = tableOf(outcomes);
  const commit = firstLine('git', ['-C', ROOT, 'rev-parse', 'HEAD']);
  const postgres = firstLine(join(PG_BIN, 'postgres'), ['--version'])?.replace(/^postgres \(PostgreSQL\) /, '') ?? 'not installed';
  const peers = [
    firstLine('pgbadger', ['--version'])?.replace(/^pgBadger version /, 'pgBadger ') ?? 'pgBadger: not installed',
    firstLine('pgreplay', ['-v']) ?? 'pgreplay: not installed',
    firstLine(join(PG_BIN, 'pgbench'), ['--version'])?.replace(/ \(PostgreSQL\)/, '') ?? 'pgbench: not installed',
  ];
  const head = [
    '# Benchmark results',
    '',
    'Written by `npm run bench` (`bench/run-all.ts`): every benchmark in `bench/` at a reduced size, one after',
    'another; do not edit by hand, run it again. What each bench measures, and how: [README.md](README.md).',
    '',
    `- date: ${started.toISOString().replace(/\.\d+Z$/, 'Z')}; the benches took ${fmtDuration(totalMs)}${only !== null ? ` (only ${[...only].join(', ')})` : ''}, build not included`,
    `- machine: ${cpus().length} CPU(s) (${cpus()[0]?.model.trim() ?? 'unknown'}), ${(totalmem() / 1024 ** 3).toFixed(1)} GiB memory, Linux ${release()}; load average ${loadStart.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end`,
    `- node ${process.version}; PostgreSQL ${postgres}; ${peers.join(', ')}`,
    `- commit: ${commit ?? 'unknown (no git)'}`,
    '',
    'ours and peer rate: the same work counted the same way for both (the events extract found, the SELECTs in the',
    "log, the statements in the file), per second of each tool's wall time; replay and pgbench qps exclude",
    "connecting. ratio: ours / the peer's rate, so above 1.00x we are faster and below it slower. sinks: the",
    'peer is the `.jsonl` sink (the baseline); compare has no peer. MB/s: the log text ours read per second',
    '(decompressed for gzip input; bytes written for sinks). peak RSS: our process (the peer\'s in brackets).',
    'Targets, where a bench has one, are in the notes under the table.',
    '',
  ];
  const sizes = outcomes.map((o) => {
    const status = crash(o) ?? `exit ${o.exitCode}`;
    return `- \`${o.spec.name}\`: here \`npx tsx bench/${o.spec.script} ${o.spec.args.join(' ')}\` (${(o.wallMs / 1000).toFixed(0)} s, ${status}${o.data !== null ? `, data ${o.data}` : ''}); full size: \`${o.spec.full}\` (${o.spec.fullSize})`;
  });
  const body = [
    renderTable(header, rows, true),
    '',
    ...notes.map((n, k) => `${k + 1}. ${n}`),
    '',
    '## Sizes here, and full size',
    '',
    ...sizes,
    '',
    `Each bench's whole output: \`${relative(ROOT, logDir) || logDir}/<bench>.log\` (not committed).`,
    '',
  ];
  writeFileSync(out, [...head, ...body].join('\n'));
  console.log('');
  console.log(renderTable(header, rows, false));
  console.log('');
  for (const [k, n] of notes.entries()) console.log(`(${k + 1}) ${n}`);
  console.log('');
  console.log(`wrote ${relative(process.cwd(), out) || out}; the benches took ${fmtDuration(totalMs)}`);
  process.exitCode = outcomes.some((o) => crash(o) !== null) ? 1 : 0;
}

await main();
