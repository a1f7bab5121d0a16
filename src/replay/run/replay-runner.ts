import * as hdr from 'hdr-histogram-js';
import type { AuditEvent, EventKind } from '../../core/audit-event.js';
import { AuditReplayError } from '../../core/errors.js';
import type { ReplayResult } from '../../core/replay-result.js';
import { inShard, type Shard } from '../../core/shard.js';
import { epochNow } from '../../core/time.js';
import type { TargetSession } from '../target.js';
import { ConnectionPool, type ConnectionKey, type PooledConnection } from './connection-pool.js';
import { decide, type ReplayPolicy } from './replay-plan.js';
import { ReplaySession, type ReplayItem, type SessionHost } from './replay-session.js';
import { ResultChecksum, type ChecksumMode } from './result-checksum.js';
import { tagStatement } from './statement-tag.js';

/** Who a session runs as and where: the pool key, and what makes a connection the session's (e.g. SET ROLE). */
export interface SessionIdentity {
  key: ConnectionKey;
  setup: string[];
}

export interface ReplayRunnerOptions {
  runId: string;
  /** Safe-to-print target URL, written into each result. */
  targetUrl: string;
  /** Opens a connection for a key, with the run's settings (read-only, timeouts). */
  connect: (key: ConnectionKey, signal?: AbortSignal) => Promise<TargetSession>;
  /** Who runs a statement's session and where. */
  identify: (event: AuditEvent) => SessionIdentity;
  policy: ReplayPolicy;
  /** Original pace (1, default), N times faster, or `max`: no waiting, only session order. */
  speed: number | 'max';
  /** Connections at most (default 8). */
  concurrency?: number;
  /** Put `/* auditreplay run=... orig=... *\/` in front of each statement (default true). */
  tag?: boolean;
  /** How much of each result to hash (default `rows`). */
  checksum?: ChecksumMode;
  /** Which repeat of the window this is (1-based), written into each result. */
  attempt: number;
  /** Where results go; a returned promise holds the run back until the writer catches up. */
  record: (result: ReplayResult) => void | Promise<void>;
  /** Called for each statement refused in read-only mode. */
  onRefused?: (event: AuditEvent, reason: string) => void;
  log?: (line: string) => void;
  /** Statements read ahead of their execution at most (default 10,000): the memory bound when the target falls behind. */
  maxQueued?: number;
  /** Replay only the sessions of this shard (by a stable hash of the session key); default: all. */
  shard?: Shard;
  /** How long before its first statement is due a session connects (default 100 ms). */
  connectLeadMs?: number;
  /** The first statement is due this long after the first event is read (default 250 ms), so connections can open. */
  startDelayMs?: number;
}

export interface ReplayStats {
  /** Events read from the window (of this shard's sessions). */
  read: number;
  /** Events of sessions that belong to other shards (`--shard`): dropped unread, no connection opened for them. */
  otherShard: number;
  /** Statements sent (or attempted: a failed connection counts), warm-up included. */
  executed: number;
  /** Of those, queries (kind `query`). */
  queries: number;
  ok: number;
  failed: number;
  /** Statements not replayed, by kind: writes without --allow-writes. */
  skipped: Partial<Record<EventKind, number>>;
  /** Statements refused because they could switch read-only off. */
  refused: number;
  errorsBySqlState: Record<string, number>;
  /** Replay sessions started (original sessions, and one per sessionless statement). */
  sessions: number;
  /** Times a session's context had to be set up on a connection (a new one, or one another session used). */
  contextSetups: number;
  contextFailures: number;
  /** The window's first and last statement time, epoch ms. */
  firstTs: number | null;
  lastTs: number | null;
}

/**
 * A latency histogram (HdrHistogram, microseconds, 2 significant digits: constant
 * memory for any count) read as milliseconds.
 */
export class LatencyHistogram {
  private readonly h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 2 });

  recordMs(ms: number): void {
    this.h.recordValue(Math.min(3_600_000_000, Math.max(0, Math.round(ms * 1000))));
  }

  /** p50, p99 and max in ms (3 decimals); nulls when nothing was recorded. */
  summary(): { p50: number | null; p99: number | null; max: number | null } {
    if (this.h.totalCount === 0) return { p50: null, p99: null, max: null };
    const ms = (us: number): number => Math.round(us) / 1000;
    return { p50: ms(this.h.getValueAtPercentile(50)), p99: ms(this.h.getValueAtPercentile(99)), max: ms(this.h.maxValue) };
  }
}

/** The key a statement's replay session goes by: its original session, else `#<id>` (a session of its own). */
export function replaySessionKey(event: Pick<AuditEvent, 'session' | 'id'>): string {
  return event.session ?? `#${event.id}`;
}

/**
 * Replays one pass over a window: reads events in log order, hands each to its
 * session's queue, and lets the sessions run concurrently on a bounded pool, each
 * waiting for its statement's time (the original offset divided by --speed). Reading
 * stops while `maxQueued` statements wait, so a slow target holds back ingest instead
 * of filling memory. `stop()` finishes the statements in flight and starts no more;
 * `cancel()` also cancels those in flight on the server.
 */
export class ReplayRunner implements SessionHost {
  readonly stats: ReplayStats = {
    read: 0,
    otherShard: 0,
    executed: 0,
    queries: 0,
    ok: 0,
    failed: 0,
    skipped: {},
    refused: 0,
    errorsBySqlState: {},
    sessions: 0,
    contextSetups: 0,
    contextFailures: 0,
    firstTs: null,
    lastTs: null,
  };
  readonly lag = new LatencyHistogram();
  /** How late the last statement started against its schedule, ms (the metrics' current lag); null before the first. */
  lastLagMs: number | null = null;
  readonly pool: ConnectionPool;
  readonly connectLeadMs: number;
  private readonly sessions = new Map<string, ReplaySession>();
  private readonly live = new Set<ReplaySession>();
  private readonly inFlight = new Set<PooledConnection>();
  private cancelled = false;
  private readonly sleepers = new Set<() => void>();
  private readonly maxQueued: number;
  private queued = 0;
  private holdingIdleCount = 0;
  private spaceWaiter: (() => void) | null = null;
  private stopped = false;
  private clock: { start: number; baseTs: number } | null = null;
  private contextWarnings = 0;

  constructor(private readonly options: ReplayRunnerOptions) {
    this.maxQueued = options.maxQueued ?? 10_000;
    this.connectLeadMs = options.connectLeadMs ?? 100;
    this.pool = new ConnectionPool(options.concurrency ?? 8, options.connect);
  }

  get stopping(): boolean {
    return this.stopped;
  }

  /** Statements read and waiting for their session. */
  get backlog(): number {
    return this.queued;
  }

  /** Finish what runs, start nothing new (SIGINT, SIGTERM). */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const wake of this.sleepers) wake();
    this.sleepers.clear();
    this.spaceWaiter?.();
  }

  /** Also cancel the statements in flight on the server (a second signal, or the drain timeout). */
  cancel(): void {
    this.stop();
    this.cancelled = true;
    for (const c of this.inFlight) c.session.cancel();
  }

  /** Replays the events; resolves when every session has finished (or stopped). */
  async run(events: AsyncIterable<AuditEvent[]>): Promise<void> {
    try {
      outer: for await (const batch of events) {
        for (const event of batch) {
          if (this.stopped) break outer;
          this.dispatch(event);
          while (this.queued >= this.maxQueued && !this.starved() && !this.stopped) {
            await new Promise<void>((resolve) => (this.spaceWaiter = resolve));
            this.spaceWaiter = null;
          }
        }
      }
    } finally {
      for (const s of this.sessions.values()) s.end();
      await Promise.allSettled([...this.live].map((s) => s.done));
      await this.pool.close();
    }
  }

  private dispatch(event: AuditEvent): void {
    const sessionId = replaySessionKey(event);
    const decision = decide(event, this.options.policy);
    // The session is the unit of sharding, so no session's statements are split between two pods.
    if (this.options.shard && !inShard(sessionId, this.options.shard)) {
      this.stats.otherShard++;
      // Paced from the window's first statement, not the shard's: pods started together keep the original gaps across shards.
      if (decision.action === 'execute') this.clock ??= { start: epochNow() + (this.options.startDelayMs ?? 250), baseTs: event.ts };
      return;
    }
    this.stats.read++;
    if (decision.action === 'skip') {
      this.stats.skipped[decision.kind] = (this.stats.skipped[decision.kind] ?? 0) + 1;
      return;
    }
    if (decision.action === 'refuse') {
      this.stats.refused++;
      this.options.onRefused?.(event, decision.reason);
      return;
    }
    this.stats.firstTs ??= event.ts;
    this.stats.lastTs = event.ts;
    const now = epochNow();
    this.clock ??= { start: now + (this.options.startDelayMs ?? 250), baseTs: event.ts };
    const speed = this.options.speed;
    const scheduledAt = speed === 'max' ? now : this.clock.start + (event.ts - this.clock.baseTs) / speed;
    // A statement without a session is a session of its own, ended at once.
    let session = this.sessions.get(sessionId);
    if (!session) {
      const { key, setup } = this.options.identify(event);
      session = new ReplaySession(sessionId, key, this, setup);
      this.stats.sessions++;
      this.live.add(session);
      const s = session;
      void s.done.finally(() => {
        this.live.delete(s);
        if (this.sessions.get(s.id) === s) this.sessions.delete(s.id);
      });
      if (event.session !== null) this.sessions.set(sessionId, session);
    }
    this.queued++;
    session.push({ event, decision, scheduledAt });
    if (event.session === null) session.end();
  }

  /** Every connection is held by a session in a transaction waiting for its next statement, and others wait: read on. */
  private starved(): boolean {
    return this.pool.waiting > 0 && this.holdingIdleCount > 0 && this.holdingIdleCount >= this.pool.size;
  }

  dequeued(count: number): void {
    this.queued -= count;
    if (this.queued < this.maxQueued) this.spaceWaiter?.();
  }

  holdingIdle(delta: 1 | -1): void {
    this.holdingIdleCount += delta;
    if (this.starved()) this.spaceWaiter?.();
  }

  sleepUntil(t: number): Promise<void> {
    if (t <= epochNow() || this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout;
      const wake = (): void => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      // Timers fire on whole milliseconds of the event loop's cached clock, up to a
      // millisecond early: check the real clock and wait out the rest, never start early.
      const check = (): void => {
        const wait = t - epochNow();
        if (wait <= 0) wake();
        else timer = setTimeout(check, Math.ceil(wait));
      };
      this.sleepers.add(wake);
      check();
    });
  }

  async prepare(connection: PooledConnection, script: string, reset: boolean, session: ReplaySession): Promise<void> {
    if (!reset && script === '') return;
    this.stats.contextSetups++;
    try {
      if (reset) await connection.session.reset();
      if (script !== '') await connection.session.exec(script);
    } catch (err) {
      this.stats.contextFailures++;
      if (this.contextWarnings++ < 10) {
        this.options.log?.(`replay: setting up session ${session.id} on a connection failed (its statements run without that context): ${(err as Error).message}`);
      }
    }
  }

  async execute(connection: PooledConnection, item: ReplayItem): Promise<{ ok: boolean }> {
    const { event, decision } = item;
    const sql = this.options.tag === false ? decision.statement : tagStatement(decision.statement, this.options.runId, event.id);
    const mode = this.options.checksum ?? 'rows';
    const sum = new ResultChecksum(mode);
    const startedAt = epochNow();
    let result: Pick<ReplayResult, 'rows' | 'checksum' | 'ok' | 'sqlState' | 'error'>;
    // No AbortSignal per statement (a listener each costs more than the rest of our work): cancel() walks the connections in flight.
    this.inFlight.add(connection);
    try {
      if (this.cancelled) connection.session.cancel();
      const res = await connection.session.execute(sql, mode === 'none' ? {} : { onRows: (rows) => sum.add(rows) });
      result = { rows: res.rowCount, checksum: sum.digest(res.fields), ok: true, sqlState: null, error: null };
    } catch (err) {
      result = { rows: null, checksum: null, ok: false, ...failureOf(err) };
    } finally {
      this.inFlight.delete(connection);
    }
    const durationMs = epochNow() - startedAt;
    await this.finish(item, startedAt, durationMs, result);
    return { ok: result.ok };
  }

  async fail(item: ReplayItem, err: unknown): Promise<void> {
    await this.finish(item, epochNow(), 0, { rows: null, checksum: null, ok: false, ...failureOf(err) });
  }

  private async finish(item: ReplayItem, startedAt: number, durationMs: number, r: Pick<ReplayResult, 'rows' | 'checksum' | 'ok' | 'sqlState' | 'error'>): Promise<void> {
    const { event } = item;
    const s = this.stats;
    s.executed++;
    if (event.kind === 'query') s.queries++;
    if (r.ok) s.ok++;
    else {
      s.failed++;
      const code = r.sqlState ?? 'none';
      s.errorsBySqlState[code] = (s.errorsBySqlState[code] ?? 0) + 1;
    }
    this.lastLagMs = startedAt - item.scheduledAt;
    this.lag.recordMs(this.lastLagMs);
    await this.options.record({
      runId: this.options.runId,
      originalId: event.id,
      fingerprintId: event.fingerprintId,
      kind: event.kind,
      target: this.options.targetUrl,
      scheduledAt: round3(item.scheduledAt),
      startedAt: round3(startedAt),
      durationMs: round3(durationMs),
      ...r,
      originalDurationMs: event.durationMs,
      attempt: this.options.attempt,
    });
  }
}

const round3 = (n: number): number => Math.round(n * 1000) / 1000;

/** The SQLSTATE and the server's own message of a failed statement (08006 for a dropped connection). */
function failureOf(err: unknown): { sqlState: string | null; error: string } {
  if (err instanceof AuditReplayError) {
    const cause = err.cause as { message?: string } | undefined;
    const message = err.sqlState && cause?.message ? cause.message : err.message;
    if (err.sqlState) return { sqlState: err.sqlState, error: message };
    if (err.code === 'target-lost') return { sqlState: '08006', error: message };
    return { sqlState: null, error: message };
  }
  return { sqlState: null, error: (err as Error)?.message ?? String(err) };
}
