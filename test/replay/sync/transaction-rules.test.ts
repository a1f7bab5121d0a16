import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogCheck, cleanupBeforeRetry, runsOutsideTransaction } from '../../../src/replay/sync/transaction-rules.js';

const OUTSIDE: string[] = [
  'CREATE DATABASE analytics',
  'create database "Mixed" WITH OWNER alice',
  'DROP DATABASE IF EXISTS analytics WITH (FORCE)',
  "ALTER DATABASE app SET TABLESPACE fast",
  "CREATE TABLESPACE fast LOCATION '/ssd'",
  'DROP TABLESPACE IF EXISTS fast',
  'CREATE INDEX CONCURRENTLY i ON t (a)',
  'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS i ON ONLY s.t (a)',
  'DROP INDEX CONCURRENTLY IF EXISTS s.i',
  'REINDEX INDEX CONCURRENTLY i',
  'REINDEX (VERBOSE, CONCURRENTLY) TABLE t',
  'REINDEX SCHEMA s',
  'REINDEX DATABASE app',
  'REINDEX SYSTEM',
  'ALTER TABLE p DETACH PARTITION p1 CONCURRENTLY',
  "ALTER SYSTEM SET work_mem = '64MB'",
  'VACUUM',
  'VACUUM (ANALYZE) t',
  'vacuum full verbose t',
  'CLUSTER',
  'CLUSTER VERBOSE',
  "CREATE SUBSCRIPTION sub CONNECTION 'host=x' PUBLICATION p",
  'DROP SUBSCRIPTION IF EXISTS sub',
  'ALTER SUBSCRIPTION sub REFRESH PUBLICATION',
  'ALTER SUBSCRIPTION sub SET PUBLICATION p2',
  "COMMIT PREPARED 'tx1'",
  "ROLLBACK PREPARED 'tx1'",
  'DISCARD ALL',
];

const INSIDE: string[] = [
  'CREATE INDEX i ON t (a)',
  'DROP INDEX i',
  'REINDEX TABLE t',
  'REINDEX (CONCURRENTLY false) INDEX i',
  "ALTER DATABASE app SET search_path = s",
  'ALTER TABLESPACE fast RENAME TO quick',
  'ALTER TABLE p DETACH PARTITION p1',
  'ANALYZE t',
  'CHECKPOINT',
  'CLUSTER t USING i',
  'REFRESH MATERIALIZED VIEW CONCURRENTLY mv',
  "CREATE SUBSCRIPTION sub CONNECTION 'host=x' PUBLICATION p WITH (connect = false)",
  "CREATE SUBSCRIPTION sub CONNECTION 'host=x' PUBLICATION p WITH (create_slot = false, enabled = false)",
  'ALTER SUBSCRIPTION sub SET PUBLICATION p2 WITH (refresh = false)',
  'ALTER SUBSCRIPTION sub ENABLE',
  "SELECT 'CREATE DATABASE x'",
  '/* VACUUM */ SELECT 1',
  'DISCARD PLANS',
  'GRANT SELECT ON t TO alice',
];

describe('runsOutsideTransaction', () => {
  it.each(OUTSIDE)('is true for %s', (sql) => expect(runsOutsideTransaction(sql)).toBe(true));
  it.each(INSIDE)('is false for %s', (sql) => expect(runsOutsideTransaction(sql)).toBe(false));
});

describe('runsOutsideTransaction against PostgreSQL (PGlite)', () => {
  let db: PGlite;
  beforeAll(async () => {
    db = new PGlite();
    await db.exec(`
      CREATE SCHEMA s; CREATE TABLE t (a int); CREATE TABLE s.t (a int); CREATE INDEX i ON t (a);
      CREATE TABLE p (a int) PARTITION BY RANGE (a); CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (10);
      CREATE MATERIALIZED VIEW mv AS SELECT 1 AS a; CREATE UNIQUE INDEX ON mv (a);`);
  });
  afterAll(async () => db.close());

  /** The SQLSTATE of `sql` run inside BEGIN ... ROLLBACK, or null when it succeeds. */
  async function stateInTransaction(sql: string): Promise<string | null> {
    await db.query('BEGIN');
    try {
      await db.query(sql);
      return null;
    } catch (err) {
      return (err as { code?: string }).code ?? 'error';
    } finally {
      await db.query('ROLLBACK');
    }
  }

  const local = [...OUTSIDE, ...INSIDE].filter((s) => !/subscription|tablespace|prepared|alter system|database app|database "?mixed/i.test(s));
  it.each(local)('agrees with the server on %s', async (sql) => {
    const state = await stateInTransaction(sql);
    // 25001: active_sql_transaction ("cannot run inside a transaction block")
    expect(state === '25001').toBe(runsOutsideTransaction(sql));
  });

  it('gives a catalog check that tells a valid index from a missing or invalid one', async () => {
    const sql = 'CREATE INDEX CONCURRENTLY IF NOT EXISTS "Idx" ON ONLY s.t (a)';
    const check = catalogCheck(sql)!;
    expect(check).toMatchObject({ params: ['"s"."Idx"'], appliedWhen: true });
    const present = async (): Promise<boolean> => (await db.query<{ present: boolean }>(check.sql, check.params)).rows[0]!.present;
    expect(await present()).toBe(false);
    await db.query('CREATE INDEX "Idx" ON s.t (a)');
    expect(await present()).toBe(true);
    await db.query(`UPDATE pg_index SET indisvalid = false WHERE indexrelid = 's."Idx"'::regclass`);
    expect(await present()).toBe(false);
    await db.query(cleanupBeforeRetry(sql)!);
    expect((await db.query(`SELECT to_regclass('s."Idx"') AS r`)).rows[0]).toEqual({ r: null });
  });

  it('gives runnable catalog checks for databases, tablespaces, subscriptions, dropped indexes and prepared transactions', async () => {
    for (const sql of [
      'CREATE DATABASE postgres',
      'DROP DATABASE IF EXISTS gone',
      "CREATE TABLESPACE fast LOCATION '/x'",
      'DROP TABLESPACE fast',
      "CREATE SUBSCRIPTION sub CONNECTION 'x' PUBLICATION p",
      'DROP SUBSCRIPTION sub',
      'DROP INDEX CONCURRENTLY public.i',
      "COMMIT PREPARED 'tx'",
    ]) {
      const check = catalogCheck(sql)!;
      const row = (await db.query<{ present: boolean }>(check.sql, check.params)).rows[0]!;
      expect(typeof row.present, sql).toBe('boolean');
    }
    const db1 = catalogCheck('CREATE DATABASE postgres')!;
    expect((await db.query<{ present: boolean }>(db1.sql, db1.params)).rows[0]!.present).toBe(true);
    const idx = catalogCheck('DROP INDEX CONCURRENTLY public.i')!;
    expect((await db.query<{ present: boolean }>(idx.sql, idx.params)).rows[0]!.present).toBe(true);
  });
});

describe('catalogCheck', () => {
  it.each([
    { sql: 'CREATE DATABASE Analytics', params: ['analytics'], appliedWhen: true, what: 'database analytics exists' },
    { sql: 'DROP DATABASE IF EXISTS "Old DB" WITH (FORCE)', params: ['Old DB'], appliedWhen: false, what: 'database Old DB is gone' },
    { sql: "CREATE TABLESPACE fast LOCATION '/ssd'", params: ['fast'], appliedWhen: true, what: 'tablespace fast exists' },
    { sql: 'DROP TABLESPACE IF EXISTS fast', params: ['fast'], appliedWhen: false, what: 'tablespace fast is gone' },
    { sql: 'CREATE INDEX CONCURRENTLY i ON t (a)', params: ['"i"'], appliedWhen: true, what: 'index "i" exists and is valid' },
    { sql: 'create unique index concurrently I on db.S.T (a)', params: ['"s"."i"'], appliedWhen: true, what: 'index "s"."i" exists and is valid' },
    { sql: 'DROP INDEX CONCURRENTLY IF EXISTS s.i', params: ['"s"."i"'], appliedWhen: false, what: 'index "s"."i" is gone' },
    { sql: "CREATE SUBSCRIPTION sub CONNECTION 'x' PUBLICATION p", params: ['sub'], appliedWhen: true, what: 'subscription sub exists' },
  ])('checks $sql', ({ sql, params, appliedWhen, what }) => {
    expect(catalogCheck(sql)).toMatchObject({ params, appliedWhen, what });
  });

  it.each([
    'CREATE INDEX CONCURRENTLY ON t (a)',
    'CREATE INDEX i ON t (a)',
    "ALTER SYSTEM SET work_mem = '1MB'",
    'VACUUM',
    'REINDEX DATABASE app',
    'CLUSTER',
    'SELECT 1',
    '',
  ])('has no check for %s', (sql) => {
    expect(catalogCheck(sql)).toBeNull();
  });

  it('cleans up only after CREATE INDEX CONCURRENTLY with a name', () => {
    expect(cleanupBeforeRetry('CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON s.t (a)')).toBe('DROP INDEX IF EXISTS "s"."i"');
    expect(cleanupBeforeRetry('CREATE INDEX CONCURRENTLY ON s.t (a)')).toBeNull();
    expect(cleanupBeforeRetry('DROP INDEX CONCURRENTLY s.i')).toBeNull();
    expect(cleanupBeforeRetry('CREATE DATABASE x')).toBeNull();
  });
});
