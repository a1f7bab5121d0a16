import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditReplayError } from '../../src/core/errors.js';
import type { Target, TargetSession } from '../../src/replay/target.js';

export interface ContractSubject {
  target: Target;
  /** Releases whatever makeTarget set up (the target itself may already be closed). */
  cleanup: () => Promise<void>;
}

/** The rejection of a promise, which must reject. */
async function rejection(p: Promise<unknown>): Promise<AuditReplayError> {
  try {
    await p;
  } catch (err) {
    return err as AuditReplayError;
  }
  throw new Error('expected a rejection, but it resolved');
}

async function collect(stream: AsyncIterable<unknown[][]>): Promise<unknown[][][]> {
  const batches: unknown[][][] = [];
  for await (const batch of stream) batches.push(batch);
  return batches;
}

/**
 * What every Target must do, as sync and replay rely on it. `makeTarget` is called once
 * per suite; the suite closes the target in its last test and calls `cleanup` after.
 * Capability-dependent tests check the claim both ways: what a target says it cannot do,
 * it must indeed not do.
 */
export function targetContract(name: string, makeTarget: () => Promise<ContractSubject>): void {
  describe(`the ${name} target`, () => {
    let subject: ContractSubject | undefined;
    let target: Target;
    // Roles are cluster-wide: a suffix keeps two runs on one server apart.
    const tag = Math.random().toString(36).slice(2, 8);

    beforeAll(async () => {
      subject = await makeTarget();
      target = subject.target;
    }, 600_000);

    afterAll(async () => {
      await subject?.target.close();
      await subject?.cleanup();
    });

    async function withSession<T>(fn: (s: TargetSession) => Promise<T>): Promise<T> {
      const s = await target.connect();
      try {
        return await fn(s);
      } finally {
        await s.close();
      }
    }

    it('runs a query with bind parameters and returns typed rows', async () => {
      await withSession(async (s) => {
        const res = await s.query<{ n: number; t: string; b: boolean; j: unknown; ts: Date; z: number | null }>(
          'SELECT $1::int + 1 AS n, $2::text AS t, $3::boolean AS b, $4::jsonb AS j, $5::timestamptz AS ts, NULL::int AS z',
          [41, "it's", true, JSON.stringify({ a: [1, 2] }), '2024-05-06T07:08:09.123Z'],
        );
        expect(res.command).toBe('SELECT');
        expect(res.rowCount).toBe(1);
        expect(res.rows).toEqual([{ n: 42, t: "it's", b: true, j: { a: [1, 2] }, ts: new Date('2024-05-06T07:08:09.123Z'), z: null }]);
      });
    });

    it('reports the command and the rows a statement changed', async () => {
      await withSession(async (s) => {
        await s.exec(`CREATE TABLE counted_${tag} (id int)`);
        const res = await s.query(`INSERT INTO counted_${tag} SELECT generate_series(1, 3)`);
        expect(res.command).toBe('INSERT');
        expect(res.rowCount).toBe(3);
        const del = await s.query(`DELETE FROM counted_${tag} WHERE id > $1`, [1]);
        expect([del.command, del.rowCount]).toEqual(['DELETE', 2]);
      });
    });

    it('runs a multi-statement script in one call', async () => {
      await withSession(async (s) => {
        await s.exec(`CREATE TABLE script_${tag} (id int primary key, v text); INSERT INTO script_${tag} VALUES (1, 'a'); INSERT INTO script_${tag} VALUES (2, 'b;c')`);
        const res = await s.query(`SELECT id, v FROM script_${tag} ORDER BY id`);
        expect(res.rows).toEqual([
          { id: 1, v: 'a' },
          { id: 2, v: 'b;c' },
        ]);
      });
    });

    it('rolls back the earlier statements of a script when a later one fails, and keeps the SQLSTATE', async () => {
      await withSession(async (s) => {
        const err = await rejection(s.exec(`CREATE TABLE undone_${tag} (id int); INSERT INTO undone_${tag} VALUES (1); INSERT INTO no_such_table_${tag} VALUES (1)`));
        expect(err.name).toBe('AuditReplayError');
        expect(err.code).toBe('target-failed');
        expect(err.sqlState).toBe('42P01');
        expect(err.message).toContain(`no_such_table_${tag}`);
        expect(s.alive).toBe(true);
        const res = await s.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [`undone_${tag}`]);
        expect(res.rows[0]!.t).toBeNull();
      });
    });

    it('reports a failing query as target-failed with its SQLSTATE and stays usable', async () => {
      await withSession(async (s) => {
        const err = await rejection(s.query('SELECT 1 / $1::int AS x', [0]));
        expect([err.code, err.sqlState]).toEqual(['target-failed', '22012']);
        expect((await s.query('SELECT 2 AS x')).rows).toEqual([{ x: 2 }]);
      });
    });

    it('rolls DDL back with its transaction exactly when it claims transactionalDdl', async () => {
      await withSession(async (s) => {
        await s.exec('BEGIN');
        await s.exec(`CREATE TABLE rolled_${tag} (id int)`);
        await s.exec('ROLLBACK');
        const res = await s.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [`rolled_${tag}`]);
        expect(res.rows[0]!.t === null).toBe(target.capabilities.transactionalDdl);
      });
    });

    it('connects to another database when it claims multiDatabase, and refuses with target-unsupported otherwise', async () => {
      const other = `other_${tag}`;
      if (!target.capabilities.multiDatabase) {
        const err = await rejection(target.connect({ database: other }));
        expect(err.code).toBe('target-unsupported');
        return;
      }
      await withSession((s) => s.exec(`CREATE DATABASE ${other}`));
      try {
        const s = await target.connect({ database: other });
        try {
          expect(s.database).toBe(other);
          expect((await s.query('SELECT current_database() AS d')).rows).toEqual([{ d: other }]);
        } finally {
          await s.close();
        }
      } finally {
        await withSession((s) => s.exec(`DROP DATABASE ${other}`));
      }
    });

    it('excludes a second session from an advisory lock exactly when it claims advisoryLocks', async () => {
      const a = await target.connect();
      const b = await target.connect();
      try {
        const key = 424242;
        expect((await a.query<{ got: boolean }>('SELECT pg_try_advisory_lock($1) AS got', [key])).rows[0]!.got).toBe(true);
        const second = (await b.query<{ got: boolean }>('SELECT pg_try_advisory_lock($1) AS got', [key])).rows[0]!.got;
        expect(second).toBe(!target.capabilities.advisoryLocks);
        await a.query('SELECT pg_advisory_unlock_all()');
        await b.query('SELECT pg_advisory_unlock_all()');
      } finally {
        await a.close();
        await b.close();
      }
    });

    it("keeps one session's open transaction from another exactly when it claims concurrentSessions", async () => {
      await withSession((s) => s.exec(`CREATE TABLE shared_${tag} (id int)`));
      const a = await target.connect();
      const b = await target.connect();
      try {
        await a.exec(`BEGIN; INSERT INTO shared_${tag} VALUES (1)`);
        const seen = (await b.query<{ n: number }>(`SELECT count(*)::int AS n FROM shared_${tag}`)).rows[0]!.n;
        expect(seen === 0).toBe(target.capabilities.concurrentSessions);
        await a.exec('ROLLBACK');
      } finally {
        await a.close();
        await b.close();
      }
    });

    it('streams every row of a 25,000-row result in batches no larger than batchSize', async () => {
      await withSession(async (s) => {
        const batches = await collect(s.stream("SELECT g, 'row ' || g AS label FROM generate_series(1, $1::int) g ORDER BY g", [25_000], { batchSize: 1000 }));
        expect(Math.max(...batches.map((b) => b.length))).toBeLessThanOrEqual(1000);
        const rows = batches.flat();
        expect(rows).toHaveLength(25_000);
        expect(rows[0]).toEqual([1, 'row 1']);
        expect(rows[24_999]).toEqual([25_000, 'row 25000']);
        expect(rows.every((r, i) => r[0] === i + 1)).toBe(true);
        // An odd batch size: the last batch holds the remainder.
        const small = await collect(s.stream('SELECT g FROM generate_series(1, 10) g', [], { batchSize: 4 }));
        expect(small.map((b) => b.length)).toEqual([4, 4, 2]);
      });
    });

    it('stops a stream when its AbortSignal fires, and the session stays usable', async () => {
      await withSession(async (s) => {
        const controller = new AbortController();
        let batches = 0;
        const err = await rejection(
          (async () => {
            for await (const _batch of s.stream('SELECT g FROM generate_series(1, 100000) g', [], { batchSize: 100, signal: controller.signal })) {
              batches++;
              if (batches === 2) controller.abort();
            }
          })(),
        );
        expect(err.code).toBe('aborted');
        expect(batches).toBe(2);
        expect(s.alive).toBe(true);
        // Named cursors only: PGlite lists its own unnamed portal too.
        expect((await s.query("SELECT count(*)::int AS n FROM pg_cursors WHERE name <> ''")).rows).toEqual([{ n: 0 }]);
      });
    });

    it('releases the cursor when the consumer leaves a stream early', async () => {
      await withSession(async (s) => {
        for await (const batch of s.stream('SELECT g FROM generate_series(1, 100000) g', [], { batchSize: 10 })) {
          expect(batch).toHaveLength(10);
          break;
        }
        expect((await s.query("SELECT count(*)::int AS n FROM pg_cursors WHERE name <> ''")).rows).toEqual([{ n: 0 }]);
        // No transaction was left open: DDL rolled back here is gone, the session's own work persists.
        await s.exec(`CREATE TABLE after_stream_${tag} (id int)`);
        const other = await target.connect();
        try {
          expect((await other.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [`after_stream_${tag}`])).rows[0]!.t).toBe(`after_stream_${tag}`);
        } finally {
          await other.close();
        }
      });
    });

    it('reports a failing streamed query with its SQLSTATE', async () => {
      await withSession(async (s) => {
        const err = await rejection(collect(s.stream(`SELECT * FROM missing_${tag}`)));
        expect([err.code, err.sqlState]).toEqual(['target-failed', '42P01']);
        expect((await s.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      });
    });

    it('switches user with SET SESSION AUTHORIZATION and SET ROLE, and back', async () => {
      const role = `owner_${tag}`;
      await withSession(async (s) => {
        await s.exec(`CREATE ROLE ${role} NOLOGIN; GRANT CREATE ON SCHEMA public TO ${role}`);
        try {
          const who = async () => (await s.query<{ cu: string; su: string }>('SELECT current_user AS cu, session_user AS su')).rows[0];
          await s.exec(`SET SESSION AUTHORIZATION ${role}`);
          expect(await who()).toEqual({ cu: role, su: role });
          await s.exec(`CREATE TABLE owned_${tag} (id int)`);
          await s.exec('RESET SESSION AUTHORIZATION');
          expect(await who()).toEqual({ cu: target.user, su: target.user });
          const owner = await s.query<{ o: string }>('SELECT tableowner AS o FROM pg_tables WHERE tablename = $1', [`owned_${tag}`]);
          expect(owner.rows).toEqual([{ o: role }]);

          // In one script too, as sync sends a statement with its owner.
          await s.exec(`SET SESSION AUTHORIZATION ${role}; CREATE TABLE owned2_${tag} (id int); RESET SESSION AUTHORIZATION`);
          expect(await who()).toEqual({ cu: target.user, su: target.user });

          await s.exec(`SET ROLE ${role}`);
          expect(await who()).toEqual({ cu: role, su: target.user });
          await s.exec('RESET ROLE');
          expect(await who()).toEqual({ cu: target.user, su: target.user });
        } finally {
          await s.exec(`DROP TABLE IF EXISTS owned_${tag}, owned2_${tag}; REVOKE CREATE ON SCHEMA public FROM ${role}; DROP ROLE ${role}`);
        }
      });
    });

    it("executes a logged statement and hands on its rows in the server's text form, in batches", async () => {
      await withSession(async (s) => {
        const seen: { rows: (string | null)[][]; fields: string[] }[] = [];
        const res = await s.execute(
          "SELECT 1::int AS n, 'a;b'::text AS t, NULL::int AS z, 1.50::numeric AS m, timestamp '2024-05-06 07:08:09.123' AS ts, true AS b, '😀'::text AS e",
          { onRows: (rows, fields) => seen.push({ rows, fields: fields.map((f) => f.name) }) },
        );
        expect(res.command).toBe('SELECT');
        expect(res.rowCount).toBe(1);
        expect(res.fields.map((f) => f.name)).toEqual(['n', 't', 'z', 'm', 'ts', 'b', 'e']);
        expect(res.fields[0]!.typeId).toBe(23);
        expect(seen).toEqual([{ rows: [['1', 'a;b', null, '1.50', '2024-05-06 07:08:09.123', 't', '😀']], fields: ['n', 't', 'z', 'm', 'ts', 'b', 'e'] }]);

        const sizes: number[] = [];
        let last: string | null = null;
        const big = await s.execute('SELECT g FROM generate_series(1, 2500) g', { batchSize: 1000, onRows: (rows) => (sizes.push(rows.length), (last = rows[rows.length - 1]![0]!)) });
        expect([big.command, big.rowCount, sizes, last]).toEqual(['SELECT', 2500, [1000, 1000, 500], '2500']);
      });
    });

    it('executes statements of every kind, reporting the command and the rows changed', async () => {
      await withSession(async (s) => {
        expect(await s.execute(`CREATE TABLE executed_${tag} (id int)`)).toEqual({ command: 'CREATE', rowCount: null, fields: [] });
        expect((await s.execute(`INSERT INTO executed_${tag} SELECT generate_series(1, 3)`)).rowCount).toBe(3);
        expect(await s.execute(`UPDATE executed_${tag} SET id = id + 1 WHERE id > 1`)).toMatchObject({ command: 'UPDATE', rowCount: 2 });
        expect(await s.execute('SET search_path = public')).toMatchObject({ command: 'SET', rowCount: null });
        expect(await s.execute('')).toEqual({ command: null, rowCount: null, fields: [] });
      });
    });

    it('reports a failing statement with its SQLSTATE and tracks the transaction status through it', async () => {
      await withSession(async (s) => {
        expect(s.transactionStatus).toBe('idle');
        await s.execute('BEGIN');
        expect(s.transactionStatus).toBe('transaction');
        const err = await rejection(s.execute(`SELECT * FROM absent_${tag}`));
        expect([err.code, err.sqlState]).toEqual(['target-failed', '42P01']);
        expect(err.message).toContain(`absent_${tag}`);
        expect(s.transactionStatus).not.toBe('idle');
        expect((await rejection(s.execute('SELECT 1'))).sqlState).toBe('25P02');
        await s.execute('ROLLBACK');
        expect(s.transactionStatus).toBe('idle');
        expect((await s.execute('SELECT 1')).rowCount).toBe(1);
      });
    });

    it('connects as another user with settings in force, so the server refuses a write in a read-only session', async () => {
      const role = `replayer_${tag}`;
      await withSession((s) => s.exec(`CREATE ROLE ${role} LOGIN; CREATE TABLE guarded_${tag} (id int); GRANT ALL ON guarded_${tag} TO ${role}`));
      const s = await target.connect({ user: role, settings: { default_transaction_read_only: 'on', statement_timeout: '5s', application_name: 'a b\\c' } });
      try {
        const who = await s.query<{ cu: string; ro: string; st: string }>("SELECT current_user AS cu, current_setting('default_transaction_read_only') AS ro, current_setting('statement_timeout') AS st");
        expect(who.rows).toEqual([{ cu: role, ro: 'on', st: '5s' }]);
        const err = await rejection(s.execute(`INSERT INTO guarded_${tag} VALUES (1)`));
        expect([err.code, err.sqlState]).toEqual(['target-failed', '25006']);
      } finally {
        // PGlite's sessions share one backend: put it back as the other tests expect it.
        if (!target.capabilities.concurrentSessions) await s.exec('RESET ALL; RESET SESSION AUTHORIZATION');
        await s.close();
        await withSession((x) => x.exec(`DROP TABLE guarded_${tag}; DROP ROLE ${role}`));
      }
    });

    it('resets a session to how it was connected: its user and settings kept, everything later gone', async () => {
      const role = `pooled_${tag}`;
      await withSession((s) => s.exec(`CREATE ROLE ${role} LOGIN`));
      const s = await target.connect({ user: role, settings: { default_transaction_read_only: 'on' } });
      try {
        await s.exec(`SET search_path = pg_catalog; SET work_mem = '7MB'; PREPARE p_${tag} AS SELECT 1; SET default_transaction_read_only = off`);
        await s.reset();
        const state = await s.query<{ cu: string; ro: string; wm: string; prepared: number }>(
          "SELECT current_user AS cu, current_setting('default_transaction_read_only') AS ro, current_setting('work_mem') <> '7MB' AS wm, (SELECT count(*)::int FROM pg_prepared_statements) AS prepared",
        );
        expect(state.rows).toEqual([{ cu: role, ro: 'on', wm: true, prepared: 0 }]);
      } finally {
        if (!target.capabilities.concurrentSessions) await s.exec('RESET ALL; RESET SESSION AUTHORIZATION');
        await s.close();
        await withSession((x) => x.exec(`DROP ROLE ${role}`));
      }
    });

    it('closes a session twice without error, after which it is not alive and refuses work', async () => {
      const s = await target.connect();
      expect(s.alive).toBe(true);
      await s.close();
      await s.close();
      expect(s.alive).toBe(false);
      const err = await rejection(s.query('SELECT 1'));
      expect(err.name).toBe('AuditReplayError');
    });

    // Last: it closes the shared target.
    it('closes the target twice without error, and its sessions with it, after which it opens no session', async () => {
      const s = await target.connect();
      await target.close();
      await target.close();
      expect(s.alive).toBe(false);
      expect((await rejection(s.query('SELECT 1'))).name).toBe('AuditReplayError');
      expect((await rejection(target.connect())).code).toBe('internal');
    });
  });
}
