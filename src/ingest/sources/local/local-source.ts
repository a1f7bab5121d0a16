import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { AuditReplayError } from '../../../core/errors.js';
import type { DirListing, Source, SourceOptions } from '../../source.js';

/** A folder on a local disk, given as a path or a `file://` URL. */
export class LocalSource implements Source {
  readonly url: string;
  private readonly root: string;
  private readonly chunkSize: number;

  constructor(url: string, options: SourceOptions = {}) {
    this.root = resolve(url.startsWith('file://') ? fileURLToPath(url) : url);
    this.url = url;
    this.chunkSize = options.chunkSize ?? 256 * 1024;
  }

  async listDir(prefix: string): Promise<DirListing> {
    const dir = join(this.root, prefix);
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if (prefix === '') {
        // A single file is a valid source too: a one-object window.
        const single = await statOrNull(this.root);
        if (single?.isFile()) return { prefixes: [], objects: [{ key: '', size: single.size }] };
        throw new AuditReplayError('source-not-found', `source ${this.url}: no such folder or file`, { cause: err });
      }
      throw new AuditReplayError('source-not-found', `source ${this.url}: cannot list ${prefix}`, { cause: err });
    }
    const prefixes: string[] = [];
    const files: string[] = [];
    for (const e of entries) {
      if (e.isDirectory()) prefixes.push(`${prefix}${e.name}/`);
      else if (e.isFile() || e.isSymbolicLink()) files.push(`${prefix}${e.name}`);
    }
    const objects = await Promise.all(
      files.map(async (key) => ({ key, size: (await statOrNull(join(this.root, key)))?.size ?? null })),
    );
    return { prefixes, objects };
  }

  async open(key: string, options: { offset?: number; signal?: AbortSignal } = {}): Promise<Readable> {
    const path = key === '' ? this.root : join(this.root, key);
    const stream = createReadStream(path, {
      start: options.offset ?? 0,
      highWaterMark: this.chunkSize,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    // Surface ENOENT/EACCES at open time rather than on the first read.
    await new Promise<void>((ok, fail) => {
      stream.once('open', () => ok());
      stream.once('error', fail);
    });
    return stream;
  }

  async close(): Promise<void> {}
}

async function statOrNull(path: string) {
  try {
    return await stat(path);
  } catch {
    return null;
  }
}
