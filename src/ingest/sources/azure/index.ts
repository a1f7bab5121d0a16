import type { SourceFactory } from '../../source.js';

/** `az://container/prefix` or `https://<account>.blob.core.windows.net/<container>/<prefix>`. */
export const azureSourceFactory: SourceFactory = {
  accepts: (url) => url.startsWith('az://') || /^https:\/\/[^/]+\.blob\.core\.windows\.net\//i.test(url),
  create: async (url, options) => new (await import('./azure-source.js')).AzureSource(url, options),
};
