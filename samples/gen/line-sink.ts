/**
 * Writes lines to one file, optionally through gzip, without holding the file in memory:
 * lines are batched into ~64 KiB chunks and every chunk waits for the stream to drain.
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { Writable } from 'node:stream';

const CHUNK_CHARS = 64 * 1024;

export interface SinkResult {
  path: string;
  gzip: boolean;
  lines: number;
  /** Bytes before compression. */
  rawBytes: number;
  /** Bytes on disk. */
  bytes: number;
}

export class LineSink {
  private readonly head: Writable;
  private readonly done: Promise<void>;
  private pending: string[] = [];
  private pendingChars = 0;
  private lines = 0;
  private rawBytes = 0;
  private failure: unknown = null;

  constructor(
    readonly path: string,
    readonly gzip: boolean,
    gzipLevel = 6,
  ) {
    mkdirSync(dirname(path), { recursive: true });
    const file = createWriteStream(path);
    if (gzip) {
      // Node writes a gzip header with mtime 0 and no name, so output stays byte-identical.
      const z = createGzip({ level: gzipLevel });
      this.head = z;
      this.done = pipeline(z, file);
    } else {
      this.head = file;
      this.done = once(file, 'finish').then(() => undefined);
    }
    this.done.catch((err: unknown) => {
      this.failure = err;
    });
  }

  /** Queues one line (without its newline); returns a promise only when the caller must wait. */
  write(line: string): Promise<void> | undefined {
    this.pending.push(line);
    this.pendingChars += line.length + 1;
    this.lines++;
    return this.pendingChars >= CHUNK_CHARS ? this.flush() : undefined;
  }

  private async flush(): Promise<void> {
    if (this.failure !== null) throw this.failure;
    if (this.pending.length === 0) return;
    const chunk = Buffer.from(this.pending.join('\n') + '\n', 'utf8');
    this.pending = [];
    this.pendingChars = 0;
    this.rawBytes += chunk.length;
    if (!this.head.write(chunk)) await once(this.head, 'drain');
  }

  async close(): Promise<SinkResult> {
    await this.flush();
    this.head.end();
    await this.done;
    const { size } = await stat(this.path);
    return { path: this.path, gzip: this.gzip, lines: this.lines, rawBytes: this.rawBytes, bytes: size };
  }
}
