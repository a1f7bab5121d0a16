import { abortedError } from '../target-error.js';
import type { TargetSession } from '../target.js';

/** Who connects, where: one pooled connection serves one key (user and database) at a time. */
export interface ConnectionKey {
  /** Stable text form, e.g. `alice@sales`. */
  id: string;
  user: string;
  database: string;
}

export interface PooledConnection {
  readonly key: ConnectionKey;
  readonly session: TargetSession;
  /** The replay session that used it last; null for a new connection. */
  owner: string | null;
  /** Whether a session left state on it (settings, a role, prepared statements): the next session resets it first. */
  dirty: boolean;
}

interface Waiter {
  key: ConnectionKey;
  owner: string;
  resolve: (c: PooledConnection) => void;
  reject: (e: unknown) => void;
}

/**
 * At most `max` connections to the target, shared by many more replay sessions. A
 * session takes a connection per statement (or per transaction) and gives it back; it
 * gets the one it used last when that is free, so with no more sessions than
 * connections each keeps its own and nothing is set up twice. Otherwise: a new
 * connection while under `max`; then a free one of the same key (the session sets its
 * context up again); then a free one of another key, closed and reopened; else it waits,
 * first come first served.
 */
export class ConnectionPool {
  private readonly idle: PooledConnection[] = [];
  private readonly waiters: Waiter[] = [];
  private open = 0;
  private closed = false;
  /** Connections opened over the pool's life (reconnects included). */
  opened = 0;

  /**
   * @param max connections at most (replay's --concurrency, default 8)
   * @param connect opens a connection for a key
   */
  constructor(
    private readonly max: number,
    private readonly connect: (key: ConnectionKey, signal?: AbortSignal) => Promise<TargetSession>,
  ) {}

  /** How many sessions are waiting for a connection. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** Connections open now (in use or idle). */
  get size(): number {
    return this.open;
  }

  /** The idle connection `owner` used last, without waiting; null when it is taken or gone. The common case, kept off the promise path. */
  takeOwn(key: ConnectionKey, owner: string): PooledConnection | null {
    const i = this.idle.findIndex((c) => c.owner === owner && c.key.id === key.id && c.session.alive);
    return i < 0 ? null : this.idle.splice(i, 1)[0]!;
  }

  /** A connection for `owner` to run statements as `key`; resolves when one is free. */
  async acquire(key: ConnectionKey, owner: string, signal?: AbortSignal): Promise<PooledConnection> {
    if (signal?.aborted) throw abortedError(signal.reason, 'waiting for a connection');
    const now = await this.take(key, owner, signal);
    if (now) return now;
    return new Promise<PooledConnection>((resolve, reject) => {
      const waiter: Waiter = { key, owner, resolve, reject };
      const onAbort = (): void => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(abortedError(signal!.reason, 'waiting for a connection'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      waiter.resolve = (c) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(c);
      };
      waiter.reject = (e) => {
        signal?.removeEventListener('abort', onAbort);
        reject(e);
      };
      this.waiters.push(waiter);
    });
  }

  /** Gives a connection back; a dead one is closed and its slot freed. */
  release(connection: PooledConnection): void {
    if (this.closed || !connection.session.alive) {
      this.open--;
      void connection.session.close();
    } else {
      this.idle.push(connection);
    }
    this.serveWaiters();
  }

  /** Closes every idle connection and refuses new work; connections in use close when released. */
  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w.reject(new Error('the connection pool is closed'));
    const idle = this.idle.splice(0);
    this.open -= idle.length;
    await Promise.allSettled(idle.map((c) => c.session.close()));
  }

  private async take(key: ConnectionKey, owner: string, signal?: AbortSignal): Promise<PooledConnection | null> {
    let i = this.idle.findIndex((c) => c.owner === owner && c.key.id === key.id);
    if (i < 0 && this.open >= this.max) i = this.idle.findIndex((c) => c.key.id === key.id);
    if (i >= 0) {
      const [c] = this.idle.splice(i, 1);
      if (c!.session.alive) return c!;
      this.open--;
      void c!.session.close();
    }
    if (this.open >= this.max && this.idle.length > 0) {
      // Every slot is taken but one is idle for another user or database: reopen it for this key.
      const other = this.idle.shift()!;
      this.open--;
      void other.session.close();
    }
    if (this.open >= this.max) return null;
    this.open++;
    try {
      const session = await this.connect(key, signal);
      this.opened++;
      return { key, session, owner: null, dirty: false };
    } catch (err) {
      this.open--;
      this.serveWaiters();
      throw err;
    }
  }

  private serveWaiters(): void {
    while (this.waiters.length > 0 && (this.idle.length > 0 || this.open < this.max)) {
      const w = this.waiters.shift()!;
      this.take(w.key, w.owner).then(
        (c) => (c ? w.resolve(c) : this.waiters.unshift(w)),
        (err: unknown) => w.reject(err),
      );
      // take() claims its slot synchronously before it awaits, so the loop sees the new count.
    }
  }
}
