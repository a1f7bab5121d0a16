/**
 * Sync benchmark: `auditreplay sync` applying N DDL/DCL statements from a real PostgreSQL
 * jsonlog onto a secondary, with its ledger on, against the ceiling of the same statements
 * run by `psql -1 -f` (one transaction, no parsing of a log, no ledger).
 *
 *   npx tsx bench/sync.ts [--statements 10000] [--repeat 3] [--cli bin/auditreplay.js]
 *
 * The statements (a deterministic mix of CREATE SCHEMA/TABLE/INDEX/VIEW, ALTER TABLE,
 * COMMENT ON, GRANT and REVOKE across a few schemas) are written as one .sql file and run on
 * a throwaway PostgreSQL 15 primary with jsonlog and log_statement=all; the file and the
 * primary's log are cached under bench/data/ (git-ignored), keyed by N. The roles they grant
 * to are made beforehand on both clusters, unlogged. Each round gets fresh databases on one
 * secondary cluster: `bench_sync` for the CLI, `bench_psql` for psql. Both tools run pinned
 * to CPU 0 when `taskset` exists. The bench reports PASS/MISS; a miss does not fail the
 * process, only a broken run does (exit 1): a tool failing, no summary, applied != N, or
 * the two databases holding different objects.
 */
import { parseNumericFlags, pinned, PINNED } from './lib/bench-args.js';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DATA_DIR, fmtInt, mb, pad, ROOT, summaryLine } from './lib/okera-data.js';
import { fnv1a, mulberry32 } from '../samples/gen/prng.js';
import { PRIMARY_LOG_SETTINGS } from '../test/helpers/ddl-workload.js';
import { ensurePostgres, PG_BIN, startPostgres, type PostgresCluster } from '../test/helpers/postgres-server.js';
import { reportResult } from './lib/bench-result.js';

/** Sync's statements/s as a fraction of psql's, at least. */
const TARGET_VS_PSQL = 0.8;
/** Bump when the way the log is made changes, so a cached log is rebuilt (the .sql text is also hashed). */
const DATA_VERSION = 2;
const SEED = 42;
/** The primary's database; its statements go to `bench_sync` on the secondary (--map-database). */
const PRIMARY_DB = 'bench';
const SCHEMAS = ['bench_sales', 'bench_ops', 'bench_hr', 'bench_fin'];
/** Made on both clusters before anything is measured: roles are cluster-wide. */
const ROLES = ['bench_reader', 'bench_writer', 'bench_analyst', 'bench_owner'];


interface LogSet {
  sqlFile: string;
  logDir: string;
  logFile: string;
  statements: number;
  hash: string;
  sqlBytes: number;
  bytes: number;
  from: string;
  to: string;
}

interface Summary {
  type?: string;
  halted?: boolean;
  planned?: number;
  applied?: number;
  failed?: number;
  transactions?: number;
  elapsedMs?: number;
  statementsPerSec?: number | null;
  peakRssBytes?: number;
  [key: string]: unknown;
}

interface Run {
  tool: string;
  wallMs: number;
  exitCode: number | null;
  stderr: string;
  /** Peak RSS of the process: the sync summary's, or psql's from /usr/bin/time. */
  rssBytes: number | null;
  summary: Summary | null;
}



const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;


/** Runs a process to its end and times it, start to exit; with `rssFile`, under `/usr/bin/time -f %M -o rssFile`. */
function run(tool: string, cmd: string, args: string[], options: { pin?: boolean; rssFile?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  let [c, a] = [cmd, args];
  if (options.rssFile !== undefined && TIME !== null) [c, a] = [TIME, ['-f', '%M', '-o', options.rssFile, c, ...a]];
  if (options.pin !== false) [c, a] = pinned(c, a);
  const t0 = performance.now();
  const child = spawn(c, a, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...options.env } });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-65_536)));
  return new Promise((res, rej) => {
    child.on('error', rej);
    child.on('close', (exitCode) => {
      const wallMs = performance.now() - t0;
      let rssBytes: number | null = null;
      if (options.rssFile !== undefined && existsSync(options.rssFile)) {
        const kb = Number(readFileSync(options.rssFile, 'utf8').trim().split('\n').pop());
        if (Number.isFinite(kb) && kb > 0) rssBytes = kb * 1024;
      }
      res({ tool, wallMs, exitCode, stderr, rssBytes, summary: null });
    });
  });
}

/** psql from PG_BIN against a cluster over loopback, as the cluster helper runs it. */
function psqlArgs(cluster: PostgresCluster, database: string, extra: string[]): [string, string[]] {
  return [join(PG_BIN, 'psql'), ['-X', '-q', '-h', '127.0.0.1', '-p', String(cluster.port), '-U', 'postgres', '-d', database, '-v', 'ON_ERROR_STOP=1', ...extra]];
}

/** Runs SQL in a session that logs nothing (setup the sync must not see), failing on any error. */
async function unlogged(cluster: PostgresCluster, sql: string): Promise<void> {
  const [cmd, args] = psqlArgs(cluster, 'postgres', ['-c', sql]);
  const r = await run('setup', cmd, args, { pin: false, env: { PGOPTIONS: '-c log_statement=none -c log_min_duration_statement=-1' } });
  if (r.exitCode !== 0) throw new Error(`setup failed (exit ${r.exitCode}): ${r.stderr}`);
}

const createRoles = ROLES.map((r) => `CREATE ROLE ${r} NOLOGIN;`).join(' ');

const COLUMN_TYPES: readonly (readonly [string, string | null])[] = [
  ['integer', '0'],
  ['bigint', null],
  ['text', "''"],
  ['varchar(64)', null],
  ['boolean', 'false'],
  ['numeric(12,2)', '0'],
  ['timestamptz', 'now()'],
  ['date', 'CURRENT_DATE'],
  ['jsonb', "'{}'::jsonb"],
  ['uuid', null],
  ['smallint', '1'],
  ['double precision', null],
  ['text[]', "'{}'"],
  ['inet', null],
];
const WORDS = ['order', 'customer', 'invoice', 'shipment', 'ledger', 'account', 'payment', 'event', 'device', 'session', 'region', 'price', 'stock', 'contract'];

/**
 * N DDL/DCL statements, the same for the same N: schemas first, then per table about a
 * dozen statements (CREATE TABLE with a primary key, typed columns and defaults, indexes,
 * ADD COLUMN, comments, a view, grants and a revoke). Each one only needs earlier ones.
 */
function makeStatements(n: number): string[] {
  const r = mulberry32(SEED);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const out: string[] = [];
  const emit = (s: string): void => {
    if (out.length < n) out.push(s);
  };
  for (const s of SCHEMAS) {
    emit(`CREATE SCHEMA ${s}`);
    emit(`COMMENT ON SCHEMA ${s} IS 'benchmark schema ${s.slice(6)}'`);
    emit(`GRANT USAGE ON SCHEMA ${s} TO bench_reader, bench_analyst`);
    emit(`GRANT USAGE, CREATE ON SCHEMA ${s} TO bench_writer`);
  }
  for (let t = 0; out.length < n; t++) {
    const schema = SCHEMAS[t % SCHEMAS.length]!;
    const name = `${pick(WORDS)}_${t}`;
    const table = `${schema}.${name}`;
    const cols: string[] = [];
    const composite = r() < 0.2;
    if (composite) cols.push('tenant_id integer NOT NULL', 'id bigint NOT NULL');
    else cols.push(r() < 0.5 ? 'id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY' : 'id serial PRIMARY KEY');
    const ncols = 3 + Math.floor(r() * 6);
    const names: string[] = [];
    for (let c = 0; c < ncols; c++) {
      const [type, def] = pick(COLUMN_TYPES);
      const col = `c${c}_${pick(WORDS)}`;
      names.push(col);
      cols.push(`${col} ${type}${def !== null && r() < 0.7 ? ` DEFAULT ${def}` : ''}${r() < 0.3 ? ' NOT NULL' : ''}`);
    }
    cols.push('created_at timestamptz NOT NULL DEFAULT now()');
    if (composite) cols.push('PRIMARY KEY (tenant_id, id)');
    emit(`CREATE TABLE ${table} (\n  ${cols.join(',\n  ')}\n)`);
    emit(`CREATE INDEX ${name}_created_idx ON ${table} (created_at)`);
    if (r() < 0.5) emit(`CREATE ${r() < 0.3 ? 'UNIQUE ' : ''}INDEX ${name}_${names[0]}_idx ON ${table} (${names[0]}${names.length > 1 && r() < 0.5 ? `, ${names[1]}` : ''})`);
    const added = Math.floor(r() * 3);
    for (let k = 0; k < added; k++) {
      const [type, def] = pick(COLUMN_TYPES);
      emit(`ALTER TABLE ${table} ADD COLUMN extra_${k} ${type}${def !== null ? ` DEFAULT ${def}` : ''}`);
    }
    emit(`COMMENT ON TABLE ${table} IS 'the ${name.replace(/_\d+$/, '')}s of ${schema.slice(6)}, table ${t}'`);
    if (r() < 0.6) emit(`COMMENT ON COLUMN ${table}.${names[0]} IS 'what ''${names[0]}'' holds'`);
    emit(`GRANT SELECT ON ${table} TO bench_reader`);
    emit(`GRANT SELECT, INSERT, UPDATE, DELETE ON ${table} TO bench_writer`);
    if (r() < 0.3) emit(`REVOKE DELETE ON ${table} FROM bench_writer`);
    if (r() < 0.5) {
      emit(`CREATE VIEW ${schema}.${name}_recent AS SELECT id, ${names.slice(0, 2).join(', ')}, created_at FROM ${table} WHERE created_at > now() - interval '7 days'`);
      emit(`GRANT SELECT ON ${schema}.${name}_recent TO bench_analyst`);
    }
    if (r() < 0.1) emit(`ALTER TABLE ${table} OWNER TO bench_owner`);
  }
  return out;
}

/**
 * Makes (or reuses) the .sql file of N statements and the jsonlog of a primary that ran it
 * with `psql -f` in one session, back to back as a migration script runs (so many
 * statements share a millisecond of log time), each in its own transaction.
 */
async function logSet(n: number): Promise<LogSet> {
  const dir = join(DATA_DIR, `sync-v${DATA_VERSION}-n${n}`);
  const sqlFile = join(dir, 'statements.sql');
  const logDir = join(dir, 'log');
  const logFile = join(logDir, 'postgresql.json');
  const marker = join(dir, '.complete.json');
  const statements = makeStatements(n);
  const sql = statements.map((s) => `${s};\n`).join('');
  const hash = fnv1a(sql).toString(16);
  if (existsSync(marker) && existsSync(logFile) && existsSync(sqlFile)) {
    const cached = JSON.parse(readFileSync(marker, 'utf8')) as LogSet;
    if (cached.hash === hash && statSync(logFile).size === cached.bytes && readFileSync(sqlFile, 'utf8') === sql) {
      console.log(`data:  reusing ${relative(ROOT, dir)} (${fmtInt(n)} statements)`);
      return { ...cached, sqlFile, logDir, logFile };
    }
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(logDir, { recursive: true });
  writeFileSync(sqlFile, sql);
  process.stdout.write(`data:  running ${fmtInt(n)} statements on a primary with jsonlog (psql -f) into ${relative(ROOT, dir)} ... `);
  const primary = await startPostgres({ settings: PRIMARY_LOG_SETTINGS });
  try {
    await unlogged(primary, createRoles);
    await unlogged(primary, `CREATE DATABASE ${PRIMARY_DB}`);
    const from = new Date(Date.now() - 60_000).toISOString();
    const t0 = performance.now();
    const [cmd, args] = psqlArgs(primary, PRIMARY_DB, ['-f', sqlFile]);
    const r = await run('primary', cmd, args, { pin: false, env: { PGAPPNAME: 'bench-sync' } });
    if (r.exitCode !== 0) throw new Error(`psql on the primary failed (exit ${r.exitCode}): ${r.stderr}`);
    const to = new Date(Date.now() + 60_000).toISOString();
    console.log(`${((performance.now() - t0) / 1000).toFixed(1)} s`);
    await primary.stop();
    copyFileSync(join(primary.logDir, 'postgresql.json'), logFile);
    const set: LogSet = { sqlFile, logDir, logFile, statements: n, hash, sqlBytes: statSync(sqlFile).size, bytes: statSync(logFile).size, from, to };
    writeFileSync(marker, JSON.stringify(set, null, 1));
    return set;
  } finally {
    await primary.destroy();
  }
}

/** Drops and makes the database again: every run starts from an empty one. */
async function freshDatabase(cluster: PostgresCluster, db: string): Promise<void> {
  await cluster.sql(`DROP DATABASE IF EXISTS ${db} WITH (FORCE);\nCREATE DATABASE ${db};\n`);
}

/** What the benchmark schemas of a database hold: relations (tables, indexes, views, sequences) and a digest of their names, columns, owners, ACLs and comments. */
async function objectsOf(cluster: PostgresCluster, db: string): Promise<{ relations: number; digest: string }> {
  const out = await cluster.sql(
    `\\pset tuples_only on
\\pset format unaligned
SELECT count(*)::text || ' ' || md5(coalesce(string_agg(
  n.nspname || '.' || c.relname || ':' || c.relkind::text || ':' || pg_get_userbyid(c.relowner) || ':' || coalesce(c.relacl::text, '') || ':' ||
  coalesce(obj_description(c.oid, 'pg_class'), '') || ':' ||
  coalesce((SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || coalesce(' ' || col_description(c.oid, a.attnum), ''), ',' ORDER BY a.attnum)
            FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), ''),
  E'\\n' ORDER BY n.nspname, c.relname), ''))
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname IN (${SCHEMAS.map((s) => `'${s}'`).join(', ')});
`,
    { database: db },
  );
  const [relations, digest] = out.trim().split(' ');
  return { relations: Number(relations), digest: digest ?? '' };
}

async function ledgerRows(cluster: PostgresCluster, db: string): Promise<number> {
  const out = await cluster.sql(`\\pset tuples_only on\n\\pset format unaligned\nSELECT count(*) FROM auditreplay.applied;\n`, { database: db });
  return Number(out.trim());
}

/** The run in the middle when sorted by wall time (the lower one of the two middle ones for an even count). */
function median(runs: Run[]): Run {
  const sorted = [...runs].sort((a, b) => a.wallMs - b.wallMs);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

async function main(): Promise<void> {
  const args = parseNumericFlags(process.argv.slice(2), 'bench/sync.ts', { statements: 10_000, repeat: 3 });
  const n = args.statements;
  console.log(`bench: sync, node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} CPU(s)`);
  console.log(PINNED ? 'bench: sync and psql pinned to CPU 0 with taskset -c 0 (the servers are not pinned)' : 'bench: taskset not found, runs are NOT pinned to one core');
  if (!existsSync(args.cli)) throw new Error(`CLI not found: ${args.cli}`);
  if (args.cli === join(ROOT, 'bin', 'auditreplay.js') && !existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) {
    throw new Error('dist/cli/main.js is missing: run `npm run build` first');
  }
  ensurePostgres([]);
  const set = await logSet(n);
  console.log(`data:  ${fmtInt(n)} statements, .sql ${mb(set.sqlBytes)} MB, log ${mb(set.bytes)} MB, ${set.from} .. ${set.to}`);

  const secondary = await startPostgres();
  const tmp = await mkdtemp(join(tmpdir(), 'auditreplay-bench-sync-'));
  let broken = false;
  const fail = (msg: string): void => {
    broken = true;
    console.error(`error: ${msg}`);
  };
  const syncRuns: Run[] = [];
  const psqlRuns: Run[] = [];
  let batch1: Run | null = null;
  try {
    await secondary.sql(createRoles);
    const sync = async (batch: number): Promise<Run> => {
      await freshDatabase(secondary, 'bench_sync');
      const tool = `sync --batch ${batch}`;
      process.stdout.write(`run:   ${tool.padEnd(17)} ... `);
      const r = await run(tool, process.execPath, [
        args.cli,
        'sync',
        '--source',
        set.logDir,
        '--layout',
        'flat',
        '--from',
        set.from,
        '--to',
        set.to,
        '--map-database',
        `${PRIMARY_DB}=bench_sync`,
        '--target',
        secondary.url('bench_sync'),
        '--batch',
        String(batch),
      ]);
      r.summary = summaryLine<Summary>(r.stderr.trimEnd().split('\n'));
      r.rssBytes = r.summary?.peakRssBytes ?? null;
      const s = r.summary;
      console.log(`${(r.wallMs / 1000).toFixed(2)} s, exit ${r.exitCode}` + (s ? `, applied ${fmtInt(s.applied ?? 0)} of ${fmtInt(s.planned ?? 0)} in ${fmtInt(s.transactions ?? 0)} transactions, cli ${((s.elapsedMs ?? 0) / 1000).toFixed(2)} s` : ''));
      if (r.exitCode !== 0) fail(`${tool} exited with ${r.exitCode}:\n${r.stderr.trimEnd().split('\n').slice(-8).join('\n')}`);
      else if (s === null) fail(`${tool} printed no JSON summary as its last stderr line`);
      else if (s.applied !== n || s.halted === true) fail(`${tool} applied ${s.applied} of ${n} statements${s.halted ? ' and halted' : ''}`);
      else {
        const rows = await ledgerRows(secondary, 'bench_sync');
        if (rows !== n) fail(`${tool}: the ledger holds ${rows} rows, not ${n}`);
      }
      return r;
    };
    const psql = async (): Promise<Run> => {
      await freshDatabase(secondary, 'bench_psql');
      process.stdout.write(`run:   ${'psql -1 -f'.padEnd(17)} ... `);
      const [cmd, a] = psqlArgs(secondary, 'bench_psql', ['-1', '-f', set.sqlFile]);
      const r = await run('psql -1 -f', cmd, a, { rssFile: join(tmp, 'psql-rss') });
      console.log(`${(r.wallMs / 1000).toFixed(2)} s, exit ${r.exitCode}`);
      if (r.exitCode !== 0) fail(`psql exited with ${r.exitCode}:\n${r.stderr.trimEnd().split('\n').slice(-8).join('\n')}`);
      return r;
    };
    // Rounds of sync then psql, so a change of load on a shared machine hits both alike.
    for (let round = 1; round <= args.repeat && !broken; round++) {
      if (args.repeat > 1) console.log(`round ${round} of ${args.repeat}`);
      syncRuns.push(await sync(100));
      psqlRuns.push(await psql());
      if (broken || round > 1) continue;
      // Same objects on both sides, or the comparison says nothing.
      const [a, b] = [await objectsOf(secondary, 'bench_sync'), await objectsOf(secondary, 'bench_psql')];
      console.log(`check: bench_sync ${fmtInt(a.relations)} relations, bench_psql ${fmtInt(b.relations)}; digest of names, columns, owners, ACLs, comments ${a.digest === b.digest ? 'equal' : 'DIFFERENT'}`);
      if (a.relations !== b.relations || a.relations === 0) fail('the two databases do not hold the same number of relations');
      else if (a.digest !== b.digest) console.log('WARN  the relations match in number but differ in detail (columns, owners, ACLs or comments)');
    }
    if (!broken) {
      batch1 = await sync(1);
      const c = await objectsOf(secondary, 'bench_sync');
      if (c.relations !== (await objectsOf(secondary, 'bench_psql')).relations) fail('sync --batch 1 made a different number of relations than psql');
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    await secondary.destroy();
  }
  if (broken || syncRuns.length === 0 || psqlRuns.length === 0 || batch1 === null) process.exit(1);

  const ours = median(syncRuns);
  const ceiling = median(psqlRuns);
  const widths = [16, 10, 8, 8, 13, 9, 10, 8, 8];
  console.log('');
  console.log(pad(['tool', 'statements', 'wall s', 'cli s', 'statements/s', 'MB/s log', 'peak RSS', 'txns', 'vs psql'], widths));
  for (const r of [ours, ceiling, batch1]) {
    const secs = r.wallMs / 1000;
    const s = r.summary;
    console.log(
      pad(
        [
          r.tool,
          fmtInt(n),
          secs.toFixed(2),
          s?.elapsedMs !== undefined ? (s.elapsedMs / 1000).toFixed(2) : '-',
          fmtInt(n / secs),
          s ? (set.bytes / 1024 / 1024 / secs).toFixed(1) : '-',
          r.rssBytes !== null ? `${mb(r.rssBytes)} MB` : 'n/a',
          s?.transactions !== undefined ? fmtInt(s.transactions) : '1',
          `${(ceiling.wallMs / r.wallMs).toFixed(2)}x`,
        ],
        widths,
      ),
    );
  }
  console.log('');
  console.log(`wall s: process start to exit (Node's or psql's start-up included)${args.repeat > 1 ? `, the median of ${args.repeat} rounds (sync --batch 1: one run)` : ''};`);
  console.log(`cli s: the summary's elapsedMs; statements/s: the ${fmtInt(n)} statements per wall second; MB/s log: the jsonlog (${mb(set.bytes)} MB) per wall second;`);
  console.log(`peak RSS: sync's summary peakRssBytes, psql's ${TIME !== null ? 'from /usr/bin/time -f %M' : 'n/a (no /usr/bin/time)'}; vs psql: psql's wall time over the tool's, i.e. its speed as a fraction of psql's.`);
  if (syncRuns.length > 1) {
    // Each round runs sync and psql back to back: their ratio drifts less with the machine's load than either time.
    const perRound = syncRuns.map((r, k) => `${(psqlRuns[k]!.wallMs / r.wallMs).toFixed(2)}x`).join(', ');
    console.log(`sync --batch 100 vs psql per round: ${perRound}`);
  }
  console.log('');
  const ratio = ceiling.wallMs / ours.wallMs;
  // Rounded down, so a ratio just under the target never reads as the target.
  console.log(
    `${ratio >= TARGET_VS_PSQL ? 'PASS' : 'MISS'}  sync --batch 100 at ${(Math.floor(ratio * 100) / 100).toFixed(2)}x the speed of psql -1 -f, ledger on: ` +
      `${fmtInt(n / (ours.wallMs / 1000))} vs ${fmtInt(n / (ceiling.wallMs / 1000))} statements/s (target >= ${TARGET_VS_PSQL}x)`,
  );
  for (const [r, note] of [
    [ours, `ledger on; target: ratio >= ${TARGET_VS_PSQL}`],
    [batch1, 'one transaction per statement, ledger on; for context, no target'],
  ] as const) {
    reportResult({
      workload: `${r.tool.replace(/^sync /, '')}, ${fmtInt(n)} DDL/DCL statements from a jsonlog`,
      peer: 'psql -1 -f (one transaction, no log, no ledger)',
      unit: 'statements/s',
      rate: n / (r.wallMs / 1000),
      peakRssBytes: r.rssBytes,
      mbPerSec: set.bytes / (1024 * 1024) / (r.wallMs / 1000),
      peerRate: n / (ceiling.wallMs / 1000),
      peerPeakRssBytes: ceiling.rssBytes,
      ratio: ceiling.wallMs / r.wallMs,
      note,
    });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
