import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent, EventKind } from '../../../src/core/audit-event.js';
import type { ReplayResult } from '../../../src/core/replay-result.js';
import { ConnectionPool, type ConnectionKey } from '../../../src/replay/run/connection-pool.js';
import { ReplayRunner, type ReplayRunnerOptions } from '../../../src/replay/run/replay-runner.js';
import { openTarget } from '../../../src/replay/target-registry.js';
import type { Target } from '../../../src/replay/target.js';

/**
 * The replay engine on the embedded target (PGlite, real PostgreSQL in WASM): sessions
 * taking turns on a bounded pool, their context moved between connections, transactions
 * holding their connection, the server's read-only guard kept through RESET ALL.
 */

let target: Target;
const KEY: ConnectionKey = { id: 'postgres@postgres', user: 'postgres', database: 'postgres' };
const READ_ONLY = { default_transaction_read_only: 'on' };

beforeAll(async () => {
  target = await openTarget('pglite://memory');
  const s = await target.connect();
  await s.exec(`
    CREATE SCHEMA app;
    CREATE TABLE public.items (v text); INSERT INTO public.items VALUES ('public');
    CREATE TABLE app.items (v text); INSERT INTO app.items VALUES ('app');
    CREATE TABLE orders (id int); INSERT INTO orders VALUES (1), (2);
    CREATE FUNCTION purge_orders() RETURNS int LANGUAGE sql AS 'DELETE FROM orders RETURNING 1';
    CREATE ROLE analyst; GRANT USAGE ON SCHEMA app TO analyst; GRANT SELECT ON ALL TABLES IN SCHEMA app, public TO analyst;
  `);
  await s.close();
}, 120_000);

afterAll(async () => {
  await target?.close();
});

let seq = 0;
function ev(session: string | null, kind: EventKind, statement: string, ts: number): AuditEvent {
  const id = `${session ?? 'none'}:${++seq}`;
  return {
    id,
    ts,
    end: null,
    durationMs: 1,
    user: 'alice',
    database: 'postgres',
    session,
    client: null,
    statement,
    ok: true,
    error: null,
    source: { format: 'pg-json', object: 'test', line: seq },
    kind,
    command: '',
    fingerprint: statement,
    fingerprintId: 'fp',
  };
}

async function replay(events: AuditEvent[], options: Partial<ReplayRunnerOptions> = {}): Promise<{ results: ReplayResult[]; runner: ReplayRunner }> {
  const results: ReplayResult[] = [];
  const runner = new ReplayRunner({
    runId: 'test',
    targetUrl: target.url,
    connect: (key) => target.connect({ settings: READ_ONLY, ...(key.user !== target.user ? { user: key.user } : {}) }),
    identify: () => ({ key: KEY, setup: [] }),
    policy: { allowWrites: false, userMap: new Map() },
    speed: 'max',
    concurrency: 1,
    attempt: 1,
    record: (r) => void results.push(r),
    startDelayMs: 0,
    ...options,
  });
  async function* batches(): AsyncIterable<AuditEvent[]> {
    yield events;
  }
  await runner.run(batches());
  return { results, runner };
}

const byId = (results: ReplayResult[], e: AuditEvent): ReplayResult => results.find((r) => r.originalId === e.id)!;

describe('the replay engine on one shared connection', () => {
  it("moves each session's settings with it when sessions take turns on one connection", async () => {
    const a1 = ev('a', 'session', 'SET search_path = app', 0);
    const b1 = ev('b', 'query', 'SELECT v FROM items', 1);
    const a2 = ev('a', 'query', 'SELECT v FROM items', 2);
    const b2 = ev('b', 'query', 'SELECT v FROM items', 3);
    const { results, runner } = await replay([a1, b1, a2, b2]);
    expect(results.map((r) => r.ok)).toEqual([true, true, true, true]);
    // Same row count either way: the checksums tell which table each read.
    const pub = byId(results, b1).checksum;
    expect(byId(results, b2).checksum).toBe(pub);
    expect(byId(results, a2).checksum).not.toBe(pub);
    expect(runner.stats.contextSetups).toBeGreaterThanOrEqual(2);
  });

  it('keeps the connection for a session inside a transaction, so others wait for its COMMIT', async () => {
    const a1 = ev('a', 'tcl', 'BEGIN', 0);
    const a2 = ev('a', 'query', 'SELECT 1', 1);
    const b1 = ev('b', 'query', 'SELECT 2', 2);
    const a3 = ev('a', 'tcl', 'COMMIT', 3);
    const { results } = await replay([a1, a2, b1, a3]);
    expect(results.map((r) => r.originalId)).toEqual([a1.id, a2.id, a3.id, b1.id]);
    expect(results.every((r) => r.ok)).toBe(true);
  });

  it('rolls back a transaction the window cut open before another session gets the connection', async () => {
    const a1 = ev('a', 'tcl', 'BEGIN', 0);
    const a2 = ev('a', 'query', 'SELECT 1', 1);
    const b1 = ev('b', 'query', 'SELECT 2', 2);
    const { results } = await replay([a1, a2, b1]);
    expect(results.every((r) => r.ok)).toBe(true);
    const s = await target.connect();
    expect(s.transactionStatus).toBe('idle');
    await s.close();
  });

  it('keeps the server refusing a hidden write after the session ran RESET ALL and DISCARD ALL', async () => {
    const a1 = ev('a', 'session', 'RESET ALL', 0);
    const a2 = ev('a', 'query', 'SELECT purge_orders()', 1);
    const a3 = ev('a', 'session', 'DISCARD ALL', 2);
    const a4 = ev('a', 'query', 'SELECT purge_orders()', 3);
    const { results } = await replay([a1, a2, a3, a4]);
    expect([byId(results, a2).sqlState, byId(results, a4).sqlState]).toEqual(['25006', '25006']);
    const s = await target.connect();
    expect((await s.query<{ n: number }>('SELECT count(*)::int AS n FROM orders')).rows).toEqual([{ n: 2 }]);
    await s.close();
  });

  it('sets the role --as-role asks for on every connection, and again after RESET ROLE', async () => {
    const a1 = ev('a', 'query', 'SELECT current_user', 0);
    const a2 = ev('a', 'session', 'RESET ROLE', 1);
    const a3 = ev('a', 'query', 'SELECT current_user', 2);
    const b1 = ev('b', 'query', 'SELECT current_user', 3);
    const { results } = await replay([a1, a2, a3, b1], {
      identify: (e) => ({ key: KEY, setup: e.session === 'a' ? ['SET ROLE analyst'] : [] }),
    });
    const checksumOf = async (user: string): Promise<string | null> => (await replay([ev('x', 'query', `SELECT '${user}'::name AS current_user`, 0)])).results[0]!.checksum;
    expect(byId(results, a1).checksum).toBe(await checksumOf('analyst'));
    expect(byId(results, a3).checksum).toBe(await checksumOf('analyst'));
    expect(byId(results, b1).checksum).toBe(await checksumOf('postgres'));
  });

  it('records a statement that fails with its SQLSTATE and the session goes on', async () => {
    const a1 = ev('a', 'query', 'SELECT * FROM missing_table', 0);
    const a2 = ev('a', 'query', 'SELECT 1', 1);
    const { results, runner } = await replay([a1, a2]);
    expect(byId(results, a1)).toMatchObject({ ok: false, sqlState: '42P01', rows: null, checksum: null });
    expect(byId(results, a1).error).toContain('missing_table');
    expect(byId(results, a2)).toMatchObject({ ok: true, rows: 1 });
    expect(runner.stats.errorsBySqlState).toEqual({ '42P01': 1 });
  });

  it('paces statements by their original offsets divided by the speed', async () => {
    const events = [0, 100, 200, 300].map((t, i) => ev(`p${i}`, 'query', 'SELECT 1', 1_000 + t * 2));
    const { results } = await replay(events, { speed: 2 });
    const scheduled = results.map((r) => r.scheduledAt - results[0]!.scheduledAt);
    expect(scheduled).toEqual([0, 100, 200, 300]);
    for (const r of results) expect(r.startedAt).toBeGreaterThanOrEqual(r.scheduledAt - 1);
  });

  it('stops starting statements once stopped, finishing the one in flight', async () => {
    const events = Array.from({ length: 50 }, (_, i) => ev('s', 'query', 'SELECT pg_sleep(0.01)', i * 100));
    const results: ReplayResult[] = [];
    const runner = new ReplayRunner({
      runId: 'stop',
      targetUrl: target.url,
      connect: () => target.connect({ settings: READ_ONLY }),
      identify: () => ({ key: KEY, setup: [] }),
      policy: { allowWrites: false, userMap: new Map() },
      speed: 1,
      concurrency: 1,
      attempt: 1,
      startDelayMs: 0,
      record: (r) => {
        results.push(r);
        if (results.length === 3) runner.stop();
      },
    });
    async function* batches(): AsyncIterable<AuditEvent[]> {
      yield events;
    }
    await runner.run(batches());
    expect(results).toHaveLength(3);
    expect(results.every((r) => r.ok)).toBe(true);
  });
});

describe('the connection pool', () => {
  it('gives a session its own connection back, opens new ones up to the limit, then makes waiters queue', async () => {
    let opened = 0;
    const pool = new ConnectionPool(2, async () => (opened++, target.connect()));
    const a = await pool.acquire(KEY, 'a');
    a.owner = 'a';
    pool.release(a);
    const b = await pool.acquire(KEY, 'b');
    expect(b).not.toBe(a);
    b.owner = 'b';
    const a2 = await pool.acquire(KEY, 'a');
    expect(a2).toBe(a);
    expect(pool.size).toBe(2);
    let got: unknown = null;
    const c = pool.acquire(KEY, 'c').then((x) => (got = x));
    await new Promise((r) => setTimeout(r, 20));
    expect([got, pool.waiting]).toEqual([null, 1]);
    pool.release(b);
    await c;
    expect(got).toBe(b);
    expect(opened).toBe(2);
    pool.release(a2);
    pool.release(b);
    await pool.close();
  });

  it('reopens an idle connection for another user when every slot is taken, and frees the slot of a dead one', async () => {
    const users: string[] = [];
    const pool = new ConnectionPool(1, async (key) => (users.push(key.user), target.connect(key.user === 'postgres' ? {} : { user: key.user })));
    const first = await pool.acquire(KEY, 'a');
    pool.release(first);
    const other = await pool.acquire({ id: 'analyst@postgres', user: 'analyst', database: 'postgres' }, 'b');
    expect(other).not.toBe(first);
    expect(first.session.alive).toBe(false);
    expect(users).toEqual(['postgres', 'analyst']);
    await other.session.close();
    pool.release(other);
    expect(pool.size).toBe(0);
    const again = await pool.acquire(KEY, 'a');
    expect(again.session.alive).toBe(true);
    await again.session.exec('RESET SESSION AUTHORIZATION');
    pool.release(again);
    await pool.close();
  });
});
