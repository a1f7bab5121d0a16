import { createInterface } from 'node:readline';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { createGunzip, createGzip } from 'node:zlib';
import { parse as parseLossless, isSafeNumber, stringify as stringifyLossless } from 'lossless-json';
import { AuditReplayError } from '../../core/errors.js';
import type { EncoderOptions, RecordEncoder, RecordFormat } from '../record-format.js';
import type { RecordSchema, Row } from '../record-schema.js';

/** A number value (after `:` or `[` or `,`, not inside a string) too long for a double: only such lines take the slower lossless parse. */
const LONG_DIGITS = /[:[,]\s*-?\d{16,}\s*[,}\]]/;

/**
 * One JSON record per line, gzip when the name ends in `.gz`. A bigint (an int64 beyond
 * ±2^53) is written as its digits, as JSON allows, and read back as a bigint.
 */
export const jsonlFormat: RecordFormat = {
  name: 'jsonl',
  accepts: (name) => name === '-' || /\.jsonl?(\.gz)?$/i.test(name),
  encoder: (out, options) => new JsonlEncoder(out, options),
  decode: (input, schema) => decodeJsonl(input, schema),
};

/** A record as a JSON line, bigints as digits. */
export function toJsonLine(record: unknown): string {
  for (const v of Object.values(record as object)) if (typeof v === 'bigint') return stringifyLossless(record) ?? 'null';
  return JSON.stringify(record);
}

class JsonlEncoder implements RecordEncoder {
  private readonly sink: Writable;
  private readonly toJson: (record: Row) => string;

  constructor(
    private readonly out: Writable,
    options: EncoderOptions,
  ) {
    this.toJson = options.toJson ?? toJsonLine;
    if (options.name !== undefined && /\.gz$/i.test(options.name)) {
      const gzip = createGzip({ level: 6 });
      gzip.pipe(out);
      this.sink = gzip;
    } else {
      this.sink = out;
    }
  }

  async write(batch: readonly Row[]): Promise<void> {
    if (batch.length === 0) return;
    let text = '';
    for (const record of batch) text += this.toJson(record) + '\n';
    if (!this.sink.write(text)) await drained(this.sink);
  }

  async end(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.out.once('error', reject);
      this.out.once('finish', resolve);
      this.sink.end();
    });
  }
}

/** Resolves when the stream can take more, rejects when it fails first. */
export function drained(stream: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      stream.off('drain', onDrain);
      reject(err);
    };
    const onDrain = (): void => {
      stream.off('error', onError);
      resolve();
    };
    stream.once('drain', onDrain);
    stream.once('error', onError);
  });
}

async function* decodeJsonl(input: Readable, _schema: RecordSchema): AsyncIterable<Row[]> {
  // gzip is recognised by its magic bytes, so a renamed file still reads.
  const peek = new PassThrough();
  let text: Readable = peek;
  const head = await new Promise<Buffer | null>((resolve, reject) => {
    input.once('error', reject);
    input.once('readable', () => resolve(input.read() as Buffer | null));
    input.once('end', () => resolve(null));
  });
  if (head && head[0] === 0x1f && head[1] === 0x8b) {
    const gunzip = createGunzip();
    peek.pipe(gunzip);
    text = gunzip;
  }
  if (head) peek.write(head);
  input.pipe(peek);
  const lines = createInterface({ input: text, crlfDelay: Infinity });
  let batch: Row[] = [];
  let n = 0;
  for await (const line of lines) {
    n++;
    if (line === '') continue;
    try {
      batch.push((LONG_DIGITS.test(line) ? parseLossless(line, undefined, numberOf) : JSON.parse(line)) as Row);
    } catch (err) {
      throw new AuditReplayError('sink-failed', `line ${n} is not JSON: ${(err as Error).message}`, { cause: err });
    }
    if (batch.length >= 10_000) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}

function numberOf(text: string): number | bigint {
  return isSafeNumber(text) || !/^-?\d+$/.test(text) ? Number(text) : BigInt(text);
}
