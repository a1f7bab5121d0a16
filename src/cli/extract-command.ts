import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { EVENT_KINDS, type AuditEvent, type EventKind } from '../core/audit-event.js';
import { auditEventToJson } from '../core/audit-event-json.js';
import { AuditReplayError } from '../core/errors.js';
import { resolveShard, SHARD_FLAG_HELP, SHARD_OUT_HELP, shardLabel, withShard, type Shard } from '../core/shard.js';
import { parseTime } from '../core/time.js';
import { extract, type ExtractStats } from '../extract/extract-pipeline.js';
import type { RejectLog } from '../ingest/reject-log.js';
import { openSink } from '../sinks/sink-registry.js';
import { AUDIT_EVENT_SCHEMA, REJECT_SCHEMA } from '../sinks/record-schema.js';
import { addSinkFlags, SINK_HELP, sinkOptions, type SinkFlags } from './sink-flags.js';
import type { Sink } from '../sinks/sink.js';
import { list } from './flag-values.js';
import { extractProgress, Progress, type ProgressMode } from './progress.js';
import { addObservabilityFlags, Observability, type ObservabilityFlags } from './observability-flags.js';
import { logger } from '../core/logger.js';
import { addSourceFlags, openRejects, sourceSettings, type SourceFlags } from './source-flags.js';

export interface ExtractFlags extends SourceFlags, SinkFlags, ObservabilityFlags {
  from: string;
  to: string;
  kind?: string;
  user?: string;
  database?: string;
  okOnly?: boolean;
  out: string;
  rejects?: string;
  maxRejects?: string;
  progress: ProgressMode;
  shard?: string;
}

const EXAMPLES = `
Examples:
  # DDL and DCL of one day, sniffing each object's format
  $ auditreplay extract --source samples/logs --from 2026-11-18 --to 2026-11-19 --kind ddl,dcl

  # the last 24 hours of an Okera log folder, rejects kept for inspection
  $ auditreplay extract --source /var/log/okera --from 24h --format okera --out events.jsonl.gz --rejects rejects.jsonl

  # a folder laid out as logs/2026-11-20/..., successful statements of one user
  $ auditreplay extract --source ./audit --layout 'logs/{yyyy}-{MM}-{dd}' --from 2026-11-20 --to 2026-11-21 --user etl --ok-only
`;

/** Registers `auditreplay extract` on the program. */
export function registerExtract(program: Command, run: (action: (signal: AbortSignal) => Promise<number>) => Promise<void>): void {
  const command = program
    .command('extract')
    .description('Read a time window of audit logs and write one AuditEvent per statement (JSON lines).');
  addObservabilityFlags(addSinkFlags(addSourceFlags(command)), { metricsPort: true })
    .requiredOption('--from <time>', 'window start, inclusive: ISO 8601, a date, or relative (24h, 7d)')
    .option('--to <time>', 'window end, exclusive', 'now')
    .option('--kind <kinds>', `keep only these kinds, comma-separated (${EVENT_KINDS.join(', ')})`)
    .option('--user <users>', 'keep only statements of these users, comma-separated')
    .option('--database <dbs>', 'keep only statements run in these databases, comma-separated')
    .option('--ok-only', 'keep only statements that succeeded on the primary')
    .option('--out <sink>', `where events go: ${SINK_HELP}${SHARD_OUT_HELP}`, '-')
    .option('--rejects <sink>', `where bad input goes, one record per reject with object and line (any --out form)${SHARD_OUT_HELP}`)
    .option('--max-rejects <n>', 'fail (exit 3) once more than this many records are rejected')
    .option('--progress <mode>', 'progress on stderr: auto, tty, json, none', 'auto')
    .option('--shard <k/N>', SHARD_FLAG_HELP)
    .addHelpText('after', EXAMPLES)
    .action((flags: ExtractFlags) => run((signal) => runExtract(flags, signal)));
}

/** Runs extract with parsed flags; returns the exit code. */
export async function runExtract(flags: ExtractFlags, signal?: AbortSignal): Promise<number> {
  const now = Date.now();
  const window = { from: parseTime(flags.from, now), to: parseTime(flags.to, now) };
  if (!(window.from < window.to)) {
    throw new AuditReplayError('usage', `--from (${flags.from}) must be before --to (${flags.to})`);
  }
  const kinds = list(flags.kind);
  for (const k of kinds ?? []) {
    if (!EVENT_KINDS.includes(k as EventKind)) throw new AuditReplayError('usage', `unknown --kind '${k}'; known: ${EVENT_KINDS.join(', ')}`);
  }

  const shard = resolveShard(flags.shard);

  const runId = randomUUID();
  const obs = await Observability.start(flags, { command: 'extract', runId, storage: sinkOptions(flags, REJECT_SCHEMA, runId).storage ?? {} });
  const out = await openSink<AuditEvent>(withShard(flags.out, shard), { ...sinkOptions<AuditEvent>(flags, AUDIT_EVENT_SCHEMA, runId), toJson: auditEventToJson });
  const sinks: Sink<unknown>[] = [out];
  try {
    const { log: rejects, sink: rejectSink } = await openRejects(flags.rejects === undefined ? undefined : withShard(flags.rejects, shard), flags.maxRejects, (m) => logger('ingest').warn(m), sinkOptions(flags, REJECT_SCHEMA, runId));
    if (rejectSink) sinks.push(rejectSink);
    const { events, stats } = extract({
      ...sourceSettings(flags),
      window,
      filter: {
        ...(kinds ? { kinds: kinds as EventKind[] } : {}),
        ...(flags.user ? { users: list(flags.user)! } : {}),
        ...(flags.database ? { databases: list(flags.database)! } : {}),
        okOnly: flags.okOnly === true,
      },
      rejects,
      ...(shard ? { shard } : {}),
      ...(signal ? { signal } : {}),
    });
    const progress = new Progress(extractProgress(stats), flags.progress);
    obs.watch({ records: () => stats.ingest.records, statementsApplied: () => 0, lagSeconds: () => null, errors: () => ({ ...rejects.byReason }) as Record<string, number>, rejects: () => rejects.total });
    const started = Date.now();
    progress.start();
    try {
      for await (const batch of events) await out.write(batch);
    } finally {
      progress.stop();
    }
    await rejects.flush();
    for (const s of sinks) await s.commit();
    await writeSummary(obs, runId, stats, rejects, Date.now() - started, shard);
    return 0;
  } catch (err) {
    await Promise.allSettled(sinks.map((s) => s.abort()));
    throw err;
  } finally {
    await obs.close();
  }
}

async function writeSummary(obs: Observability, runId: string, stats: ExtractStats, rejects: RejectLog, elapsedMs: number, shard: Shard | null): Promise<void> {
  const s = stats.ingest;
  const summary = {
    type: 'summary' as const,
    command: 'extract',
    runId,
    objects: s.objectsDone,
    objectsListed: s.objectsListed,
    objectsSkipped: s.objectsSkipped,
    shard: shard ? shardLabel(shard) : null,
    objectsOtherShard: s.objectsOtherShard,
    listCalls: s.listCalls,
    retries: s.retries,
    resumes: s.resumes,
    prunedPrefixes: s.prunedPrefixes,
    bytesRead: s.bytesRead,
    bytesDecoded: s.bytesDecoded,
    lines: s.lines,
    records: s.records,
    outsideWindow: s.outsideWindow,
    duplicates: stats.duplicates,
    late: stats.late,
    events: stats.classify.events,
    selected: stats.classify.selected,
    filteredOut: stats.classify.filteredOut,
    rejected: rejects.total,
    rejectedByReason: rejects.byReason,
    skippedByReason: s.skipped,
    elapsedMs,
    recordsPerSec: elapsedMs > 0 ? Math.round((s.records * 1000) / elapsedMs) : null,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
  };
  const reasons = Object.entries(rejects.byReason).map(([k, v]) => `${k} ${v}`).join(', ');
  await obs.summary(
    `extract: ${summary.objects} objects${shard ? ` (shard ${shardLabel(shard)}; ${summary.objectsOtherShard} left to other shards)` : ''}, ${summary.records} records read, ${summary.selected} events selected ` +
      `(${summary.filteredOut} filtered out, ${summary.outsideWindow} outside the window, ${summary.duplicates} duplicates folded), ` +
      `${summary.rejected} rejected${reasons ? ` (${reasons})` : ''} in ${(elapsedMs / 1000).toFixed(1)} s`,
    summary,
  );
}
