/** Counters of the ingest stage; the summary and progress lines read them. */
export interface IngestStats {
  listCalls: number;
  objectsListed: number;
  objectsOpened: number;
  objectsDone: number;
  objectsSkipped: number;
  /** Objects of the window left to other shards (`--shard`): never opened, and not in `objectsListed`. */
  objectsOtherShard: number;
  prunedPrefixes: number;
  /** Bytes read from storage (compressed where the object is). */
  bytesRead: number;
  /** Bytes after decompression. */
  bytesDecoded: number;
  lines: number;
  /** Records decoded into statements. */
  records: number;
  /** Records outside [from, to). */
  outsideWindow: number;
  /** Records that are not statements (connection messages, protocol steps), by reason. */
  skipped: Record<string, number>;
  /** Storage calls tried again (throttling, 5xx, dropped connections). */
  retries: number;
  /** Downloads that broke and went on with a ranged read. */
  resumes: number;
}

export function newIngestStats(): IngestStats {
  return {
    listCalls: 0,
    objectsListed: 0,
    objectsOpened: 0,
    objectsDone: 0,
    objectsSkipped: 0,
    objectsOtherShard: 0,
    prunedPrefixes: 0,
    bytesRead: 0,
    bytesDecoded: 0,
    lines: 0,
    records: 0,
    outsideWindow: 0,
    skipped: {},
    retries: 0,
    resumes: 0,
  };
}
