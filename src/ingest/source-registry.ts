import { AuditReplayError } from '../core/errors.js';
import type { Source, SourceFactory, SourceOptions } from './source.js';
import { localSourceFactory } from './sources/local/index.js';

const factories: SourceFactory[] = [localSourceFactory];

/** The scheme of a source URL; '' for a plain path. Windows drive letters are paths, not schemes. */
export function urlScheme(url: string): string {
  const m = /^([a-z][a-z0-9+.-]+):\/\//i.exec(url);
  return m ? m[1]!.toLowerCase() : '';
}

/** Makes the Source for a URL by its scheme: a path or `file://` today. */
export function openSource(url: string, options: SourceOptions = {}): Source {
  const scheme = urlScheme(url);
  const factory = factories.find((f) => f.schemes.includes(scheme));
  if (!factory) {
    const known = factories.flatMap((f) => f.schemes.filter(Boolean).map((s) => `${s}://`));
    throw new AuditReplayError('source-unsupported', `no source for '${scheme}://' URLs; known: a local path, ${known.join(', ')}`);
  }
  return factory.create(url, options);
}
