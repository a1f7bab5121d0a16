import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { AuditReplayError } from '../../core/errors.js';
import type { Sink } from '../sink.js';

/**
 * One JSON record per line, to a file (gzip when the name ends in `.gz`) or to stdout
 * (`-`). A file is written under a temporary name beside it and renamed on commit, so
 * a reader never sees half an output.
 */
export class JsonlSink<T> implements Sink<T> {
  readonly url: string;
  private readonly out: Writable;
  private readonly file: Writable | null;
  private readonly tmpPath: string | null;
  private readonly toJson: (record: T) => string;
  private done = false;
  /** The first error a stream reported; streams report asynchronously, so it is kept until the next call. */
  private failure: Error | null = null;

  /** @param toJson how a record becomes one line (default JSON.stringify) */
  constructor(path: string, toJson: (record: T) => string = JSON.stringify) {
    this.url = path;
    this.toJson = toJson;
    const keep = (err: Error): void => {
      this.failure ??= err;
    };
    if (path === '-') {
      this.out = process.stdout;
      this.file = null;
      this.tmpPath = null;
      this.out.on('error', keep);
      return;
    }
    this.tmpPath = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
    this.file = createWriteStream(this.tmpPath, { highWaterMark: 1 << 20 });
    this.file.on('error', keep);
    if (path.endsWith('.gz')) {
      const gzip = createGzip({ level: 6 });
      gzip.on('error', keep);
      gzip.pipe(this.file);
      this.out = gzip;
    } else {
      this.out = this.file;
    }
  }

  async write(batch: readonly T[]): Promise<void> {
    this.throwIfFailed();
    if (batch.length === 0) return;
    let text = '';
    for (const record of batch) text += this.toJson(record) + '\n';
    if (!this.out.write(text)) await this.drained();
  }

  async commit(): Promise<void> {
    if (this.done) return;
    this.throwIfFailed();
    this.done = true;
    if (this.tmpPath === null) {
      if (this.out.writableNeedDrain) await this.drained();
      return;
    }
    this.out.end();
    try {
      await finished(this.file!);
      this.throwIfFailed();
      await rename(this.tmpPath, this.url);
    } catch (err) {
      await rm(this.tmpPath, { force: true });
      throw err instanceof AuditReplayError ? err : this.error(err as Error);
    }
  }

  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    if (this.tmpPath === null) return;
    const closed = new Promise((resolve) => this.file!.once('close', resolve));
    this.out.destroy();
    this.file!.destroy();
    await closed;
    await rm(this.tmpPath, { force: true });
  }

  private drained(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => {
        this.out.off('drain', onDrain);
        reject(this.error(err));
      };
      const onDrain = () => {
        this.out.off('error', onError);
        resolve();
      };
      this.out.once('drain', onDrain);
      this.out.once('error', onError);
    });
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.error(this.failure);
  }

  private error(cause: Error): AuditReplayError {
    return new AuditReplayError('sink-failed', `cannot write ${this.url === '-' ? 'stdout' : this.url}: ${cause.message}`, { cause });
  }
}
