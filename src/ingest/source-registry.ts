import { AuditReplayError } from '../core/errors.js';
import type { Source, SourceFactory, SourceOptions } from './source.js';
import { azureSourceFactory } from './sources/azure/index.js';
import { gcsSourceFactory } from './sources/gcs/index.js';
import { localSourceFactory } from './sources/local/index.js';
import { s3SourceFactory } from './sources/s3/index.js';

const factories: SourceFactory[] = [s3SourceFactory, azureSourceFactory, gcsSourceFactory, localSourceFactory];

/** Adds a source factory; cloud sources register here. */
export function registerSource(factory: SourceFactory): void {
  factories.push(factory);
}

/** Makes the Source for a URL, chosen by scheme: a path or `file://`, `s3://`, `az://` (or an Azure blob https URL), `gs://`. */
export async function openSource(url: string, options: SourceOptions = {}): Promise<Source> {
  const factory = factories.find((f) => f.accepts(url));
  if (!factory) {
    const scheme = /^([a-z][a-z0-9+.-]+):\/\//i.exec(url)?.[1] ?? url;
    throw new AuditReplayError('source-unsupported', `no source for '${scheme}://' URLs; use a local path, file://, s3://, az://, https://<account>.blob.core.windows.net/ or gs://`);
  }
  return factory.create(url, options);
}
