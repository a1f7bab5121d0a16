import type { AuditEvent, BaseEvent, EventKind } from '../core/audit-event.js';
import { analyzeStatement, fingerprintId, splitStatements } from './sql/index.js';

/** Which events to keep; an empty or missing list keeps all. */
export interface EventFilter {
  kinds?: readonly EventKind[];
  users?: readonly string[];
  databases?: readonly string[];
  /** Keep only statements that succeeded on the primary (ok === true). */
  okOnly?: boolean;
}

export interface ClassifyStats {
  /** Statements after splitting multi-statement records. */
  events: number;
  selected: number;
  filteredOut: number;
}

/**
 * Turns records into AuditEvents: splits a record that holds several statements into
 * `<id>#1`, `<id>#2`…, classifies and fingerprints each, and applies the filter.
 * Fingerprint ids are cached because a workload has far fewer shapes than statements.
 */
export async function* classifyEvents(
  input: AsyncIterable<BaseEvent[]>,
  filter: EventFilter,
  stats: ClassifyStats,
): AsyncGenerator<AuditEvent[]> {
  const kinds = filter.kinds?.length ? new Set(filter.kinds) : null;
  const users = filter.users?.length ? new Set(filter.users) : null;
  const databases = filter.databases?.length ? new Set(filter.databases) : null;
  const idCache = new Map<string, string>();
  const idOf = (fp: string): string => {
    let id = idCache.get(fp);
    if (id === undefined) {
      if (idCache.size >= 10_000) idCache.clear();
      id = fingerprintId(fp);
      idCache.set(fp, id);
    }
    return id;
  };

  for await (const batch of input) {
    const out: AuditEvent[] = [];
    for (const e of batch) {
      if (filter.okOnly && e.ok !== true) {
        stats.events++;
        stats.filteredOut++;
        continue;
      }
      if ((users && !users.has(e.user ?? '')) || (databases && !databases.has(e.database ?? ''))) {
        stats.events++;
        stats.filteredOut++;
        continue;
      }
      const parts = splitStatements(e.statement);
      const many = parts.length > 1;
      // An empty record still becomes one (unknown) event: dropping it would lose a line without a trace.
      const statements = parts.length === 0 ? [e.statement] : parts;
      for (let i = 0; i < statements.length; i++) {
        stats.events++;
        const statement = statements[i]!;
        const a = analyzeStatement(statement);
        if (kinds && !kinds.has(a.kind)) {
          stats.filteredOut++;
          continue;
        }
        stats.selected++;
        out.push(toAuditEvent(e, many ? `${e.id}#${i + 1}` : e.id, statement, a.kind, a.command, a.fingerprint, idOf(a.fingerprint)));
      }
    }
    if (out.length > 0) yield out;
  }
}

/** Builds the event with its fields in the documented order, so every JSONL line reads alike. */
function toAuditEvent(
  e: BaseEvent,
  id: string,
  statement: string,
  kind: EventKind,
  command: string,
  fingerprint: string,
  fpId: string,
): AuditEvent {
  const event: AuditEvent = {
    id,
    ts: e.ts,
    end: e.end,
    durationMs: e.durationMs,
    user: e.user,
    database: e.database,
    session: e.session,
    client: e.client,
    statement,
    ok: e.ok,
    error: e.error,
    kind,
    command,
    fingerprint,
    fingerprintId: fpId,
    source: e.source,
  };
  if (e.extra !== undefined) event.extra = e.extra;
  return event;
}
