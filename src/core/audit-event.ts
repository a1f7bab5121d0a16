/**
 * The public records of auditreplay. Field names are a contract: the JSONL outputs
 * use exactly these names and the columnar outputs use them as column names.
 */

/** What a statement does, as far as replaying it is concerned. */
export type EventKind = 'ddl' | 'dcl' | 'dml' | 'query' | 'session' | 'tcl' | 'utility' | 'unknown';

export const EVENT_KINDS: readonly EventKind[] = [
  'ddl',
  'dcl',
  'dml',
  'query',
  'session',
  'tcl',
  'utility',
  'unknown',
];

/** Where a record came from: enough to find the line again. */
export interface Provenance {
  format: string;
  object: string;
  /** 1-based line of the record's first line in the (decompressed) object. */
  line: number;
}

/** One statement as the primary saw it, before classification. Decoders produce these. */
export interface BaseEvent {
  /** Query or request id from the log, or a stable id made from the record's position. */
  id: string;
  /** Start time, epoch ms; fractional where the log has sub-ms precision. */
  ts: number;
  /** End time, epoch ms, or null when the log does not say. */
  end: number | null;
  durationMs: number | null;
  user: string | null;
  /** Default database (or search_path) in force when the statement ran. */
  database: string | null;
  session: string | null;
  client: string | null;
  statement: string;
  /** Whether the statement succeeded on the primary; null when the log does not say. */
  ok: boolean | null;
  error: string | null;
  source: Provenance;
  /** Format-specific fields worth keeping (e.g. Okera's ae_table), never needed by the pipeline. */
  extra?: Record<string, unknown>;
}

/** A statement after extract: classified and fingerprinted. */
export interface AuditEvent extends BaseEvent {
  kind: EventKind;
  /** Command tag such as `CREATE TABLE` or `GRANT`. */
  command: string;
  /** Normalised text with literals replaced by `?`. */
  fingerprint: string;
  /** Short stable hash of `fingerprint`. */
  fingerprintId: string;
}

/** A record that could not be turned into an event, with enough to find and fix it. */
export interface Reject {
  /** Machine-readable reason, e.g. `malformed-line`, `truncated-gzip`. */
  reason: RejectReason;
  message: string;
  object: string;
  line: number;
  format: string | null;
  /** The offending text (cut to 64 KiB), or base64 when it is not valid UTF-8. */
  raw: string | null;
  rawEncoding?: 'utf8' | 'base64';
}

export type RejectReason =
  | 'malformed-line'
  | 'truncated-gzip'
  | 'invalid-utf8'
  | 'bad-timestamp'
  | 'unknown-format'
  | 'read-error'
  | 'late-record'
  /** Sync: the statement failed on the secondary and `--on-error skip` went on. */
  | 'target-error'
  /** Sync: the DCL guard refused the statement (superuser, admin option, denied role). */
  | 'refused'
  /** Sync: the statement text is incomplete (an unterminated quote or comment: a cut log line?). */
  | 'incomplete-statement';
