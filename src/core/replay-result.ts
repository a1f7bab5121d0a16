import type { EventKind } from './audit-event.js';
import { jsonNumber as num, jsonString as str } from './json-text.js';

/**
 * One execution of a logged statement on the secondary. A public record: the JSONL
 * output uses exactly these field names, the columnar outputs use them as columns.
 */
export interface ReplayResult {
  runId: string;
  /** The AuditEvent id of the statement in the primary's log. */
  originalId: string;
  fingerprintId: string;
  kind: EventKind;
  /** The target URL, password removed. */
  target: string;
  /** When the statement was due, epoch ms: the original start scaled by --speed (at `max`: when it was read). */
  scheduledAt: number;
  /** When it was sent, epoch ms. */
  startedAt: number;
  /** From sending it until its last row (or its error) arrived. */
  durationMs: number;
  /** Rows returned or changed, as the command tag says; null when it says nothing (or it failed). */
  rows: number | null;
  /** Order-insensitive digest of the result (see `--checksum`); null when not computed or failed. */
  checksum: string | null;
  ok: boolean;
  /** The target's SQLSTATE when the statement failed (`08006` when the connection dropped). */
  sqlState: string | null;
  error: string | null;
  /** The statement's duration on the primary, when the log says. */
  originalDurationMs: number | null;
  /** Which repeat of the window this was: 1..--repeat (warm-up rounds are not recorded). */
  attempt: number;
}

/** One ReplayResult as a JSON line, fields in the documented order. */
export function replayResultToJson(r: ReplayResult): string {
  return (
    `{"runId":${str(r.runId)},"originalId":${str(r.originalId)},"fingerprintId":${str(r.fingerprintId)},"kind":"${r.kind}"` +
    `,"target":${str(r.target)},"scheduledAt":${num(r.scheduledAt)},"startedAt":${num(r.startedAt)},"durationMs":${num(r.durationMs)}` +
    `,"rows":${num(r.rows)},"checksum":${str(r.checksum)},"ok":${r.ok ? 'true' : 'false'},"sqlState":${str(r.sqlState)}` +
    `,"error":${str(r.error)},"originalDurationMs":${num(r.originalDurationMs)},"attempt":${r.attempt}}`
  );
}
