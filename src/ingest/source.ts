import type { Readable } from 'node:stream';
import type { RetryPolicy } from '../core/retry.js';

/**
 * A place that holds audit log objects: a local folder or a bucket. Sources only list
 * and open; pruning by date (list-window.ts) and decoding (decoders/) are shared.
 */
export interface Source {
  /** The URL the source was made from, safe to print (no credentials). */
  readonly url: string;
  /**
   * Lists what lies directly under `prefix` ('' for the root; otherwise ending in '/'):
   * the sub-prefixes ("folders") and the objects. One call is one listing request.
   */
  listDir(prefix: string, signal?: AbortSignal): Promise<DirListing>;
  /** Opens an object as a byte stream, starting at byte `offset` (default 0). `destroy()` releases it unread. */
  open(key: string, options?: { offset?: number; signal?: AbortSignal }): Promise<Readable>;
  /** Releases clients and sockets. */
  close(): Promise<void>;
}

export interface DirListing {
  prefixes: string[];
  objects: ObjectInfo[];
  /** Listing requests this took (pages; default 1), for the summary's list-call count. */
  calls?: number;
}

export interface ObjectInfo {
  /** Key relative to the source root, '/'-separated. */
  key: string;
  size: number | null;
  /** Version tag (ETag) where the store has one: a resumed read checks it so a changed object is not stitched together. */
  etag?: string;
}

/** An object chosen for a window, with the time range its partition allows. */
export interface ObjectRef extends ObjectInfo {
  /** Name for messages: the source URL joined with the key. */
  name: string;
  /** Earliest record time the partition allows (partition start minus lookback); -Infinity when unknown. */
  minTs: number;
  /** End of the partition; Infinity when unknown. */
  maxTs: number;
}

/** Makes a Source for a URL the factory claims; cloud factories load their SDK only when used. */
export interface SourceFactory {
  /** True when this factory handles the URL (by scheme or host). */
  accepts(url: string): boolean;
  create(url: string, options: SourceOptions): Promise<Source>;
}

export interface SourceOptions {
  /** Read-ahead chunk size in bytes (default 256 KiB). */
  chunkSize?: number;
  /** An S3-compatible endpoint (MinIO, Ceph), addressed path-style; default AWS_ENDPOINT_URL, else AWS itself. */
  s3Endpoint?: string;
  /** A GCS endpoint (an emulator); default STORAGE_EMULATOR_HOST, else Google itself. */
  gcsEndpoint?: string;
  /** How storage calls are retried (default DEFAULT_RETRY in retry.ts). */
  retry?: RetryPolicy;
  /** Told of every retried call and resumed read, for the summary. */
  onRetry?: (what: 'list' | 'read' | 'resume', err: unknown) => void;
}
