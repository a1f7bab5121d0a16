import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { EVENT_KINDS, type AuditEvent, type EventKind } from '../core/audit-event.js';
import { AuditReplayError } from '../core/errors.js';
import { formatTime, parseTime } from '../core/time.js';
import { extract } from '../extract/extract-pipeline.js';
import { parseNameMap, type NameMaps } from '../replay/name-map.js';
import { SyncPlanner, type PlanItem } from '../replay/sync/sync-plan.js';
import { SyncRunner, type OnError } from '../replay/sync/sync-runner.js';
import { openTarget } from '../replay/target-registry.js';
import type { Sink } from '../sinks/sink.js';
import { collect, list, positiveInt } from './flag-values.js';
import { Progress, type ProgressMode } from './progress.js';
import { addSourceFlags, openRejects, sourceSettings, type SourceFlags } from './source-flags.js';

export interface SyncFlags extends SourceFlags {
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
  addSourceFlags(command)
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
  const settings = sourceSettings(flags);
  const log = (line: string): void => void process.stderr.write(line + '\n');
  const started = Date.now();

  const { log: rejects, sink: rejectSink } = await openRejects(flags.rejects, flags.maxRejects, log);
  const sinks: Sink<unknown>[] = rejectSink ? [rejectSink] : [];
  let target: Awaited<ReturnType<typeof openTarget>> | null = null;
  let runner: SyncRunner | null = null;
  let ok = false;
  try {
    target = await openTarget(flags.target);
    const runId = randomUUID();
    runner = new SyncRunner({
      target,
      source: flags.sourceId ?? flags.source,
      runId,
      batchSize,
      onError,
      dryRun: flags.dryRun === true,
      rejects,
      ...(signal ? { signal } : {}),
      log,
      print: (line) => void process.stdout.write(line + '\n'),
    });
    const checkpoint = await runner.prepare();
    let from: number;
    if (flags.from !== undefined) from = parseTime(flags.from, now);
    else if (checkpoint) from = checkpoint.ts - settings.lookbackMs!;
    else {
      throw new AuditReplayError(
        'usage',
        `no checkpoint for source '${flags.sourceId ?? flags.source}' on ${target.url}: give --from for the first run`,
      );
    }
    const window = { from, to: parseTime(flags.to, now) };
    if (!(window.from < window.to)) throw new AuditReplayError('usage', `the window start (${formatTime(window.from)}) must be before --to (${flags.to})`);
    log(
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
    const { events, stats: extractStats } = extract({ ...settings, window, rejects, ...(signal ? { signal } : {}) });
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
            if (databases.size === 2) log(`sync: ${target!.url} holds one database; statements of databases ${[...databases].join(', ')}, ... all run in it`);
          }
          items.push(item);
        }
        await rejects.flush();
        if (items.length) yield items;
      }
    }
    const summary = (halted: boolean): void => {
      const s = runner!.stats;
      const elapsedMs = Date.now() - started;
      log(
        `sync: ${flags.dryRun ? `would apply ${s.planned - s.alreadyApplied - s.skippedEarlier}` : `applied ${s.applied}`} of ${s.planned} DDL/DCL statements ` +
          `(${s.alreadyApplied} already applied, ${s.failed} failed and skipped, ${s.refused} refused, ${s.filtered} filtered out, ` +
          `${s.failedOnPrimary} had failed on the primary) in ${(elapsedMs / 1000).toFixed(1)} s${halted ? '; HALTED' : ''}`,
      );
      log(
        JSON.stringify({
          type: 'summary',
          command: 'sync',
          halted,
          dryRun: flags.dryRun === true,
          target: target!.url,
          source: flags.sourceId ?? flags.source,
          runId,
          window: { from: formatTime(window.from), to: formatTime(window.to) },
          events: extractStats.classify.events,
          bytesRead: extractStats.ingest.bytesRead,
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
          checkpoint: s.checkpoint ? { ts: formatTime(s.checkpoint.ts), id: s.checkpoint.id } : null,
          elapsedMs,
          statementsPerSec: s.applied > 0 ? Math.round((s.applied * 1000) / Math.max(1, elapsedMs)) : null,
          peakRssBytes: process.resourceUsage().maxRSS * 1024,
        }),
      );
    };
    const s = runner.stats;
    const progress = new Progress(
      {
        line: () => `read ${extractStats.classify.events} statements  planned ${s.planned}  applied ${s.applied}  already ${s.alreadyApplied}  failed ${s.failed}`,
        fields: () => ({ read: extractStats.classify.events, planned: s.planned, applied: s.applied, alreadyApplied: s.alreadyApplied, failed: s.failed, refused: s.refused }),
      },
      flags.progress,
    );
    progress.start();
    try {
      await runner.run(plan());
    } catch (err) {
      // A halt is a result, not a crash: what was refused or skipped before it is kept.
      if (err instanceof AuditReplayError && err.code === 'sync-halted') {
        await rejects.flush();
        for (const sink of sinks) await sink.commit();
        ok = true;
        process.stderr.write(err.message + '\n');
        summary(true);
      }
      throw err;
    } finally {
      progress.stop();
    }
    await rejects.flush();
    for (const sink of sinks) await sink.commit();
    ok = true;
    summary(false);
    return 0;
  } finally {
    if (!ok) await Promise.allSettled(sinks.map((s) => s.abort()));
    await runner?.close();
    await target?.close();
  }
}
