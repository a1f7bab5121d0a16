import { AuditReplayError } from '../../core/errors.js';
import type { Storage } from '../storage.js';
import { localStorage } from './local-storage.js';

/**
 * A storage whose implementation (and cloud SDK) is loaded on first use, as the sources
 * are: a run writing local files never loads the AWS, Azure or Google SDKs.
 */
function lazy(accepts: (url: string) => boolean, load: () => Promise<Storage>): Storage {
  return {
    accepts,
    create: async (url, options) => (await load()).create(url, options),
    open: async (url, options) => (await load()).open(url, options),
    exists: async (url, options) => (await load()).exists(url, options),
  };
}

const storages: Storage[] = [
  lazy(
    (url) => url.startsWith('s3://'),
    async () => (await import('./s3-storage.js')).s3Storage,
  ),
  lazy(
    (url) => url.startsWith('az://') || /^https:\/\/[^/]+\.blob\.core\.windows\.net\//i.test(url),
    async () => (await import('./azure-storage.js')).azureStorage,
  ),
  lazy(
    (url) => url.startsWith('gs://'),
    async () => (await import('./gcs-storage.js')).gcsStorage,
  ),
  localStorage,
];

/**
 * The storage for an output URL, by scheme: `s3://`, `az://` or
 * `https://<account>.blob.core.windows.net/`, `gs://`, else a local path or `file://`.
 * Another scheme (`http://`, `ftp://`…) is a usage error rather than a strange local path.
 */
export function storageFor(url: string): Storage {
  const storage = storages.find((s) => s.accepts(url));
  if (!storage) {
    const scheme = /^([a-z][a-z0-9+.-]+):\/\//i.exec(url)?.[1] ?? url;
    throw new AuditReplayError('usage', `cannot write to '${scheme}://' URLs; use a local path, file://, s3://, az://, https://<account>.blob.core.windows.net/ or gs://`);
  }
  return storage;
}
