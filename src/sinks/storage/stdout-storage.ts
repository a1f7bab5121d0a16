import { PassThrough } from 'node:stream';
import { finished } from 'node:stream/promises';
import { AuditReplayError } from '../../core/errors.js';
import type { OutputObject, Storage } from '../storage.js';

/**
 * Standard output (`-`), for piping JSON lines into other tools. It cannot be taken
 * back: what was written stays written, so it is not atomic, and nothing reads it back.
 */
export const stdoutStorage: Storage = {
  accepts: (url) => url === '-',
  async create(): Promise<OutputObject> {
    const stream = new PassThrough();
    // Never end the process's stdout: other output (a summary) may follow.
    stream.pipe(process.stdout, { end: false });
    return {
      url: '-',
      stream,
      commit: async () => {
        await finished(stream);
      },
      abort: async () => {
        stream.unpipe(process.stdout);
        stream.destroy();
      },
    };
  },
  async open() {
    throw new AuditReplayError('usage', 'standard output cannot be read back');
  },
  exists: async () => false,
};
