import type { Readable, Writable } from 'node:stream';

/**
 * Where an output's bytes go: a local file or an object in a bucket. Nothing appears
 * under the final name before `commit`: a file is written under a temporary name and
 * renamed; an object is a multipart upload (S3), uncommitted blocks (Azure) or an
 * unfinished resumable upload (GCS) until then. `abort` removes what was written.
 */
export interface OutputObject {
  /** Safe to print (no credentials). */
  readonly url: string;
  /** The bytes go here; it applies backpressure, and a large output never sits in memory. */
  readonly stream: Writable;
  /** Waits for the stream to finish (the caller ends it), then makes the output visible. */
  commit(): Promise<void>;
  /** Discards the output; safe after a failure, and a no-op after commit. */
  abort(): Promise<void>;
}

export interface StorageOptions {
  /** An S3-compatible endpoint (path-style), as `--s3-endpoint`. */
  s3Endpoint?: string;
  /** A GCS endpoint (an emulator), as `--gcs-endpoint`. */
  gcsEndpoint?: string;
}

export interface Storage {
  /** True for the URLs it handles (by scheme; local paths have none). */
  accepts(url: string): boolean;
  create(url: string, options: StorageOptions): Promise<OutputObject>;
  /** The object's bytes, streamed; a missing object is `sink-not-found`. */
  open(url: string, options: StorageOptions): Promise<Readable>;
  /** Whether the object exists under the final name. */
  exists(url: string, options: StorageOptions): Promise<boolean>;
}
