import type { Command } from 'commander';
import type { RecordSchema } from '../sinks/record-schema.js';
import type { SinkOptions } from '../sinks/sink.js';
import { positiveInt } from './flag-values.js';
import type { SourceFlags } from './source-flags.js';

/** The flags of commands that write records (extract, replay): where and how to write them. */
export interface SinkFlags {
  rowGroup: string;
}

export const SINK_HELP =
  "'-' (stdout), a path or s3://, az://, gs:// URL ending in .jsonl, .jsonl.gz, .parquet, .arrow (IPC file) or .arrows (IPC stream), or postgres://user@host/db?table=schema.name";

/** Adds the output flags to a command. */
export function addSinkFlags(command: Command): Command {
  return command.option('--row-group <n>', 'rows per Parquet row group and Arrow record batch', '100000');
}

/** Sink options for records of `schema`, written by run `runId`, to the stores the source flags point at. */
export function sinkOptions<T>(flags: SinkFlags & Pick<SourceFlags, 's3Endpoint' | 'gcsEndpoint'>, schema: RecordSchema, runId: string): SinkOptions<T> {
  return {
    schema,
    runId,
    rowGroupSize: positiveInt(flags.rowGroup, '--row-group'),
    storage: {
      ...(flags.s3Endpoint ? { s3Endpoint: flags.s3Endpoint } : {}),
      ...(flags.gcsEndpoint ? { gcsEndpoint: flags.gcsEndpoint } : {}),
    },
  };
}
