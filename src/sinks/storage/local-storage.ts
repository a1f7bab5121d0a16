import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { AuditReplayError } from '../../core/errors.js';
import type { OutputObject, Storage } from '../storage.js';

/** Told apart from a local path by having one: `s3://`, `https://`, … (`file://` is local). */
const SCHEME = /^[a-z][a-z0-9+.-]+:\/\//i;

/** Per process: two outputs created in the same millisecond still get their own temporary file. */
let serial = 0;

/**
 * Files on a local disk, named by a path or a `file://` URL. An output is written to
 * `.<name>.<pid>.<time>.<n>.tmp` beside the target (same folder, so the same file
 * system) and renamed onto it by `commit`, which replaces an existing file atomically.
 * The parent folder is created when missing.
 */
export const localStorage: Storage = {
  accepts: (url) => url.startsWith('file://') || !SCHEME.test(url),

  async create(url) {
    const path = localPath(url);
    const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.${++serial}.tmp`);
    try {
      await mkdir(dirname(path), { recursive: true });
    } catch (err) {
      throw failed(url, `cannot create its folder ${dirname(path)}`, err);
    }
    // `wx`: a temporary name that somehow exists is never written through.
    const file = createWriteStream(tmp, { flags: 'wx', highWaterMark: 1 << 20 });
    try {
      await new Promise<void>((ok, fail) => {
        file.once('open', () => ok());
        file.once('error', fail);
      });
    } catch (err) {
      throw failed(url, `cannot create ${tmp}`, err);
    }
    return new LocalOutput(url, path, tmp, file);
  },

  async open(url) {
    const path = localPath(url);
    const stream = createReadStream(path, { highWaterMark: 1 << 20 });
    // ENOENT and EACCES surface here rather than on the first read.
    try {
      await new Promise<void>((ok, fail) => {
        stream.once('open', () => ok());
        stream.once('error', fail);
      });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new AuditReplayError('sink-not-found', `${url}: no such file`, { cause: err });
      throw failed(url, 'cannot open it', err);
    }
    return stream;
  },

  async exists(url) {
    try {
      return (await stat(localPath(url))).isFile();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return false;
      throw failed(url, 'cannot look at it', err);
    }
  },
};

class LocalOutput implements OutputObject {
  readonly url: string;
  readonly stream: Writable;
  private state: 'open' | 'committing' | 'committed' | 'aborted' = 'open';
  /** The stream's first error: kept so commit reports it even when the caller did not listen. */
  private failure: Error | null = null;

  constructor(
    url: string,
    private readonly path: string,
    private readonly tmp: string,
    private readonly file: WriteStream,
  ) {
    this.url = url;
    this.stream = file;
    file.on('error', (err) => (this.failure ??= err));
  }

  async commit(): Promise<void> {
    if (this.state === 'committed') return;
    if (this.state !== 'open') throw new AuditReplayError('internal', `${this.url}: commit after ${this.state === 'aborted' ? 'abort' : 'a failed commit'}`);
    if (this.failure) throw failed(this.url, 'writing failed', this.failure);
    if (!this.file.writableEnded) throw new AuditReplayError('internal', `${this.url}: commit before its stream was ended`);
    this.state = 'committing';
    try {
      // Resolves once the file is closed, so the rename moves a complete file.
      await finished(this.file);
      await rename(this.tmp, this.path);
      this.state = 'committed';
    } catch (err) {
      await rm(this.tmp, { force: true }).catch(() => undefined);
      throw failed(this.url, 'writing failed', this.failure ?? err);
    }
  }

  async abort(): Promise<void> {
    if (this.state === 'committed' || this.state === 'aborted') return;
    this.state = 'aborted';
    if (!this.file.closed) {
      const closed = new Promise<void>((done) => this.file.once('close', () => done()));
      this.file.destroy();
      await closed;
    }
    try {
      await rm(this.tmp, { force: true });
    } catch (err) {
      throw failed(this.url, `cannot remove the temporary file ${this.tmp}`, err);
    }
  }
}

/** The absolute path a local URL names; `file://` URLs are decoded. */
function localPath(url: string): string {
  if (!url.startsWith('file://')) return resolve(url);
  try {
    return fileURLToPath(url);
  } catch (err) {
    throw new AuditReplayError('usage', `'${url}' is not a usable file:// URL: ${(err as Error).message}`);
  }
}

function failed(url: string, what: string, cause: unknown): AuditReplayError {
  if (cause instanceof AuditReplayError) return cause;
  const reason = (cause as Error | null)?.message ?? String(cause);
  return new AuditReplayError('sink-failed', `cannot write ${url}: ${what}: ${reason}`, { cause });
}
