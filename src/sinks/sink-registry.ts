import { AuditReplayError } from '../core/errors.js';
import { FormatSink } from './format-sink.js';
import { jsonlFormat } from './jsonl/index.js';
import { isTableUrl, openTableSink, readTable } from './postgres/index.js';
import type { RecordFormat } from './record-format.js';
import type { RecordSchema, Row } from './record-schema.js';
import type { Sink, SinkOptions } from './sink.js';
import { stdoutStorage } from './storage/stdout-storage.js';
import { storageFor } from './storage/storage-registry.js';
import type { Storage } from './storage.js';

/** Formats by extension; Parquet and Arrow load their libraries only when an output of theirs is opened. */
const FORMATS: readonly { test: RegExp; load: () => Promise<RecordFormat> }[] = [
  { test: /^-$|\.jsonl?(\.gz)?$/i, load: async () => jsonlFormat },
  { test: /\.parquet$/i, load: async () => (await import('./parquet/index.js')).parquetFormat },
  { test: /\.(arrow|feather)$/i, load: async () => (await import('./arrow/index.js')).arrowFileFormat },
  { test: /\.arrows$/i, load: async () => (await import('./arrow/index.js')).arrowStreamFormat },
];

const SUPPORTED = "'-' (stdout), a path or s3://, az://, gs:// URL ending in .jsonl, .jsonl.gz, .parquet, .arrow (IPC file) or .arrows (IPC stream), or postgres://...?table=schema.name";

/** The format for an output's name, by its extension. */
export async function formatFor(url: string): Promise<RecordFormat> {
  const name = url.split('?')[0]!;
  const entry = FORMATS.find((f) => f.test.test(name));
  if (!entry) throw new AuditReplayError('usage', `no sink for '${url}': use ${SUPPORTED}`);
  return entry.load();
}

function storageOf(url: string): Storage {
  return url === '-' ? stdoutStorage : storageFor(url);
}

/**
 * Opens the sink for a URL: a PostgreSQL table (`postgres://...?table=`), else a file
 * format by extension (JSON lines, Parquet, Arrow IPC file or stream) written to a local
 * path, stdout or an object store. Typed formats need `options.schema`.
 */
export async function openSink<T>(url: string, options: SinkOptions<T> = {}): Promise<Sink<T>> {
  if (isTableUrl(url)) {
    if (!options.schema) throw new AuditReplayError('internal', `a table sink needs the record schema (${url})`);
    return openTableSink<T>(url, { schema: options.schema, runId: options.runId ?? 'unnamed' });
  }
  const format = await formatFor(url);
  if (format !== jsonlFormat && !options.schema) throw new AuditReplayError('internal', `the ${format.name} sink needs the record schema`);
  if (url === '-' && format !== jsonlFormat) throw new AuditReplayError('usage', 'only JSON lines go to stdout');
  const output = await storageOf(url).create(url, options.storage ?? {});
  return new FormatSink<T>(format, output, {
    schema: options.schema ?? { name: 'record', columns: [] },
    name: url,
    ...(options.rowGroupSize !== undefined ? { rowGroupSize: options.rowGroupSize } : {}),
    ...(options.toJson ? { toJson: options.toJson as (r: Row) => string } : {}),
  });
}

/** Reads back what a sink wrote at `url`, in batches, in the order written. */
export async function* readRecords(url: string, schema: RecordSchema, options: Pick<SinkOptions<unknown>, 'storage'> = {}): AsyncIterable<Row[]> {
  if (isTableUrl(url)) {
    yield* readTable(url, { schema });
    return;
  }
  const format = await formatFor(url);
  const input = await storageOf(url).open(url, options.storage ?? {});
  try {
    yield* format.decode(input, schema);
  } finally {
    input.destroy();
  }
}
