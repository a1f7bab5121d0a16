import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { EVENT_KINDS, type AuditEvent, type EventKind } from '../core/audit-event.js';
import { AuditReplayError, EXIT } from '../core/errors.js';
import { safeText } from '../core/logger.js';
import type { MetricsSource } from '../core/metrics.js';
import { formatTime, parseDuration, parseTime } from '../core/time.js';
import { extract } from '../extract/extract-pipeline.js';
import { parseNameMap, type NameMaps } from '../replay/name-map.js';
import { SyncPlanner, type PlanItem } from '../replay/sync/sync-plan.js';
import { SyncRunner, type OnError } from '../replay/sync/sync-runner.js';
import { openTarget } from '../replay/target-registry.js';
import type { Sink } from '../sinks/sink.js';
import { collect, list, positiveInt } from './flag-values.js';
import { addObservabilityFlags, Observability, type ObservabilityFlags } from './observability-flags.js';
import { Progress, type ProgressMode } from './progress.js';
import { addSourceFlags, openRejects, sourceSettings, type SourceFlags } from './source-flags.js';

export interface SyncFlags extends SourceFlags, ObservabilityFlags {
  target: string;
  from?: string;
  to: string;
  sourceId?: string;
  batch: string;
  onError: string;
  dryRun?: boolean;
  kinds: string;
  include: string[];
  exclude: string[];
  mapSchema: string[];
  mapRole: string[];
  mapDatabase: string[];
  allowRoles?: string;
  denyRoles?: string;
  rejects?: string;
  maxRejects?: string;
  drainTimeout: string;
  progress: ProgressMode;
}

const EXAMPLES = `
Examples:
  # first run: everything from a date on, into an embedded secondary
  $ auditreplay sync --source samples/logs/postgres --from 2026-11-17 --target pglite://.auditreplay/secondary

  # nightly: from the checkpoint (minus --lookback) to now; the ledger skips what is already applied
  $ auditreplay sync --source s3://audit/pg --target postgres://sync@secondary:5432/postgres --rejects rejects.jsonl

  # what would happen, with a schema renamed on the secondary
  $ auditreplay sync --source ./logs --from 7d --target postgres://sync@secondary/app --map-schema sales=sales_v2 --dry-run
`;

/** Registers `auditreplay sync` on the program. */
export function registerSync(program: Command, run: (action: (signal: AbortSignal) => Promise<number>) => Promise<void>): void {
  const command = program
    .command('sync')
    .description("Apply the primary's DDL and DCL from its audit logs to the secondary, in order, exactly once.");
  addObservabilityFlags(addSourceFlags(command), { metricsPort: true })
    .requiredOption('--target <url>', 'the secondary: postgres://user@host:port/db, pglite://DIR or pglite://memory')
    .option('--from <time>', 'window start, inclusive (default: the checkpoint of the last run minus --lookback)')
    .option('--to <time>', 'window end, exclusive', 'now')
    .option('--source-id <name>', "the ledger's name for this source (default: the --source URL); keep it stable across runs")
    .option('--batch <n>', 'statements per transaction', '100')
    .option('--on-error <policy>', 'a statement that fails on the secondary: stop (halt, checkpoint before it) or skip (record it, go on)', 'stop')
    .option('--dry-run', 'print the ordered plan (apply, already applied, filtered and why) without changing the target')
    .option('--kinds <kinds>', 'statement kinds to apply, comma-separated (add utility for VACUUM, ALTER SYSTEM)', 'ddl,dcl')
    .option('--include <glob>', "apply only statements on matching objects, e.g. 'sales.*' (repeatable)", collect, [])
    .option('--exclude <glob>', "skip statements on matching objects, e.g. '*.tmp_*' (repeatable)", collect, [])
    .option('--map-schema <a=b>', 'rename schema a to b on the secondary (repeatable)', collect, [])
    .option('--map-role <a=b>', 'rename role a to b on the secondary (repeatable)', collect, [])
    .option('--map-database <a=b>', 'run statements of database a in database b (repeatable)', collect, [])
    .option('--allow-roles <globs>', 'roles that may be made superuser or get WITH ADMIN OPTION, comma-separated')
    .option('--deny-roles <globs>', 'roles whose DCL is always refused, comma-separated')
    .option('--rejects <sink>', 'where refused and (with --on-error skip) failed statements go, one JSON line each')
    .option('--max-rejects <n>', 'fail (exit 3) once more than this many records are rejected')
    .option('--drain-timeout <duration>', 'after SIGTERM/SIGINT, how long the statement in flight may finish before it is cancelled and rolled back', '20s')
    .option('--progress <mode>', 'progress on stderr: auto, tty, json, none', 'auto')
    .addHelpText('after', EXAMPLES)
    .action((flags: SyncFlags) => run((signal) => runSync(flags, signal)));
}

/** Runs sync with parsed flags; returns the exit code. */
export async function runSync(flags: SyncFlags, signal?: AbortSignal): Promise<number> {
  const now = Date.now();
  const onError = flags.onError as OnError;
  if (onError !== 'stop' && onError !== 'skip') throw new AuditReplayError('usage', `--on-error takes stop or skip, not '${flags.onError}'`);
  const kinds = (list(flags.kinds) ?? []) as EventKind[];
  for (const k of kinds) {
    if (!EVENT_KINDS.includes(k)) throw new AuditReplayError('usage', `unknown kind '${k}' in --kinds; known: ${EVENT_KINDS.join(', ')}`);
  }
  const maps: NameMaps = {
    schema: parseNameMap(flags.mapSchema, '--map-schema'),
    role: parseNameMap(flags.mapRole, '--map-role'),
    database: parseNameMap(flags.mapDatabase, '--map-database'),
  };
  const batchSize = positiveInt(flags.batch, '--batch');
  const drainTimeoutMs = parseDuration(flags.drainTimeout ?? '20s');
  const settings = sourceSettings(flags);
  const runId = randomUUID();
  const obs = await Observability.start(flags, { command: 'sync', runId, storage: settings.sourceOptions });
  const log = obs.log;
  const started = Date.now();
  const source = flags.sourceId ?? flags.source;

  let target: Awaited<ReturnType<typeof openTarget>> | null = null;
  let runner: SyncRunner | null = null;
  let sinks: Sink<unknown>[] = [];
  let ok = false;
  try {
    const { log: rejects, sink: rejectSink } = await openRejects(flags.rejects, flags.maxRejects, (line) => log.warn(line));
    sinks = rejectSink ? [rejectSink] : [];
    let extractStats: ReturnType<typeof extract>['stats'] | null = null;
    obs.watch(syncMetrics(() => runner, () => extractStats, rejects));
    target = await openTarget(flags.target);
    runner = new SyncRunner({
      target,
      source,
      runId,
      batchSize,
      onError,
      dryRun: flags.dryRun === true,
      rejects,
      ...(signal ? { signal } : {}),
      drainTimeoutMs,
      log: (line, fields) => log.warn(fields ?? {}, line),
      print: (line) => void process.stdout.write(line + '\n'),
    });
    const checkpoint = await runner.prepare();
    let from: number;
    if (flags.from !== undefined) from = parseTime(flags.from, now);
    else if (checkpoint) from = checkpoint.ts - settings.lookbackMs!;
    else {
      throw new AuditReplayError('usage', `no checkpoint for source '${safeText(source)}' on ${target.url}: give --from for the first run`);
    }
    const window = { from, to: parseTime(flags.to, now) };
    if (!(window.from < window.to)) throw new AuditReplayError('usage', `the window start (${formatTime(window.from)}) must be before --to (${flags.to})`);
    log.info(
      { target: target.url, from: formatTime(window.from), to: formatTime(window.to), dryRun: flags.dryRun === true },
      `sync: ${flags.dryRun ? 'plan for' : 'applying to'} ${target.url}, window ${formatTime(window.from)} .. ${formatTime(window.to)}` +
        (flags.from === undefined ? ` (checkpoint ${formatTime(checkpoint!.ts)} minus --lookback ${flags.lookback})` : ''),
    );

    const planner = new SyncPlanner({
      kinds,
      maps,
      objects: { include: flags.include, exclude: flags.exclude },
      guard: { ...(flags.allowRoles ? { allowRoles: list(flags.allowRoles)! } : {}), ...(flags.denyRoles ? { denyRoles: list(flags.denyRoles)! } : {}) },
      defaultDatabase: target.database,
      routeByDatabase: target.capabilities.multiDatabase,
    });
    const extracted = extract({ ...settings, window, rejects, ...(signal ? { signal } : {}) });
    const events = extracted.events;
    extractStats = extracted.stats;
    const stats = extracted.stats;
    // PGlite holds one database: say so once when the log names several.
    const databases = new Set<string>();
    async function* plan(): AsyncIterable<PlanItem[]> {
      for await (const batch of events as AsyncIterable<AuditEvent[]>) {
        const items: PlanItem[] = [];
        for (const event of batch) {
          const item = planner.plan(event);
          if (!item) continue;
          if (!target!.capabilities.multiDatabase && event.database !== null && databases.size < 2 && !databases.has(event.database)) {
            databases.add(event.database);
            if (databases.size === 2) log.warn(`sync: ${target!.url} holds one database; statements of databases ${[...databases].join(', ')}, ... all run in it`);
          }
          items.push(item);
        }
        await rejects.flush();
        if (items.length) yield items;
      }
    }
    const summary = async (end: 'done' | 'halted' | 'interrupted'): Promise<void> => {
      const s = runner!.stats;
      const elapsedMs = Date.now() - started;
      const message =
        `sync: ${flags.dryRun ? `would apply ${s.planned - s.alreadyApplied - s.skippedEarlier}` : `applied ${s.applied}`} of ${s.planned} DDL/DCL statements ` +
        `(${s.alreadyApplied} already applied, ${s.failed} failed and skipped, ${s.refused} refused, ${s.filtered} filtered out, ` +
        `${s.failedOnPrimary} had failed on the primary) in ${(elapsedMs / 1000).toFixed(1)} s` +
        (end === 'halted' ? '; HALTED' : end === 'interrupted' ? '; INTERRUPTED: the checkpoint is at the last statement committed, a rerun applies the rest' : '');
      await obs.summary(message, {
        type: 'summary',
        command: 'sync',
        halted: end === 'halted',
        interrupted: end === 'interrupted',
        dryRun: flags.dryRun === true,
        target: target!.url,
        source: safeText(source),
        runId,
        window: { from: formatTime(window.from), to: formatTime(window.to) },
        events: stats.classify.events,
        records: stats.ingest.records,
        bytesRead: stats.ingest.bytesRead,
        planned: s.planned,
        applied: s.applied,
        alreadyApplied: s.alreadyApplied,
        skippedEarlier: s.skippedEarlier,
        failed: s.failed,
        refused: s.refused,
        filtered: s.filtered,
        failedOnPrimary: s.failedOnPrimary,
        nonTransactional: s.nonTransactional,
        context: planner.counts.context,
        notApplied: planner.counts.notApplied,
        transactions: s.transactions,
        isolations: s.isolations,
        retries: s.retries,
        rejected: rejects.total,
        rejectedByReason: rejects.byReason,
        errorsBySqlState: s.errorsBySqlState,
        haltedAt: s.haltedAt,
        checkpoint: s.checkpoint ? { ts: formatTime(s.checkpoint.ts), id: s.checkpoint.id } : null,
        elapsedMs,
        statementsPerSec: s.applied > 0 ? Math.round((s.applied * 1000) / Math.max(1, elapsedMs)) : null,
        peakRssBytes: process.resourceUsage().maxRSS * 1024,
      });
    };
    /** What was refused or skipped before a halt or a stop is kept: the rejects are committed like the ledger. */
    const commitRejects = async (): Promise<void> => {
      await rejects.flush();
      for (const sink of sinks) await sink.commit();
      ok = true;
    };
    const s = runner.stats;
    const progress = new Progress(
      {
        line: () => `read ${stats.classify.events} statements  planned ${s.planned}  applied ${s.applied}  already ${s.alreadyApplied}  failed ${s.failed}`,
        fields: () => ({ read: stats.classify.events, planned: s.planned, applied: s.applied, alreadyApplied: s.alreadyApplied, failed: s.failed, refused: s.refused }),
      },
      flags.progress,
    );
    progress.start();
    try {
      await runner.run(plan());
    } catch (err) {
      if (err instanceof AuditReplayError && err.code === 'sync-halted') {
        // A halt is a result, not a crash: main prints nothing more for it.
        await commitRejects();
        log.error({ code: err.code, sqlState: err.sqlState ?? null, haltedAt: s.haltedAt }, err.message);
        await summary('halted');
        throw err;
      }
      if (!signal?.aborted) throw err;
      // Stopped by a signal: what is committed stays committed, and the checkpoint says up to where.
      await commitRejects();
      await summary('interrupted');
      // main turns it into 143 when the signal was SIGTERM.
      return EXIT.interrupted;
    } finally {
      progress.stop();
    }
    await commitRejects();
    await summary('done');
    return EXIT.ok;
  } finally {
    if (!ok) await Promise.allSettled(sinks.map((s) => s.abort()));
    await runner?.close();
    await target?.close();
    await obs.close();
  }
}

/** The metrics of a sync, read from its stats at scrape time. */
function syncMetrics(runner: () => SyncRunner | null, extracted: () => ReturnType<typeof extract>['stats'] | null, rejects: { total: number; byReason: Partial<Record<string, number>> }): MetricsSource {
  return {
    records: () => extracted()?.ingest.records ?? 0,
    statementsApplied: () => runner()?.stats.applied ?? 0,
    lagSeconds: () => {
      const at = runner()?.stats.checkpoint;
      return at ? (Date.now() - at.ts) / 1000 : null;
    },
    errors: () => {
      // Target errors by SQLSTATE; the reject reasons of bad input (a target error is a reject too, counted once).
      const errors: Record<string, number> = { ...runner()?.stats.errorsBySqlState };
      for (const [reason, n] of Object.entries(rejects.byReason)) if (reason !== 'target-error' && n) errors[reason] = (errors[reason] ?? 0) + n;
      return errors;
    },
    rejects: () => rejects.total,
  };
}
