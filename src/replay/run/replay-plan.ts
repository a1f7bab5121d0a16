import type { AuditEvent, EventKind } from '../../core/audit-event.js';
import { mapName } from '../name-map.js';
import { quoteIdent } from '../sync/sql-names.js';
import { bindParameters, parseParameters } from './bind-parameters.js';

/**
 * How a session-kind statement changes what a session carries from statement to
 * statement, so the same context can be set up again when the session moves to another
 * pooled connection: `set` keeps the statement under a key (the last one per key wins),
 * `reset` forgets a key (or every key with a prefix), `reset-all` forgets everything.
 */
export type ContextEffect =
  | { op: 'set'; key: string; statement: string }
  | { op: 'reset'; key: string; prefix?: boolean }
  | { op: 'reset-all' };

export type ReplayDecision =
  | { action: 'execute'; statement: string; context: ContextEffect | null; sticky: boolean }
  /** Not replayed: a write without --allow-writes. */
  | { action: 'skip'; kind: EventKind }
  /** Not replayed: it would switch the session out of read-only mode. */
  | { action: 'refuse'; reason: string };

export interface ReplayPolicy {
  /** Replay every kind (default false: only queries, with session and transaction statements as their context). */
  allowWrites: boolean;
  /** Roles renamed on the secondary (`--user-map`), applied to SET ROLE and SET SESSION AUTHORIZATION. */
  userMap: ReadonlyMap<string, string>;
}

/** Kinds replayed without --allow-writes: reads, and what sets up the session and transactions around them. */
const READ_KINDS: ReadonlySet<EventKind> = new Set(['query', 'session', 'tcl']);

/** Text that could turn the server's read-only default off: SET, set_config(), BEGIN/SET TRANSACTION READ WRITE. */
const READ_WRITE_SWITCH = /transaction_read_only|\bread\s+write\b/i;

const LEADING_COMMENTS = /^(\s*(--[^\n]*(\n|$)|\/\*[\s\S]*?\*\/))*\s*/;

/**
 * What replay does with one logged statement. Read-only mode (the default) runs queries
 * and the session and transaction statements around them, skips every other kind, and
 * refuses a statement that would switch read-only off; the server's
 * `default_transaction_read_only` stays the real guard against a write hidden in a query.
 */
export function decide(event: AuditEvent, policy: ReplayPolicy): ReplayDecision {
  if (!policy.allowWrites) {
    if (!READ_KINDS.has(event.kind)) return { action: 'skip', kind: event.kind };
    if (READ_WRITE_SWITCH.test(event.statement)) {
      return { action: 'refuse', reason: 'it could switch the session out of read-only mode (give --allow-writes to replay writes)' };
    }
  }
  let statement = withParameters(event);
  let context: ContextEffect | null = null;
  if (event.kind === 'session') {
    statement = mapRoleNames(statement, policy.userMap);
    context = contextEffect(statement);
  }
  return { action: 'execute', statement, context, sticky: holdsConnection(event) };
}

/** The statement with the bind parameters its record logged put in place (PostgreSQL's `parameters:` detail). */
function withParameters(event: AuditEvent): string {
  const detail = event.extra?.parameters;
  if (typeof detail !== 'string') return event.statement;
  const values = parseParameters(detail);
  return (values && bindParameters(event.statement, values)) ?? event.statement;
}

/** The statement's effect on the session's context; null for one that leaves none (SET LOCAL, DISCARD PLANS). */
export function contextEffect(statement: string): ContextEffect | null {
  const text = statement.replace(LEADING_COMMENTS, '').replace(/;\s*$/, '');
  let m: RegExpExecArray | null;
  if (/^(RESET\s+ALL|DISCARD\s+ALL)\b/i.test(text)) return { op: 'reset-all' };
  if (/^DISCARD\b/i.test(text) || /^SET\s+LOCAL\b/i.test(text) || /^SET\s+TRANSACTION\b/i.test(text)) return null;
  if (/^SET\s+(SESSION\s+)?ROLE\b/i.test(text)) return { op: 'set', key: 'role', statement };
  if (/^SET\s+(SESSION\s+)?SESSION\s+AUTHORIZATION\b/i.test(text)) return { op: 'set', key: 'session_authorization', statement };
  if (/^SET\s+(SESSION\s+)?TIME\s+ZONE\b/i.test(text)) return { op: 'set', key: 'timezone', statement };
  if (/^SET\s+(SESSION\s+)?SCHEMA\b/i.test(text)) return { op: 'set', key: 'search_path', statement };
  if (/^SET\s+(SESSION\s+)?NAMES\b/i.test(text)) return { op: 'set', key: 'client_encoding', statement };
  if ((m = /^SET\s+(?:SESSION\s+)?("(?:[^"]|"")+"|[\w.$]+)/i.exec(text))) return { op: 'set', key: settingKey(m[1]!), statement };
  if (/^RESET\s+ROLE\b/i.test(text)) return { op: 'reset', key: 'role' };
  if (/^RESET\s+SESSION\s+AUTHORIZATION\b/i.test(text)) return { op: 'reset', key: 'session_authorization' };
  if (/^RESET\s+TIME\s+ZONE\b/i.test(text)) return { op: 'reset', key: 'timezone' };
  if ((m = /^RESET\s+("(?:[^"]|"")+"|[\w.$]+)/i.exec(text))) return { op: 'reset', key: settingKey(m[1]!) };
  if ((m = /^PREPARE\s+("(?:[^"]|"")+"|[\w$]+)/i.exec(text))) return { op: 'set', key: `prepare:${settingKey(m[1]!)}`, statement };
  if (/^DEALLOCATE\s+(PREPARE\s+)?ALL\b/i.test(text)) return { op: 'reset', key: 'prepare:', prefix: true };
  if ((m = /^DEALLOCATE\s+(?:PREPARE\s+)?("(?:[^"]|"")+"|[\w$]+)/i.exec(text))) return { op: 'reset', key: `prepare:${settingKey(m[1]!)}` };
  // Anything else of the session kind (Hive USE, ADD JAR, CLOSE ...) is kept as it was said.
  return { op: 'set', key: `text:${text}`, statement };
}

function settingKey(name: string): string {
  return name.startsWith('"') ? name.slice(1, -1).replace(/""/g, '"') : name.toLowerCase();
}

/** `SET ROLE alice` with alice renamed by --user-map. */
function mapRoleNames(statement: string, userMap: ReadonlyMap<string, string>): string {
  if (userMap.size === 0) return statement;
  return statement.replace(
    /^((?:\s*(?:--[^\n]*\n|\/\*[\s\S]*?\*\/))*\s*SET\s+(?:SESSION\s+)?(?:ROLE|SESSION\s+AUTHORIZATION)\s+)("(?:[^"]|"")+"|'[^']*'|[\w$]+)/i,
    (all, head: string, name: string) => {
      const bare = name.startsWith('"') ? name.slice(1, -1).replace(/""/g, '"') : name.startsWith("'") ? name.slice(1, -1) : name.toLowerCase();
      if (/^(none|default)$/i.test(name)) return all;
      const mapped = mapName(userMap, bare);
      return mapped === bare ? all : `${head}${quoteIdent(mapped)}`;
    },
  );
}

/**
 * Whether a statement leaves state on its connection that later statements of the
 * session need and that cannot be set up again elsewhere: temporary objects, cursors
 * held past their transaction, LISTEN, session advisory locks. Such a session keeps its
 * connection to the end.
 */
function holdsConnection(event: AuditEvent): boolean {
  const s = event.statement;
  return (
    (event.kind === 'ddl' && /^\s*CREATE\s+(GLOBAL\s+|LOCAL\s+)?(TEMP|TEMPORARY)\b/i.test(s.replace(LEADING_COMMENTS, ''))) ||
    /\bWITH\s+HOLD\b/i.test(s) ||
    /^\s*LISTEN\b/i.test(s.replace(LEADING_COMMENTS, '')) ||
    /\bpg_(try_)?advisory_lock(_shared)?\s*\(/i.test(s)
  );
}
