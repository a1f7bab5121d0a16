import type { AuditEvent } from '../../core/audit-event.js';
import type { ConnectionKey, ConnectionPool, PooledConnection } from './connection-pool.js';
import type { ContextEffect, ReplayDecision } from './replay-plan.js';
import { epochNow } from '../../core/time.js';

/** One statement due on a session. */
export interface ReplayItem {
  event: AuditEvent;
  decision: Extract<ReplayDecision, { action: 'execute' }>;
  /** Epoch ms. */
  scheduledAt: number;
}

/** What a session needs from the run it belongs to. */
export interface SessionHost {
  readonly pool: ConnectionPool;
  /** Set on SIGINT/SIGTERM: start nothing new, finish what runs. */
  readonly stopping: boolean;
  /** How long before a statement is due its session takes a connection (ms). */
  readonly connectLeadMs: number;
  /** Resolves at epoch ms `t` (at once when it has passed or the run is stopping). */
  sleepUntil(t: number): Promise<void>;
  /** Runs one statement on a connection and records its result; resolves whether it failed or not. */
  execute(connection: PooledConnection, item: ReplayItem): Promise<{ ok: boolean }>;
  /** Records a statement that could not be sent (no connection could be made for it). */
  fail(item: ReplayItem, err: unknown): Promise<void>;
  /** Runs the statements that set a connection up for a session (not recorded); a failure is reported once, not thrown. */
  prepare(connection: PooledConnection, script: string, reset: boolean, session: ReplaySession): Promise<void>;
  /** Called when the session's queue changed size (for the run's bounded read-ahead). */
  dequeued(count: number): void;
  /** Called when the session stops waiting for input while it holds a connection, or resumes. */
  holdingIdle(delta: 1 | -1): void;
}

/**
 * A session of the primary's log, replayed in its original order on a connection of
 * the pool. It holds a connection while a transaction is open or while it carries state
 * that cannot be moved (temporary objects, held cursors, LISTEN, advisory locks), and
 * otherwise gives it back after each statement. Its context (session settings, role,
 * prepared statements) is kept as the statements that made it, and set up again when it
 * gets a connection another session used last.
 */
export class ReplaySession {
  private readonly queue: ReplayItem[] = [];
  private wake: (() => void) | null = null;
  private ended = false;
  private connection: PooledConnection | null = null;
  /** Context statements by key, in the order they were made. */
  private readonly context = new Map<string, string>();
  private sticky = false;
  readonly done: Promise<void>;

  /**
   * @param setup statements that make any connection this session's, before its context (e.g. `SET ROLE alice` for --as-role)
   */
  constructor(
    readonly id: string,
    readonly key: ConnectionKey,
    private readonly host: SessionHost,
    private readonly setup: readonly string[],
  ) {
    this.done = this.work();
  }

  push(item: ReplayItem): void {
    this.queue.push(item);
    this.wake?.();
  }

  /** No more statements will come. */
  end(): void {
    this.ended = true;
    this.wake?.();
  }

  /** The next statement; synchronous when one is queued, so the busy path makes no promise. */
  private next(): ReplayItem | Promise<ReplayItem | null> {
    if (this.queue.length > 0) {
      this.host.dequeued(1);
      return this.queue.shift()!;
    }
    return this.waitForNext();
  }

  private async waitForNext(): Promise<ReplayItem | null> {
    while (this.queue.length === 0) {
      if (this.ended) return null;
      const holding = this.connection !== null;
      if (holding) this.host.holdingIdle(1);
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = null;
      if (holding) this.host.holdingIdle(-1);
    }
    const item = this.queue.shift()!;
    this.host.dequeued(1);
    return item;
  }

  private async work(): Promise<void> {
    try {
      for (;;) {
        const next = this.next();
        const item = next instanceof Promise ? await next : next;
        if (item === null || this.host.stopping) break;
        // Its own idle connection, without a promise, when the statement is due (not to sleep on while others wait).
        if (!this.connection && item.scheduledAt - this.host.connectLeadMs <= epochNow()) this.connection = this.host.pool.takeOwn(this.key, this.id);
        if (!this.connection) {
          await this.host.sleepUntil(item.scheduledAt - this.host.connectLeadMs);
          if (this.host.stopping) break;
          try {
            this.connection = await this.host.pool.acquire(this.key, this.id);
          } catch (err) {
            await this.host.fail(item, err);
            continue;
          }
          if (this.host.stopping) break;
          if (this.connection.owner !== this.id) {
            // A connection another session used (or a new one): make it this session's.
            await this.prepare(this.connection.owner !== null && this.connection.dirty);
            this.connection.owner = this.id;
          }
        }
        if (item.scheduledAt > epochNow()) await this.host.sleepUntil(item.scheduledAt);
        if (this.host.stopping) break;
        const { ok } = await this.host.execute(this.connection, item);
        const effect = item.decision.context;
        if (item.event.kind === 'session') this.connection.dirty = true;
        if (ok && effect) {
          this.apply(effect);
          if (effect.op === 'reset-all') {
            // RESET ALL / DISCARD ALL also undo what the run set up (--as-role's role; PGlite's read-only): again.
            await this.prepare(true);
          } else if (effect.op === 'reset' && (effect.key === 'role' || effect.key === 'session_authorization') && this.setup.length > 0) {
            await this.prepare(false);
          }
        }
        if (ok && item.decision.sticky) this.sticky = true;
        this.maybeRelease();
      }
    } finally {
      // Abandoned statements still count as taken off the read-ahead.
      if (this.queue.length) this.host.dequeued(this.queue.splice(0).length);
      if (this.connection) {
        const c = this.connection;
        this.connection = null;
        // A transaction the window cut open is rolled back, so the connection goes back clean.
        if (c.session.alive && c.session.transactionStatus !== 'idle') await c.session.exec('ROLLBACK').catch(() => {});
        if (this.sticky) c.owner = null;
        this.host.pool.release(c);
      }
    }
  }

  private maybeRelease(): void {
    const c = this.connection!;
    if (!c.session.alive) {
      // Dropped: the next statement gets a new connection and the context again.
      this.connection = null;
      c.owner = null;
      this.host.pool.release(c);
      return;
    }
    if (this.sticky || c.session.transactionStatus !== 'idle') return;
    this.connection = null;
    this.host.pool.release(c);
  }

  private apply(effect: ContextEffect): void {
    switch (effect.op) {
      case 'set':
        this.context.delete(effect.key);
        this.context.set(effect.key, effect.statement);
        return;
      case 'reset':
        for (const key of [...this.context.keys()]) {
          if (effect.prefix ? key.startsWith(effect.key) : key === effect.key) this.context.delete(key);
        }
        return;
      case 'reset-all':
        this.context.clear();
        return;
    }
  }

  /** Gives the held connection this session's state: after a reset (back to how it was connected) when `reset`. */
  private async prepare(reset: boolean): Promise<void> {
    const c = this.connection!;
    const script = this.contextScript();
    await this.host.prepare(c, script, reset, this);
    if (reset) c.dirty = false;
    if (script !== '') c.dirty = true;
  }

  /** The statements that give a fresh or reset connection this session's state. */
  private contextScript(): string {
    return [...this.setup, ...this.context.values()].join(';\n');
  }
}
