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
  private done = false;
  private readonly toJson: (record: T) => string;

  /** @param toJson how a record becomes one line (default JSON.stringify) */
  constructor(path: string, toJson: (record: T) => string = JSON.stringify) {
    this.url = path;
    this.toJson = toJson;
    if (path === '-') {
      this.out = process.stdout;
      this.file = null;
      this.tmpPath = null;
      return;
    }
    this.tmpPath = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
    this.file = createWriteStream(this.tmpPath, { highWaterMark: 1 << 20 });
    if (path.endsWith('.gz')) {
      const gzip = createGzip({ level: 6 });
      gzip.pipe(this.file);
      this.out = gzip;
    } else {
      this.out = this.file;
    }
  }

  async write(batch: readonly T[]): Promise<void> {
    if (batch.length === 0) return;
    let text = '';
    for (const record of batch) text += this.toJson(record) + '\n';
    if (!this.out.write(text)) await waitDrain(this.out);
  }

  async commit(): Promise<void> {
    if (this.done) return;
    this.done = true;
    if (this.tmpPath === null) {
      if (this.out.writableNeedDrain) await waitDrain(this.out);
      return;
    }
    this.out.end();
    try {
      await finished(this.file!);
      await rename(this.tmpPath, this.url);
    } catch (err) {
      await rm(this.tmpPath, { force: true });
      throw new AuditReplayError('sink-failed', `cannot write ${this.url}: ${(err as Error).message}`, { cause: err });
    }
  }

  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    if (this.tmpPath === null) return;
    this.out.destroy();
    this.file!.destroy();
    await rm(this.tmpPath, { force: true });
  }
}

function waitDrain(stream: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => {
      stream.off('drain', onDrain);
      reject(err);
    };
    const onDrain = () => {
      stream.off('error', onError);
      resolve();
    };
    stream.once('drain', onDrain);
    stream.once('error', onError);
  });
}
