import type { SourceFactory } from '../../source.js';

/** `gs://bucket/prefix`; the SDK is loaded only when such a URL is used. */
export const gcsSourceFactory: SourceFactory = {
  accepts: (url) => url.startsWith('gs://'),
  create: async (url, options) => new (await import('./gcs-source.js')).GcsSource(url, options),
};
