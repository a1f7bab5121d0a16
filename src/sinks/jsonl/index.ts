import type { SinkFactory } from '../sink.js';
import { JsonlSink } from './jsonl-sink.js';

export const jsonlSinkFactory: SinkFactory = {
  accepts: (url) => url === '-' || /\.jsonl?(\.gz)?$/i.test(url),
  create: async (url, options) => new JsonlSink(url, options.toJson),
};
