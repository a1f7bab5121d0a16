import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/core/audit-event.js';
import type { ReplayResult } from '../../src/core/replay-result.js';
import { inShard, type Shard } from '../../src/core/shard.js';
import type { ConnectionKey } from '../../src/replay/run/connection-pool.js';
import { ReplayRunner } from '../../src/replay/run/replay-runner.js';
import type { QueryResult, TargetSession } from '../../src/replay/target.js';

/**
 * The runner's side of `replay --shard`, on a stand-in target that only counts: events
 * of other shards' sessions never make a session or a connection, and pacing keeps the
 * whole window's clock.
 */

function session(database: string): TargetSession {
  return {
    database,
    query: async <R>() => ({ rows: [], rowCount: 0, fields: [] }) as unknown as QueryResult<R>,
    exec: async () => {},
    stream: async function* () {},
    execute: async () => ({ command: 'SELECT', rowCount: 1, fields: [] }),
    reset: async () => {},
    cancel: () => {},
    transactionStatus: 'idle',
    alive: true,
    close: async () => {},
  };
}

let seq = 0;
function ev(sessionId: string | null, ts: number): AuditEvent {
  const id = `q${++seq}`;
  return {
    id,
    ts,
    end: null,
    durationMs: 1,
    user: sessionId ?? 'nobody',
    database: 'app',
    session: sessionId,
    client: null,
    statement: 'SELECT 1',
    ok: true,
    error: null,
    source: { format: 'pg-json', object: 'test', line: seq },
    kind: 'query',
    command: 'SELECT',
    fingerprint: 'select ?',
    fingerprintId: 'fp',
  };
}

async function replay(events: AuditEvent[], shard: Shard | undefined, speed: number | 'max' = 'max') {
  const results: ReplayResult[] = [];
  const connected: string[] = [];
  const identified: string[] = [];
  const runner = new ReplayRunner({
    runId: 'shard',
    targetUrl: 'fake://',
    connect: async (key: ConnectionKey) => {
      connected.push(key.user);
      return session(key.database);
    },
    identify: (e) => {
      identified.push(e.session ?? `#${e.id}`);
      // One connection key per original session, so each session needs a connection of its own.
      return { key: { id: `${e.user}@app`, user: e.user ?? 'nobody', database: 'app' }, setup: [] };
    },
    policy: { allowWrites: false, userMap: new Map() },
    speed,
    concurrency: 4,
    attempt: 1,
    record: (r) => void results.push(r),
    startDelayMs: 0,
    ...(shard ? { shard } : {}),
  });
  await runner.run(
    (async function* () {
      yield events;
    })(),
  );
  return { results, connected, identified, stats: runner.stats };
}

describe('ReplayRunner with a shard', () => {
  const events: AuditEvent[] = [];
  for (let i = 0; i < 120; i++) events.push(ev(`s${i % 30}`, i * 10));
  for (let i = 0; i < 12; i++) events.push(ev(null, 2000 + i));
  const keyOf = (e: AuditEvent): string => e.session ?? `#${e.id}`;

  it('runs only the sessions of its shard and never connects for the others', async () => {
    const owner = new Map<string, number>();
    for (let index = 0; index < 3; index++) {
      const shard = { index, count: 3 };
      const mine = events.filter((e) => inShard(keyOf(e), shard));
      const { results, connected, identified, stats } = await replay(events, shard);
      expect(results.map((r) => r.originalId).sort()).toEqual(mine.map((e) => e.id).sort());
      expect(new Set(identified)).toEqual(new Set(mine.map(keyOf)));
      expect(connected.every((user) => mine.some((e) => e.user === user))).toBe(true);
      expect(stats).toMatchObject({ read: mine.length, otherShard: events.length - mine.length, executed: mine.length });
      for (const r of results) owner.set(r.originalId, index);
    }
    expect(owner.size).toBe(events.length);
  });

  it('paces from the window’s first statement, not the shard’s', async () => {
    const shard = { index: 1, count: 2 };
    // The window starts with a statement of the other shard; this shard's first comes 2 s later.
    const other = ['a', 'b', 'c', 'd', 'e', 'f'].find((s) => !inShard(s, shard))!;
    const mine = ['a', 'b', 'c', 'd', 'e', 'f'].find((s) => inShard(s, shard))!;
    const window = [ev(other, 1_000_000), ev(mine, 1_002_000)];
    const started = Date.now();
    const { results } = await replay(window, shard, 10);
    expect(results).toHaveLength(1);
    // At speed 10, 2 s of log time is 200 ms of replay time after the run's clock starts.
    expect(results[0]!.scheduledAt - started).toBeGreaterThanOrEqual(190);
    expect(results[0]!.startedAt - started).toBeGreaterThanOrEqual(190);
  });
});
