import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTarget } from '../../src/replay/target-registry.js';
import type { Drift } from '../../src/replay/verify/catalog-diff.js';
import { dumpRoles, dumpSchema, pgTool, PRIMARY_LOG_SETTINGS, runDdlWorkload, type DdlWorkloadResult } from '../helpers/ddl-workload.js';
import { ensurePostgres, startPostgres, type PostgresCluster } from '../helpers/postgres-server.js';
import { runCli } from '../helpers/run-cli.js';

/**
 * `auditreplay verify` against two real PostgreSQL 15 clusters: the workload runs on the
 * primary, the secondary gets the primary's state through pg_dumpall/pg_dump, so the two
 * catalogs agree; then one kind of drift at a time is made on the secondary and undone.
 */

let primary: PostgresCluster;
let secondary: PostgresCluster;
/** Rebuilt by replaying the primary's log, not by a dump. */
let replayed: PostgresCluster;
let workload: DdlWorkloadResult;

interface VerifyJson {
  equal: boolean;
  primary: string;
  secondary: string;
  databases: string[];
  counts: Record<string, number>;
  drift: Drift[];
}

interface JsonRecord {
  timestamp: string;
  session_id: string;
  line_num: number;
  user: string;
  dbname: string;
  application_name?: string;
  error_severity: string;
  message: string;
}

/** The workload's records of the primary's jsonlog, once the logging collector has written its last failure. */
async function workloadRecords(): Promise<JsonRecord[]> {
  const jsonlog = (await primary.logFiles()).find((f) => f.endsWith('.json'));
  if (!jsonlog) throw new Error('the primary wrote no jsonlog');
  let records: JsonRecord[] = [];
  for (let tries = 0; tries < 50; tries++) {
    // Only the workload's sessions: the dumps that copied the primary ran queries too.
    records = (await readFile(jsonlog, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as JsonRecord)
      .filter((r) => r.application_name?.startsWith('wl-'));
    if (records.filter((r) => r.error_severity === 'ERROR').length >= workload.failures) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return records;
}

/**
 * The simplest faithful replay of a jsonlog: the statements that succeeded, in (time,
 * line) order, each original session on a session of its own that runs as its user.
 */
async function replayLog(records: JsonRecord[], onto: PostgresCluster): Promise<number> {
  const bySession = new Map<string, JsonRecord[]>();
  for (const r of records) bySession.set(r.session_id, [...(bySession.get(r.session_id) ?? []), r]);
  const ok: JsonRecord[] = [];
  for (const list of bySession.values()) {
    list.sort((a, b) => a.line_num - b.line_num);
    list.forEach((r, i) => {
      if (r.message.startsWith('statement: ') && list[i + 1]?.error_severity !== 'ERROR') ok.push(r);
    });
  }
  ok.sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : a.session_id === b.session_id ? a.line_num - b.line_num : 0));
  const clients = new Map<string, pg.Client>();
  try {
    for (const r of ok) {
      let client = clients.get(r.session_id);
      if (!client) {
        client = new pg.Client({ host: onto.host, port: onto.port, user: 'postgres', database: r.dbname });
        await client.connect();
        clients.set(r.session_id, client);
        await client.query(`SET SESSION AUTHORIZATION ${r.user}`);
      }
      await client.query(r.message.slice('statement: '.length));
    }
  } finally {
    await Promise.allSettled([...clients.values()].map((c) => c.end()));
  }
  return ok.length;
}

async function verify(extra: string[] = []): Promise<{ code: number | null; stdout: string; stderr: string; json: VerifyJson }> {
  const r = await runCli(['verify', '--primary', primary.url('postgres'), '--secondary', secondary.url('postgres'), '--json', ...extra]);
  let json: VerifyJson;
  try {
    json = JSON.parse(r.stdout) as VerifyJson;
  } catch (err) {
    throw new Error(`verify printed no JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`, { cause: err });
  }
  return { ...r, json };
}

/** Pipes a dump into the secondary's psql; only the bootstrap role may already exist. */
async function restore(dump: string, database = 'postgres'): Promise<void> {
  const r = await secondary.psql(dump, { database });
  const errors = r.stderr.split('\n').filter((l) => l.includes('ERROR') && !l.includes('role "postgres" already exists'));
  expect(errors, r.stderr).toEqual([]);
}

beforeAll(async () => {
  ensurePostgres([]);
  [primary, secondary, replayed] = await Promise.all([startPostgres({ settings: PRIMARY_LOG_SETTINGS }), startPostgres(), startPostgres()]);
  workload = await runDdlWorkload(primary);
  await restore(await pgTool(primary, 'pg_dumpall', ['--roles-only']));
  await restore(await pgTool(primary, 'pg_dump', ['--schema-only', '-d', 'postgres']));
  await restore(await pgTool(primary, 'pg_dump', ['--schema-only', '--create', '-d', 'wl_db2']));
}, 600_000);

afterAll(async () => {
  await Promise.allSettled([primary?.destroy(), secondary?.destroy(), replayed?.destroy()]);
});

describe('auditreplay verify on two PostgreSQL 15 clusters', () => {
  it('runs a workload of at least 500 DDL/DCL statements with failures, all in the jsonlog', async () => {
    expect(workload.ddlDcl).toBeGreaterThanOrEqual(500);
    expect(workload.failures).toBeGreaterThan(0);
    expect(workload.databases).toEqual(['postgres', 'wl_db2']);
    const records = await workloadRecords();
    expect(records.filter((r) => r.error_severity === 'ERROR')).toHaveLength(workload.failures);
    expect(records.filter((r) => r.message.startsWith('statement: ')).length).toBe(workload.statements);
  });

  it('rebuilds the primary exactly by replaying its successful statements in log order', async () => {
    const applied = await replayLog(await workloadRecords(), replayed);
    expect(applied).toBe(workload.statements - workload.failures);
    const r = await runCli(['verify', '--primary', primary.url('postgres'), '--secondary', replayed.url('postgres'), '--json']);
    expect((JSON.parse(r.stdout) as VerifyJson).drift).toEqual([]);
    expect(r.code).toBe(0);
    expect(await dumpRoles(replayed)).toBe(await dumpRoles(primary));
    for (const db of workload.databases) expect(await dumpSchema(replayed, db)).toBe(await dumpSchema(primary, db));
  });

  it('copies the primary so that the dump helpers of both clusters agree', async () => {
    expect(await dumpRoles(secondary)).toBe(await dumpRoles(primary));
    const roles = await dumpRoles(primary);
    expect(roles).toContain('CREATE ROLE wl_u0;');
    expect(roles).not.toMatch(/PASSWORD|SCRAM-SHA-256/);
    for (const db of workload.databases) {
      const dump = await dumpSchema(primary, db);
      expect(dump).toContain('CREATE TABLE');
      expect(dump).not.toMatch(/^\\restrict/m);
      expect(await dumpSchema(secondary, db)).toBe(dump);
    }
  });

  it('reports no drift on the copy, in text and in JSON, and exits 0', async () => {
    const text = await runCli(['verify', '--primary', primary.url('postgres'), '--secondary', secondary.url('postgres')]);
    expect(text.stderr).toBe('');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^no drift: 2 databases, \d+ schemas, \d+ tables, .* compared/);

    const r = await verify();
    expect(r.code).toBe(0);
    expect(r.json.equal).toBe(true);
    expect(r.json.drift).toEqual([]);
    expect(r.json.databases).toEqual(['postgres', 'wl_db2']);
    expect(r.json.counts.tables).toBeGreaterThanOrEqual(40);
    expect(r.json.counts.roles).toBe(workload.roles.length + 1);
  });

  const cases: { name: string; database?: string; inject: string; undo: string; expected: Partial<Drift> }[] = [
    {
      name: 'a revoked grant',
      inject: 'REVOKE SELECT ON wl_s0.t0 FROM wl_writers',
      undo: 'GRANT SELECT ON wl_s0.t0 TO wl_writers',
      expected: { change: 'missing', objectType: 'privilege', name: 'SELECT on table wl_s0.t0 to wl_writers', database: 'postgres' },
    },
    {
      name: 'a changed column default',
      inject: 'ALTER TABLE wl_s0.t0 ALTER COLUMN level SET DEFAULT 42',
      undo: 'ALTER TABLE wl_s0.t0 ALTER COLUMN level SET DEFAULT 100',
      expected: { change: 'different', objectType: 'column', name: 'wl_s0.t0.level', property: 'default', primary: '100', secondary: '42' },
    },
    {
      name: 'a missing index',
      database: 'wl_db2',
      inject: 'DROP INDEX wl_s1.t0_created_idx',
      undo: 'CREATE INDEX t0_created_idx ON wl_s1.t0 (created)',
      expected: { change: 'missing', objectType: 'index', name: 'wl_s1.t0_created_idx', database: 'wl_db2' },
    },
    {
      name: 'a changed view',
      inject: 'CREATE OR REPLACE VIEW wl_s0.cross_view AS SELECT id, name FROM wl_s2.t0 WHERE id > 0',
      undo: 'CREATE OR REPLACE VIEW wl_s0.cross_view AS SELECT id, name FROM wl_s2.t0',
      expected: { change: 'different', objectType: 'view', name: 'wl_s0.cross_view', property: 'definition' },
    },
    {
      name: 'an extra role membership',
      inject: 'GRANT wl_auditors TO wl_u1',
      undo: 'REVOKE wl_auditors FROM wl_u1',
      expected: { change: 'extra', objectType: 'membership', name: 'wl_u1 in wl_auditors', database: null },
    },
    {
      name: 'a changed comment',
      database: 'wl_db2',
      inject: "COMMENT ON TABLE wl_s1.t1_renamed IS 'changed by hand'",
      undo: "COMMENT ON TABLE wl_s1.t1_renamed IS 'table 1 of wl_u1'",
      expected: { change: 'different', objectType: 'table', name: 'wl_s1.t1_renamed', property: 'comment', primary: 'table 1 of wl_u1', secondary: 'changed by hand' },
    },
    {
      name: 'a different owner',
      inject: 'ALTER TABLE wl_s2.t4 OWNER TO wl_extra1',
      undo: 'ALTER TABLE wl_s2.t4 OWNER TO wl_u2',
      expected: { change: 'different', objectType: 'table', name: 'wl_s2.t4', property: 'owner', primary: 'wl_u2', secondary: 'wl_extra1' },
    },
    {
      name: 'a dropped default privilege',
      inject: 'ALTER DEFAULT PRIVILEGES FOR ROLE wl_u0 IN SCHEMA wl_s0 REVOKE SELECT ON TABLES FROM wl_readers',
      undo: 'ALTER DEFAULT PRIVILEGES FOR ROLE wl_u0 IN SCHEMA wl_s0 GRANT SELECT ON TABLES TO wl_readers',
      expected: { change: 'missing', objectType: 'default privilege', name: 'SELECT on tables created by wl_u0 in schema wl_s0 to wl_readers', database: 'postgres' },
    },
  ];

  for (const c of cases) {
    it(`reports ${c.name} as drift and exits 1`, async () => {
      const database = c.database ?? 'postgres';
      await secondary.sql(c.inject, { database });
      try {
        const r = await verify(['--database', database]);
        expect(r.code).toBe(1);
        expect(r.json.equal).toBe(false);
        expect(r.json.drift).toContainEqual(expect.objectContaining({ database, ...c.expected }));
      } finally {
        await secondary.sql(c.undo, { database });
      }
    });
  }

  it('reports no drift again once every injected change is undone', async () => {
    const r = await verify();
    expect(r.json.drift).toEqual([]);
    expect(r.code).toBe(0);
  });

  it('prints drift as readable text, grouped by kind of change', async () => {
    await secondary.sql('ALTER TABLE wl_s0.t0 ALTER COLUMN level SET DEFAULT 7; CREATE TABLE wl_s0.stray (a int); REVOKE SELECT ON wl_s0.t0 FROM wl_writers');
    try {
      const r = await runCli(['verify', '--primary', primary.url('postgres'), '--secondary', secondary.url('postgres'), '--database', 'postgres']);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain('missing on secondary (1):\n  [postgres] privilege SELECT on table wl_s0.t0 to wl_writers\n');
      expect(r.stdout).toContain('extra on secondary (1):\n  [postgres] table wl_s0.stray\n');
      expect(r.stdout).toContain('different (primary vs secondary) (1):\n  [postgres] column wl_s0.t0.level default 100 vs 7\n');
    } finally {
      await secondary.sql('ALTER TABLE wl_s0.t0 ALTER COLUMN level SET DEFAULT 100; DROP TABLE wl_s0.stray; GRANT SELECT ON wl_s0.t0 TO wl_writers');
    }
  });

  it('treats renamed schemas, roles and databases as equal under the mapping flags', async () => {
    await secondary.sql('ALTER SCHEMA wl_s3 RENAME TO wl_s3_copy', { database: 'wl_db2' });
    await secondary.sql('ALTER ROLE wl_extra5 RENAME TO wl_extra5_copy; ALTER DATABASE wl_db2 RENAME TO wl_db2_copy');
    try {
      const unmapped = await verify();
      expect(unmapped.code).toBe(1);
      expect(unmapped.json.drift).toContainEqual(expect.objectContaining({ change: 'missing', objectType: 'database', name: 'wl_db2' }));
      expect(unmapped.json.drift).toContainEqual(expect.objectContaining({ change: 'missing', objectType: 'role', name: 'wl_extra5' }));

      const mapped = await verify(['--map-schema', 'wl_s3=wl_s3_copy', '--map-role', 'wl_extra5=wl_extra5_copy', '--map-database', 'wl_db2=wl_db2_copy']);
      expect(mapped.json.drift).toEqual([]);
      expect(mapped.code).toBe(0);

      // Only the schema map is missing: the view over wl_s3.t0 and the schema itself differ.
      const partly = await verify(['--map-role', 'wl_extra5=wl_extra5_copy', '--map-database', 'wl_db2=wl_db2_copy', '--database', 'wl_db2']);
      expect(partly.code).toBe(1);
      expect(partly.json.drift).toContainEqual(expect.objectContaining({ change: 'missing', objectType: 'schema', name: 'wl_s3', database: 'wl_db2_copy' }));
      expect(partly.json.drift).toContainEqual(expect.objectContaining({ change: 'different', objectType: 'view', name: 'wl_s1.cross_view', property: 'definition' }));
    } finally {
      await secondary.sql('ALTER DATABASE wl_db2_copy RENAME TO wl_db2; ALTER ROLE wl_extra5_copy RENAME TO wl_extra5');
      await secondary.sql('ALTER SCHEMA wl_s3_copy RENAME TO wl_s3', { database: 'wl_db2' });
    }
  });

  it('compares only the schemas asked for', async () => {
    await secondary.sql('CREATE TABLE wl_s2.outside (a int)');
    try {
      const r = await verify(['--database', 'postgres', '--schema', 'wl_s0,shared']);
      expect(r.code).toBe(0);
      expect(r.json.databases).toEqual(['postgres']);
      expect((await verify(['--database', 'postgres', '--schema', 'wl_s2'])).code).toBe(1);
    } finally {
      await secondary.sql('DROP TABLE wl_s2.outside');
    }
  });

  it('refuses a database the primary does not have as a usage error', async () => {
    const r = await runCli(['verify', '--primary', primary.url('postgres'), '--secondary', secondary.url('postgres'), '--database', 'nope']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('nope not on the primary');
  });
});

describe('auditreplay verify on PGlite', () => {
  const DDL = `
    CREATE ROLE app LOGIN;
    CREATE ROLE readers NOLOGIN;
    GRANT readers TO app;
    CREATE SCHEMA sales AUTHORIZATION app;
    CREATE TABLE sales.orders (id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY, total numeric(10,2) NOT NULL DEFAULT 0, note text);
    CREATE INDEX orders_total ON sales.orders (total);
    CREATE VIEW sales.big AS SELECT id, total FROM sales.orders WHERE total > 100;
    COMMENT ON TABLE sales.orders IS 'orders';
    GRANT SELECT ON sales.orders TO readers;
    ALTER DEFAULT PRIVILEGES IN SCHEMA sales GRANT SELECT ON TABLES TO readers;`;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'auditreplay-verify-'));
    for (const side of ['a', 'b']) {
      const target = await openTarget(`pglite://${join(dir, side)}`);
      const session = await target.connect();
      await session.exec(DDL);
      await session.close();
      await target.close();
    }
  }, 120_000);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('finds no drift between two PGlite databases built by the same DDL, and one extra grant', async () => {
    const args = ['verify', '--primary', `pglite://${join(dir, 'a')}`, '--secondary', `pglite://${join(dir, 'b')}`, '--json'];
    const same = await runCli(args);
    expect(same.stderr).toBe('');
    expect(same.code).toBe(0);
    expect((JSON.parse(same.stdout) as VerifyJson).drift).toEqual([]);

    const target = await openTarget(`pglite://${join(dir, 'b')}`);
    const session = await target.connect();
    await session.exec('GRANT UPDATE ON sales.orders TO readers');
    await session.close();
    await target.close();

    const drifted = await runCli(args);
    expect(drifted.code).toBe(1);
    const doc = JSON.parse(drifted.stdout) as VerifyJson;
    expect(doc.drift).toEqual([{ change: 'extra', objectType: 'privilege', name: 'UPDATE on table sales.orders to readers', database: 'postgres' }]);
  }, 120_000);
});
