import type { SourceFactory } from '../../source.js';
import { LocalSource } from './local-source.js';

/** A plain path or a `file://` URL. */
export const localSourceFactory: SourceFactory = {
  accepts: (url) => url.startsWith('file://') || !/^[a-z][a-z0-9+.-]+:\/\//i.test(url),
  create: async (url, options) => new LocalSource(url, options),
};
