import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import type { AuditEvent, EventKind } from '../core/audit-event.js';
import { AuditReplayError, EXIT } from '../core/errors.js';
import { inShard, resolveShard, SHARD_FLAG_HELP, SHARD_OUT_HELP, shardLabel, withShard, type Shard } from '../core/shard.js';
import { replayResultToJson, type ReplayResult } from '../core/replay-result.js';
import { formatTime, parseDuration, parseTime } from '../core/time.js';
import { extract } from '../extract/extract-pipeline.js';
import { databaseOf, mapName, parseNameMap } from '../replay/name-map.js';
import type { ConnectionKey } from '../replay/run/connection-pool.js';
import { Credentials } from '../replay/run/credentials.js';
import { decide, type ReplayPolicy } from '../replay/run/replay-plan.js';
import { ReplayRunner, replaySessionKey, type ReplayStats, type SessionIdentity } from '../replay/run/replay-runner.js';
import type { ChecksumMode } from '../replay/run/result-checksum.js';
import { quoteIdent } from '../replay/sync/sql-names.js';
import { openTarget } from '../replay/target-registry.js';
import type { Target } from '../replay/target.js';
import { isTableUrl } from '../sinks/postgres/index.js';
import { REJECT_SCHEMA, REPLAY_RESULT_SCHEMA } from '../sinks/record-schema.js';
import { openSink } from '../sinks/sink-registry.js';
import { writeTextObject } from '../sinks/storage/write-text.js';
import type { StorageOptions } from '../sinks/storage.js';
import { addSinkFlags, SINK_HELP, sinkOptions, type SinkFlags } from './sink-flags.js';
import type { Sink } from '../sinks/sink.js';
import { collect, positiveInt } from './flag-values.js';
import { Progress, type ProgressMode, type ProgressReport } from './progress.js';
import { addObservabilityFlags, Observability, type ObservabilityFlags } from './observability-flags.js';
import { logger, safeText } from '../core/logger.js';
import type { MetricsSource } from '../core/metrics.js';
import type { ExtractStats } from '../extract/extract-pipeline.js';
import { addSourceFlags, openRejects, sourceSettings, type SourceFlags } from './source-flags.js';

export interface ReplayFlags extends SourceFlags, SinkFlags, ObservabilityFlags {
  target: string;
  from: string;
  to: string;
  out?: string;
  speed: string;
  concurrency: string;
  credentials?: string;
  asRole?: boolean;
  userMap: string[];
  mapDatabase: string[];
  allowWrites?: boolean;
  statementTimeout?: string;
  lockTimeout: string;
  dryRun?: boolean;
  tag: boolean;
  runId?: string;
  checksum: string;
  repeat: string;
  warmup: string;
  drainTimeout: string;
  progress: ProgressMode;
  progressInterval: string;
  rejects?: string;
  maxRejects?: string;
  shard?: string;
}

const EXAMPLES = `
Examples:
  # the queries of one hour, at their original pace, read-only, 8 connections
  $ auditreplay replay --source s3://audit/pg --from 2026-11-20T09:00Z --to 2026-11-20T10:00Z \\
      --target postgres://replay@secondary/app --out results.jsonl

  # as fast as the sessions allow, each session as its original user via SET ROLE
  $ auditreplay replay --source ./logs --from 2026-11-20 --to 2026-11-21 --target postgres://svc@secondary/app \\
      --speed max --concurrency 16 --as-role --out results.jsonl.gz

  # three measured passes after one warm-up, for compare
  $ auditreplay replay --source ./logs --from 1h --target pglite://.demo/secondary --repeat 3 --warmup 1 --out runs.jsonl

  # what would run, and how long it would take at 4x
  $ auditreplay replay --source ./logs --from 2026-11-20 --to 2026-11-21 --target postgres://x@y/z --speed 4 --dry-run
`;

/** Registers `auditreplay replay` on the program. */
export function registerReplay(program: Command, run: (action: (signal: AbortSignal) => Promise<number>) => Promise<void>): void {
  const command = program
    .command('replay')
    .description("Re-run a window of the primary's queries against the secondary, in their sessions, paced, concurrent and read-only, recording every execution.");
  addObservabilityFlags(addSinkFlags(addSourceFlags(command)), { metricsPort: true })
    .requiredOption('--target <url>', 'the secondary: postgres://user@host:port/db, pglite://DIR or pglite://memory')
    .requiredOption('--from <time>', 'window start, inclusive (ISO time, or relative: 90m, 24h, 7d)')
    .option('--to <time>', 'window end, exclusive', 'now')
    .option('--out <sink>', `where the results go, one ReplayResult per execution (required unless --dry-run): ${SINK_HELP}${SHARD_OUT_HELP}; the run summary goes beside it`)
    .option('--speed <n|max>', 'pace: 1 keeps the original gaps between statements, 4 is four times faster, max does not wait', '1')
    .option('--concurrency <n>', 'connections at most (PGlite: 1)', '8')
    .option('--credentials <file>', 'connect as each original user: a JSON file {"user": "password" | "env:VAR" | "file:/path"}')
    .option('--as-role', 'connect as the --target user and SET ROLE to each original user')
    .option('--user-map <a=b>', 'original user a is b on the secondary (repeatable)', collect, [])
    .option('--map-database <a=b>', 'run statements of database a in database b (repeatable)', collect, [])
    .option('--allow-writes', 'replay every kind of statement, not only queries; connections are no longer read-only')
    .option('--statement-timeout <duration>', 'cancel a statement running longer than this on the secondary (e.g. 30s; default: none)')
    .option('--lock-timeout <duration>', 'fail a statement waiting longer than this for a lock, so sessions never hang on lock order', '1s')
    .option('--dry-run', 'print the plan (sessions, statements by kind, time span, expected duration) without connecting')
    .option('--no-tag', "do not put /* auditreplay run=<id> orig=<id> */ in front of each statement")
    .option('--run-id <id>', 'the id of this run in the tags and results (default: a new UUID)')
    .option('--checksum <mode>', 'hash each result: none, rows (order-insensitive over the values) or full (rows and column names and types)', 'rows')
    .option('--repeat <n>', 'replay the window n times (results carry attempt 1..n)', '1')
    .option('--warmup <k>', 'replay the window k times first without recording', '0')
    .option('--drain-timeout <duration>', 'after SIGINT/SIGTERM, how long statements in flight may finish before they are cancelled', '20s')
    .option('--progress <mode>', 'progress on stderr: auto, tty, json, none', 'auto')
    .option('--progress-interval <duration>', 'time between JSON progress lines', '5s')
    .option('--rejects <sink>', `unreadable records and statements refused in read-only mode, one record each (any --out form)${SHARD_OUT_HELP}`)
    .option('--max-rejects <n>', 'fail (exit 3) once more than this many records are rejected')
    .option('--shard <k/N>', SHARD_FLAG_HELP)
    .addHelpText('after', EXAMPLES)
    .action((flags: ReplayFlags) => run((signal) => runReplay(flags, signal)));
}

interface ReplaySettings {
  speed: number | 'max';
  concurrency: number;
  checksum: ChecksumMode;
  repeat: number;
  warmup: number;
  policy: ReplayPolicy;
  databaseMap: Map<string, string>;
  statementTimeoutMs: number | null;
  lockTimeoutMs: number;
  drainTimeoutMs: number;
}

function parseSettings(flags: ReplayFlags): ReplaySettings {
  const speed = flags.speed === 'max' ? 'max' : Number(flags.speed);
  if (speed !== 'max' && !(Number.isFinite(speed) && speed > 0)) throw new AuditReplayError('usage', `--speed takes a number above 0 or max, not '${flags.speed}'`);
  if (!['none', 'rows', 'full'].includes(flags.checksum)) throw new AuditReplayError('usage', `--checksum takes none, rows or full, not '${flags.checksum}'`);
  if (flags.credentials && flags.asRole) throw new AuditReplayError('usage', '--credentials and --as-role exclude each other: connect as each user, or as one user that sets each role');
  if (!flags.dryRun && !flags.out) throw new AuditReplayError('usage', '--out is required (where the results go), unless --dry-run');
  return {
    speed,
    concurrency: positiveInt(flags.concurrency, '--concurrency'),
    checksum: flags.checksum as ChecksumMode,
    repeat: positiveInt(flags.repeat, '--repeat'),
    warmup: positiveInt(flags.warmup, '--warmup', 0),
    policy: { allowWrites: flags.allowWrites === true, userMap: parseNameMap(flags.userMap, '--user-map') },
    databaseMap: parseNameMap(flags.mapDatabase, '--map-database'),
    statementTimeoutMs: flags.statementTimeout === undefined ? null : parseDuration(flags.statementTimeout),
    lockTimeoutMs: parseDuration(flags.lockTimeout),
    drainTimeoutMs: parseDuration(flags.drainTimeout),
  };
}

/** Runs replay with parsed flags; returns the exit code. */
export async function runReplay(flags: ReplayFlags, signal?: AbortSignal): Promise<number> {
  const now = Date.now();
  const settings = parseSettings(flags);
  const window = { from: parseTime(flags.from, now), to: parseTime(flags.to, now) };
  if (!(window.from < window.to)) throw new AuditReplayError('usage', `--from (${flags.from}) must be before --to (${flags.to})`);
  const log = (line: string): void => logger('replay').info(line);
  const source = sourceSettings(flags);
  const shard = resolveShard(flags.shard);
  // One config for every pod of an Indexed Job: `{shard}` gives each pod its own outputs.
  const outUrl = flags.out === undefined ? undefined : withShard(flags.out, shard);
  const rejectsUrl = flags.rejects === undefined ? undefined : withShard(flags.rejects, shard);
  const runId = flags.runId ?? randomUUID();
  const obs = await Observability.start(flags, { command: 'replay', runId, storage: sinkOptions(flags, REJECT_SCHEMA, runId).storage ?? {} });
  const { log: rejects, sink: rejectSink } = await openRejects(rejectsUrl, flags.maxRejects, (m) => logger('replay').warn(m), sinkOptions(flags, REJECT_SCHEMA, runId));
  const onRefused = (event: AuditEvent, reason: string): void =>
    rejects.add(
      { reason: 'refused', message: `${event.id}: not replayed: ${reason}`, object: event.source.object, line: event.source.line, format: event.source.format },
      event.statement,
    );
  // Every pass reads the window again: the metrics count the records of every read.
  const reads: ExtractStats[] = [];
  const events = (): AsyncIterable<AuditEvent[]> => {
    const read = extract({ ...source, window, rejects, ...(signal ? { signal } : {}) });
    reads.push(read.stats);
    return read.events;
  };

  if (flags.dryRun) {
    try {
      const plan = await printPlan(events(), settings, flags, window, onRefused, shard);
      await rejects.flush();
      await rejectSink?.commit();
      await obs.summary(`replay: plan of ${plan.statements} statements in ${plan.sessions} sessions`, { ...plan, runId });
      return EXIT.ok;
    } finally {
      await rejectSink?.abort();
      await obs.close();
    }
  }

  const credentials = flags.credentials ? Credentials.load(flags.credentials, log) : null;
  let target: Target | null = null;
  let sink: Sink<ReplayResult> | null = null;
  let committed = false;
  try {
    target = await openTarget(flags.target);
    sink = await openSink<ReplayResult>(outUrl!, { ...sinkOptions<ReplayResult>(flags, REPLAY_RESULT_SCHEMA, runId), toJson: replayResultToJson });
    let concurrency = settings.concurrency;
    if (!target.capabilities.concurrentSessions && concurrency > 1) {
      log(`replay: ${target.url} runs one statement at a time; sessions take turns on one connection (--concurrency 1)`);
      concurrency = 1;
    }
    const identify = identities(target, settings, flags, credentials, log);
    const connectionSettings: Record<string, string> = {
      ...(settings.policy.allowWrites ? {} : { default_transaction_read_only: 'on' }),
      lock_timeout: `${Math.round(settings.lockTimeoutMs)}ms`,
      ...(settings.statementTimeoutMs !== null ? { statement_timeout: `${Math.round(settings.statementTimeoutMs)}ms` } : {}),
    };
    const t = target;
    const connect = (key: ConnectionKey, s?: AbortSignal) =>
      t.connect({
        database: key.database,
        ...(key.user !== t.user ? { user: key.user } : {}),
        ...(credentials ? passwordOption(credentials, key.user) : {}),
        settings: connectionSettings,
        ...(s ? { signal: s } : {}),
      });
    log(
      `replay: ${formatTime(window.from)} .. ${formatTime(window.to)} onto ${target.url}, speed ${settings.speed}, up to ${concurrency} connections, ` +
        `${settings.policy.allowWrites ? 'writes allowed' : 'read-only'}, run ${runId}` +
        (settings.repeat > 1 || settings.warmup > 0 ? `, ${settings.warmup} warm-up and ${settings.repeat} measured passes` : ''),
    );

    // Results go to the sink in batches; a slow sink holds the sessions back.
    const writer = new BatchWriter(sink);
    const totals = new RunTotals();
    let runner: ReplayRunner | null = null;
    obs.watch(replayMetrics(() => runner, totals, reads, rejects));
    let interrupted = false;
    let drainTimer: NodeJS.Timeout | null = null;
    const onStop = (): void => {
      if (interrupted) return;
      interrupted = true;
      log(`replay: stopping: statements in flight finish (cancelled after ${flags.drainTimeout}); results are kept`);
      runner?.stop();
      drainTimer = setTimeout(() => runner?.cancel(), settings.drainTimeoutMs);
      drainTimer.unref();
      // A second signal cancels what is in flight at once.
      const cancel = (): void => runner?.cancel();
      process.once('SIGINT', cancel);
      process.once('SIGTERM', cancel);
    };
    signal?.addEventListener('abort', onStop, { once: true });
    const progress = new Progress(replayProgress(() => runner, totals), flags.progress, parseDuration(flags.progressInterval));
    progress.start();
    try {
      for (let pass = 1 - settings.warmup; pass <= settings.repeat && !interrupted; pass++) {
        const measured = pass >= 1;
        runner = new ReplayRunner({
          runId,
          targetUrl: target.url,
          connect,
          identify,
          policy: settings.policy,
          speed: settings.speed,
          concurrency,
          tag: flags.tag,
          checksum: settings.checksum,
          attempt: Math.max(pass, 0),
          ...(shard ? { shard } : {}),
          record: measured ? (r) => writer.add(r) : () => {},
          ...(pass === 1 - settings.warmup ? { onRefused } : {}),
          log,
        });
        const passStarted = Date.now();
        try {
          await runner.run(events());
        } catch (err) {
          // An interrupt also aborts the read: the statements that ran are kept.
          if (!(interrupted && signal?.aborted)) throw err;
        }
        totals.add(runner, measured, Date.now() - passStarted);
      }
    } finally {
      progress.stop();
      signal?.removeEventListener('abort', onStop);
      if (drainTimer) clearTimeout(drainTimer);
    }
    await writer.close();
    await rejects.flush();
    await sink.commit();
    await rejectSink?.commit();
    committed = true;
    const summary = totals.summary({ runId, target: target.url, window, settings, concurrency, complete: !interrupted, results: writer.written, out: safeText(outUrl!), shard });
    const message =
      `replay: ${summary.executed} statements replayed in ${(totals.elapsedMs / 1000).toFixed(1)} s (${summary.ok} ok, ${summary.failed} failed` +
        `${totals.refused ? `, ${totals.refused} refused` : ''}${Object.keys(totals.skipped).length ? `, skipped ${describeCounts(totals.skipped)}` : ''})` +
        (shard ? `; shard ${shardLabel(shard)}: ${totals.otherShard} statements of other shards' sessions left to them` : '') +
        `; lag p50 ${fmtMs(summary.lagMs.p50)}, p99 ${fmtMs(summary.lagMs.p99)}, max ${fmtMs(summary.lagMs.max)}` +
        (interrupted ? '; INTERRUPTED: the results hold what ran' : '');
    await writeRunSummary(outUrl!, summary, sinkOptions(flags, REPLAY_RESULT_SCHEMA, runId).storage ?? {});
    await obs.summary(message, summary);
    return interrupted ? EXIT.interrupted : EXIT.ok;
  } finally {
    if (!committed) await Promise.allSettled([sink?.abort(), rejectSink?.abort()]);
    await target?.close();
    await obs.close();
  }
}

function passwordOption(credentials: Credentials, user: string): { password?: string } {
  const password = credentials.passwordOf(user);
  return password === undefined ? {} : { password };
}

/** Who each session runs as, by the flags: its original user (--credentials), a role of the URL's user (--as-role), or the URL's user. */
function identities(target: Target, settings: ReplaySettings, flags: ReplayFlags, credentials: Credentials | null, log: (line: string) => void): (event: AuditEvent) => SessionIdentity {
  if (!credentials && !flags.asRole) {
    log(`replay: every session runs as ${target.user} (give --as-role or --credentials to run each as its original user)`);
  }
  const route = target.capabilities.multiDatabase;
  return (event) => {
    const database = databaseOf(event, route, settings.databaseMap, target.database);
    const original = event.user === null ? null : mapName(settings.policy.userMap, event.user);
    const user = credentials && original !== null ? original : target.user;
    const setup = flags.asRole && original !== null ? [`SET ROLE ${quoteIdent(original)}`] : [];
    return { key: { id: `${user}@${database}`, user, database }, setup };
  };
}

/** Writes results to the sink in batches of 1,000; `add` waits while a batch is being written (backpressure). */
class BatchWriter {
  private batch: ReplayResult[] = [];
  private writing: Promise<void> = Promise.resolve();
  written = 0;

  constructor(private readonly sink: Sink<ReplayResult>) {}

  add(result: ReplayResult): Promise<void> | void {
    this.batch.push(result);
    this.written++;
    if (this.batch.length < 1000) return;
    return this.flush();
  }

  private flush(): Promise<void> {
    const batch = this.batch;
    this.batch = [];
    this.writing = this.writing.then(() => this.sink.write(batch));
    return this.writing;
  }

  async close(): Promise<void> {
    if (this.batch.length) await this.flush();
    await this.writing;
  }
}

/** The counts of every pass, and the timings of the measured ones. */
class RunTotals {
  read = 0;
  otherShard = 0;
  executed = 0;
  queries = 0;
  ok = 0;
  failed = 0;
  refused = 0;
  sessions = 0;
  connections = 0;
  contextSetups = 0;
  contextFailures = 0;
  warmupExecuted = 0;
  elapsedMs = 0;
  skipped: Partial<Record<EventKind, number>> = {};
  errorsBySqlState: Record<string, number> = {};
  /** Every pass's errors, warm-up included: the metrics' counters never go down. */
  allErrorsBySqlState: Record<string, number> = {};
  /** The last runner added: its counts are in the totals from then on. */
  counted: ReplayRunner | null = null;
  firstTs: number | null = null;
  lastTs: number | null = null;
  private readonly lags: ReplayRunner['lag'][] = [];
  private readonly cpuStart = process.cpuUsage();

  add(runner: ReplayRunner, measured: boolean, elapsedMs: number): void {
    const s: ReplayStats = runner.stats;
    this.counted = runner;
    for (const [k, n] of Object.entries(s.errorsBySqlState)) this.allErrorsBySqlState[k] = (this.allErrorsBySqlState[k] ?? 0) + n;
    if (!measured) {
      this.warmupExecuted += s.executed;
      return;
    }
    this.read += s.read;
    this.otherShard += s.otherShard;
    this.executed += s.executed;
    this.queries += s.queries;
    this.ok += s.ok;
    this.failed += s.failed;
    this.refused += s.refused;
    this.sessions += s.sessions;
    this.connections += runner.pool.opened;
    this.contextSetups += s.contextSetups;
    this.contextFailures += s.contextFailures;
    this.elapsedMs += elapsedMs;
    this.firstTs ??= s.firstTs;
    this.lastTs = s.lastTs ?? this.lastTs;
    for (const [k, n] of Object.entries(s.skipped)) this.skipped[k as EventKind] = (this.skipped[k as EventKind] ?? 0) + n;
    for (const [k, n] of Object.entries(s.errorsBySqlState)) this.errorsBySqlState[k] = (this.errorsBySqlState[k] ?? 0) + n;
    this.lags.push(runner.lag);
  }

  /** The lag over the measured passes: the worst pass's figures (histograms are per pass). */
  lagMs(): { p50: number | null; p99: number | null; max: number | null } {
    const all = this.lags.map((l) => l.summary());
    const worst = (k: 'p50' | 'p99' | 'max'): number | null => all.reduce<number | null>((m, s) => (s[k] === null ? m : m === null ? s[k] : Math.max(m, s[k]!)), null);
    return { p50: worst('p50'), p99: worst('p99'), max: worst('max') };
  }

  summary(run: {
    runId: string;
    target: string;
    window: { from: number; to: number };
    settings: ReplaySettings;
    concurrency: number;
    complete: boolean;
    results: number;
    out: string;
    shard: Shard | null;
  }) {
    const cpu = process.cpuUsage(this.cpuStart);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    return {
      type: 'summary' as const,
      command: 'replay' as const,
      runId: run.runId,
      complete: run.complete,
      interrupted: !run.complete,
      target: run.target,
      window: { from: formatTime(run.window.from), to: formatTime(run.window.to) },
      speed: run.settings.speed,
      concurrency: run.concurrency,
      readOnly: !run.settings.policy.allowWrites,
      repeat: run.settings.repeat,
      warmup: run.settings.warmup,
      shard: run.shard ? shardLabel(run.shard) : null,
      read: this.read,
      otherShard: this.otherShard,
      executed: this.executed,
      queries: this.queries,
      ok: this.ok,
      failed: this.failed,
      skipped: this.skipped,
      refused: this.refused,
      errorsBySqlState: this.errorsBySqlState,
      sessions: this.sessions,
      connections: this.connections,
      contextSetups: this.contextSetups,
      contextFailures: this.contextFailures,
      warmupExecuted: this.warmupExecuted,
      results: run.results,
      out: run.out,
      lagMs: this.lagMs(),
      windowSpanMs: this.firstTs !== null && this.lastTs !== null ? this.lastTs - this.firstTs : null,
      elapsedMs: this.elapsedMs,
      qps: this.elapsedMs > 0 ? Math.round((this.executed * 1000) / this.elapsedMs) : null,
      cpuUserMs: Math.round(cpu.user / 1000),
      cpuSystemMs: Math.round(cpu.system / 1000),
      cpuMsPer1kStatements: this.executed + this.warmupExecuted > 0 ? Math.round((cpuMs * 1000 * 100) / (this.executed + this.warmupExecuted)) / 100 : null,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
    };
  }
}

/** Replay's progress: executed of read so far, statements per second, lag, errors. */
function replayProgress(current: () => ReplayRunner | null, totals: RunTotals): ProgressReport {
  let lastCount = 0;
  let lastAt = Date.now();
  const fields = () => {
    const runner = current();
    const s = runner?.stats;
    return {
      read: (s?.read ?? 0) + totals.read,
      executed: (s?.executed ?? 0) + totals.executed,
      failed: (s?.failed ?? 0) + totals.failed,
      backlog: runner?.backlog ?? 0,
      connections: runner?.pool.size ?? 0,
      lagMs: runner?.lag.summary() ?? { p50: null, p99: null, max: null },
    };
  };
  return {
    fields: (elapsedMs) => {
      const f = fields();
      return { ...f, statementsPerSec: elapsedMs > 0 ? Math.round((f.executed * 1000) / elapsedMs) : 0 };
    },
    line: () => {
      const f = fields();
      const now = Date.now();
      const rate = now > lastAt ? Math.round(((f.executed - lastCount) * 1000) / (now - lastAt)) : 0;
      lastCount = f.executed;
      lastAt = now;
      const width = 24;
      const done = f.read > 0 ? Math.min(1, f.executed / f.read) : 0;
      const bar = '#'.repeat(Math.round(done * width)).padEnd(width, '.');
      return `[${bar}] ${f.executed}/${f.read}+  ${rate} stmt/s  lag p50 ${fmtMs(f.lagMs.p50)} p99 ${fmtMs(f.lagMs.p99)}  errors ${f.failed}`;
    },
  };
}

/** Replay's metrics, read at scrape time: every pass, warm-up included, the live one too. */
function replayMetrics(current: () => ReplayRunner | null, totals: RunTotals, reads: readonly ExtractStats[], rejects: { total: number; byReason: Partial<Record<string, number>> }): MetricsSource {
  const live = (): ReplayRunner | null => {
    const runner = current();
    return runner && runner !== totals.counted ? runner : null;
  };
  return {
    records: () => reads.reduce((n, r) => n + r.ingest.records, 0),
    statementsApplied: () => totals.executed + totals.warmupExecuted + (live()?.stats.executed ?? 0),
    lagSeconds: () => {
      const ms = current()?.lastLagMs;
      return ms === null || ms === undefined ? null : ms / 1000;
    },
    errors: () => {
      const errors: Record<string, number> = { ...totals.allErrorsBySqlState };
      for (const [k, n] of Object.entries(live()?.stats.errorsBySqlState ?? {})) errors[k] = (errors[k] ?? 0) + n;
      for (const [k, n] of Object.entries(rejects.byReason)) if (n) errors[k] = (errors[k] ?? 0) + n;
      return errors;
    },
    rejects: () => rejects.total,
  };
}

function fmtMs(ms: number | null): string {
  return ms === null ? '-' : ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
}

function describeCounts(counts: Partial<Record<string, number>>): string {
  return Object.entries(counts)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
}

/**
 * The run summary beside a file or object output, `<out>.summary.json`, written
 * atomically after the results; a table output has none (its rows carry the run id, and
 * the summary is the last line on stderr), nor has stdout.
 */
async function writeRunSummary(out: string, summary: object, storage: StorageOptions): Promise<void> {
  if (out === '-' || isTableUrl(out)) return;
  await writeTextObject(summaryUrl(out), JSON.stringify(summary, null, 2) + '\n', storage);
}

/** Where the summary of a results output goes: beside it, the query string (if any) kept off. */
function summaryUrl(out: string): string {
  return `${out.split('?')[0]}.summary.json`;
}

/** --dry-run: reads the window and prints what would run, without connecting. */
async function printPlan(
  events: AsyncIterable<AuditEvent[]>,
  settings: ReplaySettings,
  flags: ReplayFlags,
  window: { from: number; to: number },
  onRefused: (event: AuditEvent, reason: string) => void,
  shard: Shard | null,
) {
  const sessions = new Set<string>();
  let otherShard = 0;
  const run: Partial<Record<EventKind, number>> = {};
  const skipped: Partial<Record<EventKind, number>> = {};
  let refused = 0;
  let sessionless = 0;
  let first: number | null = null;
  let last: number | null = null;
  for await (const batch of events) {
    for (const event of batch) {
      if (shard && !inShard(replaySessionKey(event), shard)) {
        otherShard++;
        continue;
      }
      const d = decide(event, settings.policy);
      if (d.action === 'skip') {
        skipped[d.kind] = (skipped[d.kind] ?? 0) + 1;
        continue;
      }
      if (d.action === 'refuse') {
        refused++;
        onRefused(event, d.reason);
        continue;
      }
      run[event.kind] = (run[event.kind] ?? 0) + 1;
      if (event.session === null) sessionless++;
      else sessions.add(event.session);
      first ??= event.ts;
      last = event.ts;
    }
  }
  const total = Object.values(run).reduce((a, b) => a + b!, 0);
  const span = first !== null && last !== null ? last - first : 0;
  const passes = settings.repeat + settings.warmup;
  const out = (line: string): void => void process.stdout.write(line + '\n');
  out(`replay plan for ${formatTime(window.from)} .. ${formatTime(window.to)} onto ${flags.target}`);
  if (shard) out(`  shard:       ${shardLabel(shard)}: ${otherShard} statements of other shards' sessions left to them`);
  out(`  sessions:    ${sessions.size}${sessionless ? ` (+ ${sessionless} statements without a session, each on its own)` : ''}`);
  out(`  statements:  ${total} to run (${describeCounts(run) || 'none'})`);
  out(`  not run:     ${describeCounts(skipped) || 'none'}${settings.policy.allowWrites ? '' : ' (writes: give --allow-writes)'}${refused ? `; ${refused} refused (could switch read-only off)` : ''}`);
  out(`  time span:   ${first === null ? '-' : `${formatTime(first)} .. ${formatTime(last!)}`} (${(span / 1000).toFixed(1)} s)`);
  out(
    `  expected:    ${settings.speed === 'max' ? 'as fast as the target answers (--speed max)' : `${(span / settings.speed / 1000).toFixed(1)} s per pass at --speed ${settings.speed}`}` +
      (passes > 1 ? `, ${passes} passes (${settings.warmup} warm-up)` : ''),
  );
  out(`  connections: up to ${settings.concurrency}, ${settings.policy.allowWrites ? 'read-write' : 'read-only (default_transaction_read_only=on)'}, lock_timeout ${flags.lockTimeout}`);
  return { type: 'summary' as const, command: 'replay', dryRun: true, shard: shard ? shardLabel(shard) : null, otherShard, sessions: sessions.size, sessionless, statements: total, byKind: run, skipped, refused, windowSpanMs: span };
}
