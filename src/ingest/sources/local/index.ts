import type { SourceFactory } from '../../source.js';
import { LocalSource } from './local-source.js';

export const localSourceFactory: SourceFactory = {
  schemes: ['file', ''],
  create: (url, options) => new LocalSource(url, options),
};
