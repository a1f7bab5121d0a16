import type { BaseEvent, RejectReason } from '../../../src/core/audit-event.js';
import type { DecoderOptions, ObjectDecoder, RandomAccessFile } from '../../../src/ingest/decoder.js';
import type { ObjectRef } from '../../../src/ingest/source.js';

/** A RandomAccessFile over a Buffer that records every read. */
export class MemoryFile implements RandomAccessFile {
  readonly reads: { offset: number; length: number }[] = [];
  constructor(private readonly bytes: Buffer) {}
  get size(): number {
    return this.bytes.length;
  }
  async read(offset: number, length: number): Promise<Buffer> {
    this.reads.push({ offset, length });
    if (offset < 0 || length < 0 || offset + length > this.bytes.length) throw new RangeError(`read ${offset}+${length} beyond ${this.bytes.length}`);
    return this.bytes.subarray(offset, offset + length);
  }
}

export interface ObjectDecoded {
  events: BaseEvent[];
  rejects: { line: number; reason: RejectReason; message: string; raw: string | null }[];
  skips: string[];
  /** Events handed out before each yield: how the decoder batches. */
  batches: number[];
  /** The file's reads made before each yield. */
  readsPerBatch: number[];
}

export const PARQUET_OBJECT: ObjectRef = { key: 'ymd=2026-11-20/audit.parquet', size: null, name: 'mem://ymd=2026-11-20/audit.parquet', minTs: -Infinity, maxTs: Infinity };

/** Runs an ObjectDecoder over a file to its end, as decodeObject does. */
export async function decodeFile(decoder: ObjectDecoder, file: RandomAccessFile & { reads?: unknown[] }, options: DecoderOptions = {}, object: ObjectRef = PARQUET_OBJECT): Promise<ObjectDecoded> {
  const out: ObjectDecoded = { events: [], rejects: [], skips: [], batches: [], readsPerBatch: [] };
  let lastEvents = 0;
  let lastReads = 0;
  const sink = {
    event: (e: BaseEvent) => void out.events.push(e),
    reject: (line: number, reason: RejectReason, message: string, raw: string | null) => void out.rejects.push({ line, reason, message, raw }),
    skip: (reason: string) => void out.skips.push(reason),
  };
  for await (const _ of decoder.decode(object, file, sink, options)) {
    out.batches.push(out.events.length - lastEvents);
    lastEvents = out.events.length;
    const reads = file.reads?.length ?? 0;
    out.readsPerBatch.push(reads - lastReads);
    lastReads = reads;
  }
  return out;
}
