import type { Command } from 'commander';
import type { Reject } from '../core/audit-event.js';
import { parseDuration } from '../core/time.js';
import type { ExtractOptions } from '../extract/extract-pipeline.js';
import { RejectLog } from '../ingest/reject-log.js';
import { openSink } from '../sinks/sink-registry.js';
import { REJECT_SCHEMA } from '../sinks/record-schema.js';
import type { Sink, SinkOptions } from '../sinks/sink.js';
import { parsePairs, positiveInt } from './flag-values.js';

/** The flags that say where the audit logs are and how to read them; shared by extract, sync and replay. */
export interface SourceFlags {
  source: string;
  format: string;
  pgPrefix?: string;
  columns?: string;
  layout: string;
  lookback: string;
  readConcurrency: string;
  s3Endpoint?: string;
  gcsEndpoint?: string;
  reorderWindow: string;
  reorderMax: string;
}

/** Adds the source flags to a command. */
export function addSourceFlags(command: Command): Command {
  return command
    .requiredOption('--source <url>', 'where the audit logs are: a path, file://, s3://bucket/prefix, az://container/prefix, gs://bucket/prefix')
    .option('--format <name>', 'log format: auto (sniffed per object), okera, pg-json, pg-csv, pg-stderr, redshift, trino, ranger, parquet', 'auto')
    .option('--pg-prefix <prefix>', "log_line_prefix of PostgreSQL stderr logs, e.g. '%m|%u|%d|%c|'")
    .option('--columns <mapping>', 'column mapping of tabular logs: field=column,... (e.g. id=query_id,statement=query_text,ts=start_time)')
    .option('--layout <layout>', "date layout of the folders: auto, hive, path, flat, or a template like '{yyyy}/{MM}/{dd}'", 'auto')
    .option('--lookback <duration>', 'read partitions this much before the window: files hold records from before their date', '1h')
    .option('--read-concurrency <n>', 'objects opened ahead of need, and listings in flight', '8')
    .option('--s3-endpoint <url>', 'an S3-compatible store (MinIO, Ceph), addressed path-style; default AWS_ENDPOINT_URL')
    .option('--gcs-endpoint <url>', 'a GCS endpoint such as an emulator; default STORAGE_EMULATOR_HOST')
    .option('--reorder-window <duration>', 'how late a record may arrive in its object and still be placed (longest statement)', '1h')
    .option('--reorder-max <n>', 'records held per object for reordering at most, bounding memory on bursts', '100000');
}

/** The extract settings the source flags give (everything but the window, filter and rejects). */
export function sourceSettings(flags: SourceFlags): Omit<ExtractOptions, 'window' | 'rejects' | 'filter' | 'signal'> {
  return {
    source: flags.source,
    format: flags.format,
    decoderOptions: {
      ...(flags.pgPrefix !== undefined ? { pgPrefix: flags.pgPrefix } : {}),
      ...(flags.columns !== undefined ? { columns: parsePairs(flags.columns, '--columns') } : {}),
    },
    layout: flags.layout,
    lookbackMs: parseDuration(flags.lookback),
    readConcurrency: positiveInt(flags.readConcurrency, '--read-concurrency'),
    sourceOptions: {
      ...(flags.s3Endpoint ? { s3Endpoint: flags.s3Endpoint } : {}),
      ...(flags.gcsEndpoint ? { gcsEndpoint: flags.gcsEndpoint } : {}),
    },
    reorderWindow: { spanMs: parseDuration(flags.reorderWindow), maxRecords: positiveInt(flags.reorderMax, '--reorder-max') },
  };
}

/**
 * The reject log of `--rejects SINK` (none: rejects are only counted and the first ones
 * warned about) and `--max-rejects N` (default: no limit); `warn` shows the first ones.
 */
export async function openRejects(
  rejects: string | undefined,
  maxRejects: string | undefined,
  warn: (message: string) => void,
  options: SinkOptions<Reject> = {},
): Promise<{ log: RejectLog; sink: Sink<Reject> | null }> {
  const sink = rejects ? await openSink<Reject>(rejects, { ...options, schema: REJECT_SCHEMA }) : null;
  return { log: new RejectLog(sink, maxRejects === undefined ? Infinity : positiveInt(maxRejects, '--max-rejects', 0), warn), sink };
}
