import { AuditReplayError } from '../core/errors.js';
import { jsonlSinkFactory } from './jsonl/index.js';
import type { Sink, SinkFactory, SinkOptions } from './sink.js';

const factories: SinkFactory[] = [jsonlSinkFactory];

/** Opens the sink for a URL or path, chosen by scheme and extension: `-`, `*.jsonl`, `*.jsonl.gz` today. */
export async function openSink<T>(url: string, options: SinkOptions<T> = {}): Promise<Sink<T>> {
  const factory = factories.find((f) => f.accepts(url));
  if (!factory) {
    throw new AuditReplayError('usage', `no sink for '${url}': use '-' (stdout) or a path ending in .jsonl or .jsonl.gz`);
  }
  return factory.create<T>(url, options);
}
