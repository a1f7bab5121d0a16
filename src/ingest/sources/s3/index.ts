import type { SourceFactory } from '../../source.js';

/** `s3://bucket/prefix`; the SDK is loaded only when such a URL is used. */
export const s3SourceFactory: SourceFactory = {
  accepts: (url) => url.startsWith('s3://'),
  create: async (url, options) => new (await import('./s3-source.js')).S3Source(url, options),
};
