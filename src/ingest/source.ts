import type { Readable } from 'node:stream';

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
}

export interface ObjectInfo {
  /** Key relative to the source root, '/'-separated. */
  key: string;
  size: number | null;
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

/** Makes a Source for a URL whose scheme the factory claims. */
export interface SourceFactory {
  readonly schemes: readonly string[];
  create(url: string, options: SourceOptions): Source;
}

export interface SourceOptions {
  /** Read-ahead chunk size in bytes (default 256 KiB). */
  chunkSize?: number;
}
