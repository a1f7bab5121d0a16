import { createHash } from 'node:crypto';
import type { AuditEvent, EventKind } from '../../core/audit-event.js';
import { TokenBuffer, T_EOF } from '../../extract/sql/lexer.js';
import { databaseOf, mapName, type NameMaps } from '../name-map.js';
import { makeDclGuard, type DclGuardOptions } from './dcl-guard.js';
import { makeObjectFilter, type ObjectFilterOptions } from './object-filter.js';
import { EMPTY_CONTEXT, nextContext, type SessionContext } from './session-context.js';
import { rewriteNames } from './statement-rewrite.js';
import { runsOutsideTransaction } from './transaction-rules.js';

/**
 * What sync does with one statement. `apply` may still turn out to be in the ledger
 * already; the runner decides that, the plan only looks at the log and the flags.
 */
export type PlanAction = 'apply' | 'failed-on-primary' | 'filtered' | 'refused' | 'incomplete';

export interface PlanItem {
  event: AuditEvent;
  action: PlanAction;
  /** Why a statement is not applied, for the dry-run and the rejects. */
  reason: string | null;
  /** The statement as it will run: names mapped. May hold secrets: print `redactSecrets(sql)`. */
  sql: string;
  /** The rewrites made, e.g. "schema sales -> sales_v2". */
  changes: string[];
  /** The secondary's database the statement runs in. */
  database: string;
  /** The user the statement runs as on the secondary (mapped), when it can switch user. */
  user: string | null;
  /** Session context, names mapped, replayed before the statement. */
  context: SessionContext;
  nonTransactional: boolean;
  /** SHA-256 of the statement as applied: the ledger keeps it to spot an id whose text changed. */
  statementHash: string;
}

export interface PlanOptions {
  /** Kinds applied (default ddl, dcl). */
  kinds?: readonly EventKind[];
  maps: NameMaps;
  objects?: ObjectFilterOptions;
  guard?: DclGuardOptions;
  /** The target's database: where every statement runs when `routeByDatabase` is off. */
  defaultDatabase: string;
  /** Run each statement in the database its record names (PostgreSQL logs on a multi-database target). */
  routeByDatabase: boolean;
  /** Sessions whose context is kept (default 100,000; the least recently seen is forgotten first). */
  maxSessions?: number;
}

export interface PlanCounts {
  /** Statements by kind that sync does not apply (queries, DML, ...). */
  notApplied: Partial<Record<EventKind, number>>;
  /** Session statements read for context. */
  context: number;
}

const DEFAULT_KINDS: readonly EventKind[] = ['ddl', 'dcl'];

/**
 * Turns the ordered events of a window into plan items: keeps each session's context,
 * maps names, applies the object filter and the DCL guard. Events of kinds sync does not
 * apply are only counted (they would drown the plan).
 */
export class SyncPlanner {
  readonly counts: PlanCounts = { notApplied: {}, context: 0 };
  private readonly kinds: ReadonlySet<EventKind>;
  private readonly sessions = new Map<string, SessionContext>();
  private readonly filter: ReturnType<typeof makeObjectFilter>;
  private readonly guard: ReturnType<typeof makeDclGuard>;
  private readonly maxSessions: number;

  constructor(private readonly options: PlanOptions) {
    this.kinds = new Set(options.kinds ?? DEFAULT_KINDS);
    this.filter = makeObjectFilter(options.objects ?? {});
    this.guard = makeDclGuard(options.guard ?? {});
    this.maxSessions = options.maxSessions ?? 100_000;
  }

  /** The plan item for an event, or null when the event is context or a kind sync does not apply. */
  plan(event: AuditEvent): PlanItem | null {
    const key = event.session ?? '';
    if (event.kind === 'session') {
      if (event.ok !== false && !this.kinds.has('session')) {
        this.counts.context++;
        this.remember(key, nextContext(this.contextOf(key), event.statement));
        return null;
      }
    }
    if (!this.kinds.has(event.kind)) {
      this.counts.notApplied[event.kind] = (this.counts.notApplied[event.kind] ?? 0) + 1;
      return null;
    }
    const raw = this.contextOf(key);
    const { maps } = this.options;
    const rewrite = rewriteNames(event.statement, maps);
    const context = mapContext(raw, maps);
    const login = raw.sessionUser ?? event.user;
    const item: PlanItem = {
      event,
      action: 'apply',
      reason: null,
      sql: rewrite.sql,
      changes: rewrite.changes,
      database: this.databaseOf(event),
      user: login === null ? null : mapName(maps.role, login),
      context,
      nonTransactional: runsOutsideTransaction(rewrite.sql),
      statementHash: createHash('sha256').update(rewrite.sql).digest('hex'),
    };
    if (event.ok === false) {
      return { ...item, action: 'failed-on-primary', reason: `failed on the primary${event.error ? `: ${event.error}` : ''}` };
    }
    const decision = this.filter(event.statement, raw.searchPath === null ? undefined : raw.searchPathSchemas);
    if (!decision.keep) return { ...item, action: 'filtered', reason: decision.reason };
    const guard = this.guard(event.statement);
    if (!guard.ok) return { ...item, action: 'refused', reason: guard.reason };
    // Sent in one script with others, an open quote would swallow the statements after it.
    if (unterminated(rewrite.sql)) {
      return { ...item, action: 'incomplete', reason: 'the statement text is incomplete (an unterminated quote or comment): was the log line cut?' };
    }
    return item;
  }

  private databaseOf(event: AuditEvent): string {
    return databaseOf(event, this.options.routeByDatabase, this.options.maps.database, this.options.defaultDatabase);
  }

  private contextOf(session: string): SessionContext {
    return this.sessions.get(session) ?? EMPTY_CONTEXT;
  }

  private remember(session: string, context: SessionContext): void {
    // Re-inserting moves the session to the end: the first key is the least recently seen.
    this.sessions.delete(session);
    if (context !== EMPTY_CONTEXT) this.sessions.set(session, context);
    if (this.sessions.size > this.maxSessions) this.sessions.delete(this.sessions.keys().next().value!);
  }
}

/** The context with the secondary's names; the search path's schema list stays the primary's (filters use it). */
function mapContext(c: SessionContext, maps: NameMaps): SessionContext {
  if (c === EMPTY_CONTEXT) return c;
  return {
    searchPath: c.searchPath === null ? null : rewriteNames(c.searchPath, maps).sql,
    searchPathSchemas: c.searchPathSchemas,
    role: c.role === null ? null : mapName(maps.role, c.role),
    sessionUser: c.sessionUser === null ? null : mapName(maps.role, c.sessionUser),
  };
}

const lexer = new TokenBuffer();

function unterminated(sql: string): boolean {
  lexer.reset(sql);
  for (let i = 0; lexer.t(i) !== T_EOF; i++);
  return lexer.unterminated;
}
