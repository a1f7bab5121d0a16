import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { AuditReplayError } from '../core/errors.js';
import type { IngestStats } from './ingest-stats.js';
import { LineSplitter, type BadLine, type LineBatch } from './line-splitter.js';
import type { ObjectRef, Source } from './source.js';

export interface ObjectProblem {
  line: number;
  reason: 'invalid-utf8' | 'malformed-line' | 'truncated-gzip' | 'read-error';
  message: string;
  raw: Buffer | null;
}

/**
 * Looks at an object's first chunk as read, before gunzip and line splitting. Returning
 * true takes the object away from line reading: no line is yielded, and the stream,
 * positioned just after `head`, now belongs to the probe (which must `return()` it).
 */
export type HeadProbe = (head: Buffer, rest: AsyncIterator<Uint8Array>) => boolean;

/**
 * Streams an object as batches of lines (from `opened`, when a prefetch already opened
 * it). gzip is recognised by its magic bytes, not by the name. A bad line, a truncated gzip or a failed read is reported through
 * `onProblem` with the line where it happened; the lines before it still arrive.
 * `probe`, when given, sees the first chunk and may claim the object (binary formats).
 */
export async function* readObjectLines(
  source: Source,
  object: ObjectRef,
  stats: IngestStats,
  onProblem: (problem: ObjectProblem) => void,
  signal?: AbortSignal,
  opened?: Promise<Readable>,
  probe?: HeadProbe,
): AsyncGenerator<LineBatch> {
  const splitter = new LineSplitter((bad: BadLine) => onProblem(bad));
  try {
    const raw = await (opened ?? source.open(object.key, signal ? { signal } : {}));
    for await (const chunk of decompressed(raw, stats, probe)) {
      stats.bytesDecoded += chunk.length;
      const batch = splitter.push(chunk);
      if (batch) {
        stats.lines += batch.lines.length;
        yield batch;
      }
    }
  } catch (err) {
    // Refused credentials fail the run at once: every other object would be refused too.
    if (signal?.aborted || (err instanceof AuditReplayError && err.code === 'source-auth')) throw err;
    const partial = splitter.partial;
    splitter.dropPartial();
    const zlibCode = (err as { code?: string }).code ?? '';
    const truncated = zlibCode === 'Z_BUF_ERROR';
    onProblem({
      line: splitter.linesSeen + 1,
      reason: truncated ? 'truncated-gzip' : 'read-error',
      message: truncated
        ? `gzip data ends early after line ${splitter.linesSeen}; the rest of the object is lost`
        : `read failed after line ${splitter.linesSeen}: ${(err as Error).message}`,
      raw: partial.length ? partial : null,
    });
    return;
  }
  const last = splitter.end();
  if (last) {
    stats.lines += last.lines.length;
    yield last;
  }
}

async function* decompressed(raw: AsyncIterable<Uint8Array>, stats: IngestStats, probe?: HeadProbe): AsyncGenerator<Buffer> {
  const it = raw[Symbol.asyncIterator]();
  let handedOver = false;
  try {
    const first = await it.next();
    if (first.done) return;
    const head = toBuffer(first.value);
    stats.bytesRead += head.length;
    if (probe?.(head, it)) {
      handedOver = true;
      return;
    }
    const counted = async function* () {
      yield head;
      for (let r = await it.next(); !r.done; r = await it.next()) {
        const b = toBuffer(r.value);
        stats.bytesRead += b.length;
        yield b;
      }
    };
    if (!(head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b)) {
      yield* counted();
      return;
    }
    const gunzip = createGunzip({ chunkSize: 128 * 1024 });
    // pipeline() forwards a read error into the gunzip stream, so the loop below sees it.
    pipeline(Readable.from(counted(), { objectMode: false }), gunzip, () => {});
    yield* gunzip as AsyncIterable<Buffer>;
  } finally {
    // Closes the file or socket when the reader stops early or fails.
    if (!handedOver) await it.return?.();
  }
}

function toBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}
