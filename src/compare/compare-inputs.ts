import type { AuditEvent } from '../core/audit-event.js';
import type { TimeWindow } from '../core/time.js';
import { extract, type ExtractOptions } from '../extract/extract-pipeline.js';
import { RejectLog } from '../ingest/reject-log.js';
import { parseTag } from '../replay/run/statement-tag.js';
import { REPLAY_RESULT_SCHEMA, type Row } from '../sinks/record-schema.js';
import { expandInputs } from '../sinks/expand-inputs.js';
import { readRecords } from '../sinks/sink-registry.js';
import type { StorageOptions } from '../sinks/storage.js';
import type { Execution } from './compare-model.js';

/** One side of a comparison: replay results in any sink, or audit logs of a window. */
export type SideSpec =
  | {
      kind: 'results';
      /** One output, or a glob or prefix naming several (the shards of one run): see expandInputs. */
      url: string;
      storage?: StorageOptions;
      attempts?: (attempt: number) => boolean;
      /** The outputs `url` names, once expanded (expandSide); expanded when read otherwise. */
      urls?: string[];
    }
  | { kind: 'logs'; settings: Omit<ExtractOptions, 'window' | 'rejects' | 'filter' | 'signal'>; window: TimeWindow; signal?: AbortSignal };

/** Where a side comes from, for the report. */
export function describeSide(spec: SideSpec): string {
  if (spec.kind === 'logs') return `audit logs ${String(spec.settings.source)}`;
  return spec.urls && spec.urls.length > 1 ? `${spec.url} (${spec.urls.length} outputs)` : spec.url;
}

/**
 * A results side with its glob or prefix expanded to the outputs it names, so a
 * pattern that matches nothing fails before either side is read. Log sides are unchanged.
 */
export async function expandSide(spec: SideSpec): Promise<SideSpec> {
  if (spec.kind !== 'results' || spec.urls) return spec;
  return { ...spec, urls: await expandInputs(spec.url, spec.storage ?? {}) };
}

/**
 * The executions of a side, streamed. Results give theirs as recorded. Audit logs give
 * every statement with a duration: the primary's under their own ids, the secondary's
 * own log under the primary's id its replay tag names (`orig=`), so either joins with
 * the other side by original id. Unreadable log lines are counted by extract and left out.
 */
export async function* readSide(spec: SideSpec): AsyncIterable<Execution[]> {
  if (spec.kind === 'results') {
    // The shards of a run are read one after the other, in key order, as one side.
    for (const url of spec.urls ?? (await expandInputs(spec.url, spec.storage ?? {}))) {
      for await (const batch of readRecords(url, REPLAY_RESULT_SCHEMA, spec.storage ? { storage: spec.storage } : {})) {
        const out: Execution[] = [];
        for (const r of batch) {
          if (spec.attempts && !spec.attempts(Number(r.attempt))) continue;
          out.push(fromResult(r));
        }
        if (out.length) yield out;
      }
    }
    return;
  }
  const rejects = new RejectLog(null);
  const { events } = extract({ ...spec.settings, window: spec.window, rejects, ...(spec.signal ? { signal: spec.signal } : {}) });
  for await (const batch of events) {
    const out: Execution[] = [];
    for (const e of batch) if (e.durationMs !== null) out.push(fromEvent(e));
    if (out.length) yield out;
  }
}

function fromResult(r: Row): Execution {
  return {
    originalId: String(r.originalId),
    fingerprintId: String(r.fingerprintId),
    fingerprint: null,
    statement: null,
    durationMs: typeof r.durationMs === 'number' ? r.durationMs : null,
    ok: typeof r.ok === 'boolean' ? r.ok : null,
    sqlState: typeof r.sqlState === 'string' ? r.sqlState : null,
    rows: typeof r.rows === 'number' || typeof r.rows === 'bigint' ? r.rows : null,
    checksum: typeof r.checksum === 'string' ? r.checksum : null,
    attempt: Number(r.attempt ?? 1),
  };
}

function fromEvent(e: AuditEvent): Execution {
  const tag = parseTag(e.statement);
  return {
    originalId: tag?.originalId ?? e.id,
    fingerprintId: e.fingerprintId,
    fingerprint: e.fingerprint,
    statement: e.statement,
    durationMs: e.durationMs,
    ok: e.ok,
    sqlState: e.ok === false ? sqlStateOf(e) : null,
    rows: null,
    checksum: null,
    attempt: 1,
  };
}

/** The SQLSTATE of a failed statement, when its log gives one (PostgreSQL's decoders put it in front of the error: `42P01: ...`). */
function sqlStateOf(e: AuditEvent): string | null {
  return /^([0-9A-Z]{5}): /.exec(e.error ?? '')?.[1] ?? null;
}
