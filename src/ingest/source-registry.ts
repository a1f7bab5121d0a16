import { AuditReplayError } from '../core/errors.js';
import type { Source, SourceFactory, SourceOptions } from './source.js';
import { localSourceFactory } from './sources/local/index.js';

const factories: SourceFactory[] = [localSourceFactory];

/** Adds a source factory; cloud sources register here. */
export function registerSource(factory: SourceFactory): void {
  factories.push(factory);
}

/** Makes the Source for a URL: a path or `file://` URL, or a registered scheme. */
export async function openSource(url: string, options: SourceOptions = {}): Promise<Source> {
  const factory = factories.find((f) => f.accepts(url));
  if (!factory) {
    const scheme = /^([a-z][a-z0-9+.-]+):\/\//i.exec(url)?.[1] ?? url;
    throw new AuditReplayError('source-unsupported', `no source for '${scheme}://' URLs; give a local path or file:// URL`);
  }
  return factory.create(url, options);
}
