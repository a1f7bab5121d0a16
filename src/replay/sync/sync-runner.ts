import { AuditReplayError } from '../../core/errors.js';
import { failpoint } from '../../core/failpoint.js';
import { DEFAULT_RETRY, withRetry, type RetryPolicy } from '../../core/retry.js';
import { formatTime } from '../../core/time.js';
import type { RejectLog } from '../../ingest/reject-log.js';
import type { Target, TargetSession } from '../target.js';
import {
  checkpointSql,
  ensureLedger,
  forgetSql,
  ledgerExists,
  lookupLedger,
  readCheckpoint,
  recordSql,
  type Checkpoint,
  type LedgerEntry,
  type LedgerRow,
} from './ledger.js';
import { redactSecrets } from './redact-secrets.js';
import { quoteLiteral } from './sql-names.js';
import { quoteIdent } from './sql-names.js';
import type { PlanItem } from './sync-plan.js';
import { catalogCheck, cleanupBeforeRetry } from './transaction-rules.js';

export type OnError = 'stop' | 'skip';

export interface SyncRunOptions {
  target: Target;
  /** The ledger's name for the source: the same source must keep the same name night after night. */
  source: string;
  runId: string;
  /** Statements per transaction (default 100). */
  batchSize?: number;
  /** `stop` (default) halts at a statement that fails on the secondary; `skip` records it and goes on. */
  onError?: OnError;
  /** Print the plan, read the ledger, change nothing. */
  dryRun?: boolean;
  rejects: RejectLog;
  /** How often a dropped connection is retried (default: the shared policy, 6 tries). */
  retry?: RetryPolicy;
  /**
   * Stops the run gracefully (SIGTERM, SIGINT): the statement or batch in flight finishes
   * and commits with its ledger rows and checkpoint, nothing new starts, and `run` throws
   * the signal's reason. Past `drainTimeoutMs` the statement in flight is cancelled and
   * its transaction rolled back.
   */
  signal?: AbortSignal;
  /** How long the statement in flight may run after the signal before it is cancelled (default 20 s). */
  drainTimeoutMs?: number;
  /** Warnings and notices, one line each (stderr in the CLI), with fields for machines. */
  log: (line: string, fields?: Record<string, unknown>) => void;
  /** Dry-run plan lines (stdout in the CLI). */
  print: (line: string) => void;
}

export interface SyncStats {
  /** Statements of the window sync would apply (before the ledger is consulted). */
  planned: number;
  applied: number;
  /** Found in the ledger: applied by an earlier run. */
  alreadyApplied: number;
  /** Found in the ledger as skipped by an earlier run under --on-error skip. */
  skippedEarlier: number;
  /** Failed on the secondary and skipped (--on-error skip); in the rejects. */
  failed: number;
  refused: number;
  filtered: number;
  failedOnPrimary: number;
  nonTransactional: number;
  transactions: number;
  /** Batches that failed and were re-applied one statement at a time. */
  isolations: number;
  retries: number;
  checkpoint: Checkpoint | null;
  /** Statements that failed on the secondary, by SQLSTATE (`none` when the error had none). */
  errorsBySqlState: Record<string, number>;
  /** Where an `--on-error stop` run halted: the statement that failed. */
  haltedAt: { id: string; object: string; line: number; sqlState: string | null; error: string } | null;
}

/** The advisory lock key of `auditreplay sync` (a fixed 64-bit number: hashtext would differ across versions). */
const LOCK_KEY = '7411906214011337';
const SHOWN_STATEMENT = 160;

/**
 * Applies plan items to the target in order, exactly once: per database, batches of
 * statements commit together with their ledger rows; a failed batch is rolled back and
 * re-applied one statement at a time to find the culprit; statements that cannot run in
 * a transaction run alone between a `pending` ledger row and its confirmation. A dropped
 * connection is retried with the shared policy and the ledger decides what is left.
 */
export class SyncRunner {
  readonly stats: SyncStats = {
    planned: 0,
    applied: 0,
    alreadyApplied: 0,
    skippedEarlier: 0,
    failed: 0,
    refused: 0,
    filtered: 0,
    failedOnPrimary: 0,
    nonTransactional: 0,
    transactions: 0,
    isolations: 0,
    retries: 0,
    checkpoint: null,
    errorsBySqlState: {},
    haltedAt: null,
  };
  private readonly sessions = new Map<string, TargetSession>();
  private lockSession: TargetSession | null = null;
  /** How the runner becomes the original user: as superuser, as a member role, or not at all. */
  private switchUser: 'session-authorization' | 'role' | 'none' = 'none';
  private self = '';
  private pending: PlanItem[] = [];
  private readonly batchSize: number;
  private readonly onError: OnError;
  private readonly warned = new Set<string>();
  /** Dry-run: databases without a ledger yet (nothing applied there), found once per session. */
  private readonly noLedger = new Set<string>();
  /** The session whose statement or batch is in flight: what the drain timeout cancels. */
  private applying: TargetSession | null = null;
  private drainTimer: NodeJS.Timeout | null = null;

  constructor(private readonly o: SyncRunOptions) {
    this.batchSize = o.batchSize ?? 100;
    this.onError = o.onError ?? 'stop';
    o.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  private readonly onAbort = (): void => {
    const ms = this.o.drainTimeoutMs ?? 20_000;
    if (this.applying) {
      this.o.log(`sync: stopping: the statement in flight may finish for ${(ms / 1000).toFixed(1)} s, then it is cancelled and rolled back`, { drainTimeoutMs: ms });
    }
    this.drainTimer = setTimeout(() => this.applying?.cancel(), ms);
    this.drainTimer.unref();
  };

  /**
   * Takes the target's sync lock (not in a dry-run), creates the ledger, reads the
   * checkpoint and works out how statements can run as their original users.
   * Resolves to the checkpoint (null on the first run).
   */
  async prepare(): Promise<Checkpoint | null> {
    const { target } = this.o;
    if (!this.o.dryRun && target.capabilities.advisoryLocks) await this.lock();
    const main = await this.session(target.database);
    if (this.noLedger.has(main.database)) return null;
    const who = await main.query<{ me: string; su: boolean }>(
      'SELECT current_user::text AS me, coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = current_user), false) AS su',
    );
    this.self = who.rows[0]!.me;
    if (who.rows[0]!.su) {
      this.switchUser = 'session-authorization';
    } else {
      this.switchUser = 'role';
      this.warnOnce(
        'switch',
        `sync connects as '${this.self}', which is not a superuser: each statement runs with SET ROLE <original user> where '${this.self}' is a member of that role, otherwise as '${this.self}', so owners may differ from the primary's (verify shows it)`,
      );
    }
    this.stats.checkpoint = await readCheckpoint(main, this.o.source);
    return this.stats.checkpoint;
  }

  /** Applies (or, in a dry-run, prints) the items in order. */
  async run(items: AsyncIterable<PlanItem[]>): Promise<void> {
    for await (const batch of items) {
      for (const item of batch) await this.add(item);
    }
    await this.flush();
  }

  /** Releases the lock and every session. */
  async close(): Promise<void> {
    this.o.signal?.removeEventListener('abort', this.onAbort);
    if (this.drainTimer) clearTimeout(this.drainTimer);
    await Promise.allSettled([...this.sessions.values(), ...(this.lockSession ? [this.lockSession] : [])].map((s) => s.close()));
    this.sessions.clear();
    this.lockSession = null;
  }

  private async add(item: PlanItem): Promise<void> {
    this.o.signal?.throwIfAborted();
    if (item.action !== 'apply') return this.notApplied(item);
    this.stats.planned++;
    if (item.nonTransactional) {
      await this.flush();
      this.stats.nonTransactional++;
      await this.withReconnect(() => this.applyAlone(item));
      return;
    }
    const open = this.pending[0];
    if (open && (open.database !== item.database || this.pending.length >= this.batchSize)) await this.flush();
    this.pending.push(item);
  }

  private notApplied(item: PlanItem): void {
    if (item.action === 'filtered') this.stats.filtered++;
    else if (item.action === 'failed-on-primary') this.stats.failedOnPrimary++;
    else if (item.action === 'refused') {
      this.stats.refused++;
      this.reject(item, 'refused', `refused by the DCL guard: ${item.reason}`);
    } else if (item.action === 'incomplete') {
      this.stats.refused++;
      this.reject(item, 'incomplete-statement', item.reason ?? 'incomplete statement');
    }
    this.printItem(item.action === 'failed-on-primary' ? 'failed' : item.action, item, item.reason);
  }

  /** Applies the open batch: one transaction, or one per statement when it fails. */
  private async flush(): Promise<void> {
    const items = this.pending;
    if (items.length === 0) return;
    // Stopped: statements not yet sent stay for the next run (the checkpoint is before them).
    this.o.signal?.throwIfAborted();
    this.pending = [];
    await this.withReconnect(async () => {
      const session = await this.sessionOrFail(items);
      if (!session) return;
      const todo = await this.notInLedger(session, items);
      if (this.o.dryRun || todo.length === 0) return;
      this.o.signal?.throwIfAborted();
      try {
        failpoint('sync.before-commit');
        await this.apply(session, this.script(todo));
        this.stats.transactions++;
        this.stats.applied += todo.length;
        failpoint('sync.after-commit');
      } catch (err) {
        statementFailure(err);
        await session.exec('ROLLBACK');
        // Cancelled by the drain timeout (or failing while stopping): the batch is rolled back whole, for the next run.
        this.o.signal?.throwIfAborted();
        this.stats.isolations++;
        await this.isolate(session, todo);
        return;
      }
      await this.checkpoint(todo[todo.length - 1]!);
    });
  }

  /** Runs a script that applies statements, as what the drain timeout cancels. */
  private async apply(session: TargetSession, script: string): Promise<void> {
    this.applying = session;
    try {
      await session.exec(script);
    } finally {
      this.applying = null;
    }
  }

  /** Re-applies a failed batch one statement per transaction, to find and handle the one that fails. */
  private async isolate(session: TargetSession, items: PlanItem[]): Promise<void> {
    let last: PlanItem | null = null;
    for (const item of items) {
      if (this.o.signal?.aborted) break;
      try {
        await this.apply(session, this.script([item]));
        this.stats.transactions++;
        this.stats.applied++;
        last = item;
      } catch (err) {
        const failure = statementFailure(err);
        await session.exec('ROLLBACK');
        if (this.o.signal?.aborted) break;
        if (last) await this.checkpoint(last);
        await this.failed(session, item, failure);
        last = item;
      }
    }
    if (last) await this.checkpoint(last);
    this.o.signal?.throwIfAborted();
  }

  /**
   * A statement that cannot run in a transaction block: a `pending` ledger row first,
   * then the statement alone, then the row confirmed. After a crash in between, the
   * catalog says whether it took effect.
   */
  private async applyAlone(item: PlanItem): Promise<void> {
    const session = await this.sessionOrFail([item]);
    if (!session) return;
    const found = (await this.ledgerRows(session, [item])).get(item.event.id);
    if (found && found.status !== 'pending') return this.seen(item, found);
    if (this.o.dryRun) {
      this.printItem(found ? 'check' : 'apply', item, found ? 'interrupted earlier: the catalog decides' : 'runs alone, outside a transaction');
      return;
    }
    this.o.signal?.throwIfAborted();
    const { source, runId } = this.o;
    if (found) {
      const check = catalogCheck(item.sql);
      if (check) {
        const res = await session.query<{ present: boolean }>(check.sql, check.params);
        if (res.rows[0]?.present === check.appliedWhen) {
          await session.exec(recordSql(source, runId, this.entry(item, 'applied'), null));
          this.stats.applied++;
          this.o.log(`sync: ${item.event.id} was interrupted by a crash after it ran (${check.what}); recorded as applied`);
          await this.checkpoint(item);
          return;
        }
      }
      const cleanup = cleanupBeforeRetry(item.sql);
      if (cleanup) await session.exec(`${this.asUser(item)}${cleanup};\n${this.asSelf()}`);
    } else {
      await session.exec(recordSql(source, runId, this.entry(item, 'pending'), null));
    }
    failpoint('sync.alone-pending');
    const started = performance.now();
    try {
      await session.exec(this.asUser(item));
      await this.apply(session, item.sql);
    } catch (err) {
      const failure = statementFailure(err);
      await session.exec(this.asSelf());
      // Cancelled while stopping: the pending row stays, so the next run asks the catalog and cleans up first.
      this.o.signal?.throwIfAborted();
      await session.exec(forgetSql(source, item.event.id));
      await this.failed(session, item, failure);
      await this.checkpoint(item);
      return;
    }
    failpoint('sync.alone-executed');
    const ms = performance.now() - started;
    await session.exec(this.asSelf() + recordSql(source, runId, this.entry(item, 'applied'), `interval '${ms.toFixed(3)} milliseconds'`));
    this.stats.transactions++;
    this.stats.applied++;
    await this.checkpoint(item);
  }

  /** The items not yet in the ledger; the others are counted and, in a dry-run, printed. */
  private async notInLedger(session: TargetSession, items: PlanItem[]): Promise<PlanItem[]> {
    const rows = await this.ledgerRows(session, items);
    const todo: PlanItem[] = [];
    for (const item of items) {
      const row = rows.get(item.event.id);
      if (row) this.seen(item, row);
      else {
        todo.push(item);
        if (this.o.dryRun) this.printItem('apply', item, null);
      }
    }
    return todo;
  }

  private async ledgerRows(session: TargetSession, items: PlanItem[]): Promise<Map<string, LedgerRow>> {
    if (this.noLedger.has(session.database)) return new Map();
    return lookupLedger(
      session,
      this.o.source,
      items.map((i) => i.event.id),
    );
  }

  private seen(item: PlanItem, row: LedgerRow): void {
    if (row.status === 'skipped') this.stats.skippedEarlier++;
    else this.stats.alreadyApplied++;
    if (row.statementHash !== item.statementHash) {
      this.warnOnce(
        'hash',
        `sync: ${item.event.id} is in the ledger with a different statement text (changed mapping flags?); it is not applied again`,
      );
    }
    this.printItem(row.status === 'skipped' ? 'skipped' : 'applied', item, row.status === 'skipped' ? 'skipped by an earlier run' : 'in the ledger');
  }

  /** One transaction: each statement with its context, then the ledger rows, as one script in one round trip. */
  private script(items: PlanItem[]): string {
    const parts: string[] = ['BEGIN;'];
    const state = initialState();
    items.forEach((item, k) => {
      parts.push(...this.contextSql(state, item), stamp(k), item.sql, ';');
    });
    parts.push(stamp(items.length), this.asSelf());
    items.forEach((item, k) => {
      parts.push(recordSql(this.o.source, this.o.runId, this.entry(item, 'applied'), `current_setting('auditreplay.t${k + 1}')::timestamptz - current_setting('auditreplay.t${k}')::timestamptz`));
    });
    parts.push('COMMIT;');
    return parts.join('\n');
  }

  /**
   * SQL that takes a session from `state` (the sync user's own context at first) to the
   * context `item` runs in, emitting only what changes; `state` is updated.
   */
  private contextSql(state: ContextState, item: PlanItem): string[] {
    const parts: string[] = [];
    if (item.user !== state.user) {
      if (state.role !== null) parts.push('RESET ROLE;');
      parts.push(this.switchTo(item.user));
      state.user = item.user;
      state.role = null;
    }
    if (item.context.role !== state.role) {
      parts.push(item.context.role === null ? 'RESET ROLE;' : `SET ROLE ${quoteIdent(item.context.role)};`);
      state.role = item.context.role;
    }
    if (item.context.searchPath !== state.searchPath) {
      parts.push(item.context.searchPath === null ? 'SET search_path TO DEFAULT;' : `${item.context.searchPath};`);
      state.searchPath = item.context.searchPath;
    }
    return parts;
  }

  /**
   * SQL that makes the following statements run as `user`, when the role exists and the
   * sync user may become it. Session-level: inside a transaction a rollback undoes it,
   * and `asSelf` undoes it after every script.
   */
  private switchTo(user: string | null): string {
    if (user === null || this.switchUser === 'none') return '';
    const name = quoteLiteral(user);
    if (this.switchUser === 'session-authorization') {
      return `SELECT CASE WHEN EXISTS (SELECT FROM pg_roles WHERE rolname = ${name}) THEN set_config('session_authorization', ${name}, false) END;`;
    }
    return `SELECT CASE WHEN EXISTS (SELECT FROM pg_roles WHERE rolname = ${name}) AND pg_has_role(session_user, ${name}, 'MEMBER') THEN set_config('role', ${name}, false) END;`;
  }

  /** The whole context of `item`, from the sync user's own. */
  private asUser(item: PlanItem): string {
    return this.contextSql(initialState(), item).join('\n');
  }

  /** Back to the sync user and the default path: the ledger is written as ourselves. */
  private asSelf(): string {
    const back = this.switchUser === 'session-authorization' ? `SET SESSION AUTHORIZATION ${quoteIdent(this.self)};` : '';
    return `RESET ROLE;\n${back}\nSET search_path TO DEFAULT;\n`;
  }

  private entry(item: PlanItem, status: LedgerEntry['status'], err?: AuditReplayError): LedgerEntry {
    return {
      id: item.event.id,
      ts: item.event.ts,
      fingerprintId: item.event.fingerprintId,
      statementHash: item.statementHash,
      status,
      sqlState: err?.sqlState ?? null,
      error: err ? err.message : null,
    };
  }

  /** A statement failed on the secondary: halt (stop) or record it and go on (skip). */
  private async failed(session: TargetSession | null, item: PlanItem, err: AuditReplayError): Promise<void> {
    const e = item.event;
    const code = err.sqlState ?? 'none';
    this.stats.errorsBySqlState[code] = (this.stats.errorsBySqlState[code] ?? 0) + 1;
    if (this.onError === 'stop') {
      const at = this.stats.checkpoint;
      this.stats.haltedAt = { id: e.id, object: e.source.object, line: e.source.line, sqlState: err.sqlState ?? null, error: err.message };
      throw new AuditReplayError(
        'sync-halted',
        [
          'sync halted: a statement failed on the secondary (--on-error stop)',
          `  id:        ${e.id}`,
          `  from:      ${e.source.object} line ${e.source.line}`,
          `  primary:   ${formatTime(e.ts)} by ${e.user ?? '?'} in ${e.database ?? '?'}`,
          `  target:    database ${item.database}${item.user ? ` as ${item.user}` : ''}`,
          `  SQLSTATE:  ${err.sqlState ?? 'none'}`,
          `  error:     ${err.message}`,
          `  statement: ${shown(item.sql, 2000)}`,
          at ? `The checkpoint is at the statement before it (${formatTime(at.ts)}, id ${at.id}).` : 'Nothing of this source has been applied yet.',
          'Fix the secondary and rerun, or rerun with --on-error skip to record it in the rejects and go on.',
        ].join('\n'),
        { cause: err, ...(err.sqlState ? { sqlState: err.sqlState } : {}) },
      );
    }
    this.stats.failed++;
    this.reject(item, 'target-error', `failed on the secondary (SQLSTATE ${err.sqlState ?? 'none'}): ${err.message}`);
    if (session) await session.exec(recordSql(this.o.source, this.o.runId, this.entry(item, 'skipped', err), null));
    this.o.log(`sync: skipped ${e.id} (${e.source.object}:${e.source.line}): SQLSTATE ${err.sqlState ?? 'none'}: ${err.message}`, {
      id: e.id,
      object: e.source.object,
      line: e.source.line,
      sqlState: err.sqlState ?? null,
    });
  }

  private reject(item: PlanItem, reason: 'target-error' | 'refused' | 'incomplete-statement', message: string): void {
    this.o.rejects.add(
      { reason, message, object: item.event.source.object, line: item.event.source.line, format: item.event.source.format },
      JSON.stringify({ id: item.event.id, ts: item.event.ts, user: item.event.user, database: item.database, statement: redactSecrets(item.sql) }),
    );
  }

  private async checkpoint(item: PlanItem): Promise<void> {
    const at = { ts: item.event.ts, id: item.event.id };
    const main = await this.session(this.o.target.database);
    await main.exec(checkpointSql(this.o.source, this.o.runId, at));
    this.stats.checkpoint = at;
    failpoint('sync.after-checkpoint');
  }

  /** The session of a database, or null after handling its items as failed when the database does not exist. */
  private async sessionOrFail(items: PlanItem[]): Promise<TargetSession | null> {
    try {
      return await this.session(items[0]!.database);
    } catch (err) {
      if (!(err instanceof AuditReplayError) || err.sqlState !== '3D000') throw err;
      if (this.o.dryRun) {
        for (const item of items) this.printItem('apply', item, `database ${item.database} does not exist on the secondary yet`);
        return null;
      }
      for (const item of items) await this.failed(null, item, err);
      return null;
    }
  }

  private async session(database: string): Promise<TargetSession> {
    const open = this.sessions.get(database);
    if (open?.alive) return open;
    if (open) {
      this.sessions.delete(database);
      await open.close();
    }
    if (this.lockSession && !this.lockSession.alive) await this.lock();
    const session = await this.o.target.connect({ database, ...(this.o.signal ? { signal: this.o.signal } : {}) });
    try {
      if (!this.o.dryRun) await ensureLedger(session);
      else {
        await session.exec('SET default_transaction_read_only = on');
        if (!(await ledgerExists(session))) this.noLedger.add(database);
      }
    } catch (err) {
      await session.close();
      throw err;
    }
    this.sessions.set(database, session);
    return session;
  }

  /** Takes the advisory lock on its own connection, so a dropped apply connection does not release it. */
  private async lock(): Promise<void> {
    await this.lockSession?.close();
    this.lockSession = null;
    const session = await this.o.target.connect();
    const res = await session.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(${LOCK_KEY}) AS ok`);
    if (res.rows[0]?.ok !== true) {
      const holder = await session
        .query<{ pid: number; app: string; since: string }>(
          `SELECT a.pid, a.application_name AS app, a.backend_start::text AS since FROM pg_locks l JOIN pg_stat_activity a USING (pid)
           WHERE l.locktype = 'advisory' AND l.granted AND (l.classid::bigint << 32 | l.objid::bigint) = ${LOCK_KEY}`,
        )
        .catch(() => ({ rows: [] }));
      await session.close();
      const h = holder.rows[0];
      throw new AuditReplayError(
        'target-busy',
        `another sync is running against ${this.o.target.url}${h ? ` (backend pid ${h.pid}, ${h.app}, connected since ${h.since})` : ''}; only one may run at a time`,
      );
    }
    this.lockSession = session;
  }

  private async withReconnect(op: () => Promise<void>): Promise<void> {
    await withRetry(op, {
      policy: this.o.retry ?? DEFAULT_RETRY,
      ...(this.o.signal ? { signal: this.o.signal } : {}),
      onRetry: (err, attempt, delayMs) => {
        this.stats.retries++;
        this.o.log(`sync: ${(err as Error).message}; reconnecting in ${delayMs} ms (retry ${attempt}); the ledger decides what is left`);
      },
    });
  }

  private printItem(action: string, item: PlanItem, note: string | null): void {
    if (!this.o.dryRun) return;
    const e = item.event;
    const who = item.user ?? '-';
    this.o.print(`${action.padEnd(8)} ${formatTime(e.ts)}  ${item.database}  ${who}  ${e.id}  ${shown(item.sql, SHOWN_STATEMENT)}${note ? `  -- ${note}` : ''}`);
    for (const change of item.changes) this.o.print(`${''.padEnd(8)} rewrite: ${change}`);
  }

  private warnOnce(key: string, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.o.log(message);
  }
}

/** What a session has been switched to: the user (undefined: not switched yet), SET ROLE and search path. */
interface ContextState {
  user: string | null | undefined;
  role: string | null;
  searchPath: string | null;
}

function initialState(): ContextState {
  return { user: undefined, role: null, searchPath: null };
}

/** A statement's own failure on the target, to isolate or report; anything else (a lost connection) is rethrown. */
function statementFailure(err: unknown): AuditReplayError {
  if (err instanceof AuditReplayError && err.code === 'target-failed') return err;
  throw err;
}

function stamp(k: number): string {
  return `SELECT set_config('auditreplay.t${k}', clock_timestamp()::text, true);`;
}

/** A statement for people: secrets redacted, whitespace folded, cut to `max` characters. */
function shown(sql: string, max: number): string {
  const s = redactSecrets(sql).replace(/\s+/g, ' ').trim();
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
