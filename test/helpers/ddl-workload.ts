import pg from 'pg';
import { runPgTool, type PgSetting, type PostgresCluster } from './postgres-server.js';
import { mulberry32 } from '../../samples/gen/prng.js';

/**
 * Settings for a primary whose jsonlog the sync tests read: every statement is logged
 * when it starts (log_statement=all) and again with its duration when it ends, a failing
 * one with an ERROR record of its session; times in UTC; messages in English.
 */
export const PRIMARY_LOG_SETTINGS: Record<string, PgSetting> = {
  log_destination: 'jsonlog',
  log_statement: 'all',
  log_min_duration_statement: 0,
  log_min_error_statement: 'error',
  log_timezone: 'UTC',
  lc_messages: 'C',
};

export interface DdlWorkloadOptions {
  /** Picks column types, which grants are revoked, which tables lose a column (default 1). */
  seed?: number;
  /** Concurrent DDL sessions, each its own login role (default 4); even ones work in `postgres`, odd ones in `wl_db2`. */
  sessions?: number;
  /** Tables per session are 6 × scale (default 1). */
  scale?: number;
}

export interface DdlWorkloadResult {
  /** Statements sent, every kind, failures included. */
  statements: number;
  /** DDL and DCL statements sent (CREATE, ALTER, DROP, COMMENT, GRANT, REVOKE, ...), failures included. */
  ddlDcl: number;
  /** Statements that failed on the primary (every one of them on purpose). */
  failures: number;
  databases: string[];
  /** Roles the workload created and did not drop. */
  roles: string[];
  /** Schemas the workload created (in either database). */
  schemas: string[];
}

type StepKind = 'ddl' | 'dcl' | 'session' | 'tcl' | 'dml' | 'query';

/** One statement and, when it is meant to fail, the SQLSTATE it must fail with. */
interface Step {
  sql: string;
  kind: StepKind;
  fails?: string;
}

interface Script {
  name: string;
  user: string;
  database: string;
  steps: Step[];
}

const DB2 = 'wl_db2';
const GROUPS = ['wl_readers', 'wl_writers', 'wl_owners', 'wl_auditors'];

const rng = mulberry32;

const ddl = (sql: string, fails?: string): Step => ({ sql, kind: 'ddl', ...(fails ? { fails } : {}) });
const dcl = (sql: string, fails?: string): Step => ({ sql, kind: 'dcl', ...(fails ? { fails } : {}) });
const session = (sql: string): Step => ({ sql, kind: 'session' });

const user = (i: number): string => `wl_u${i}`;
const dbOf = (i: number): string => (i % 2 === 0 ? 'postgres' : DB2);
/** The other session in the same database that a session's cross-session objects use, if any. */
function partnerOf(i: number, sessions: number): number | null {
  if (i + 2 < sessions) return i + 2;
  if (i - 2 >= 0) return i - 2;
  return null;
}

/** Phase 1, admin in `postgres`: roles, memberships, the second database, schemas of the sessions there. */
function adminSetup(sessions: number, seed: number): Script {
  const r = rng(seed * 7919);
  const steps: Step[] = [];
  for (const g of GROUPS) steps.push(dcl(`CREATE ROLE ${g} NOLOGIN`));
  steps.push(dcl('CREATE ROLE wl_readers', '42710'));
  for (let i = 0; i < sessions; i++) {
    steps.push(dcl(i % 2 === 0 ? `CREATE USER ${user(i)} WITH PASSWORD 'pw-${i}-secret'` : `CREATE ROLE ${user(i)} LOGIN`));
  }
  for (let k = 0; k < 6; k++) {
    const attrs = ['NOLOGIN', 'LOGIN PASSWORD \'x-' + k + '\'', 'LOGIN CONNECTION LIMIT 5', 'NOLOGIN CREATEDB', 'LOGIN VALID UNTIL \'2031-01-01 00:00:00+00\'', 'NOLOGIN NOINHERIT'][k]!;
    steps.push(dcl(`CREATE ROLE wl_extra${k} ${attrs}`));
    steps.push(ddl(`COMMENT ON ROLE wl_extra${k} IS 'extra role ${k} of seed ${seed}'`));
  }
  steps.push(dcl('CREATE ROLE wl_temp NOLOGIN'));
  steps.push(dcl('ALTER ROLE wl_extra0 CREATEROLE'));
  steps.push(dcl('ALTER ROLE wl_extra2 CONNECTION LIMIT 7'));
  steps.push(dcl("ALTER ROLE wl_readers SET work_mem = '8MB'"));
  steps.push(dcl("ALTER ROLE wl_extra4 VALID UNTIL '2032-06-30 12:00:00+00'"));
  steps.push(dcl('ALTER ROLE wl_nobody LOGIN', '42704'));
  steps.push(dcl('GRANT wl_readers TO wl_writers'));
  steps.push(dcl('GRANT wl_readers TO wl_auditors WITH ADMIN OPTION'));
  for (let i = 0; i < sessions; i++) {
    steps.push(dcl(`GRANT wl_writers TO ${user(i)}`));
    steps.push(dcl(`GRANT wl_owners TO ${user(i)}${r() < 0.5 ? ' WITH ADMIN OPTION' : ''}`));
  }
  steps.push(dcl('GRANT wl_auditors TO wl_extra1, wl_extra3'));
  steps.push(dcl('GRANT wl_missing TO wl_extra1', '42704'));
  steps.push(ddl('CREATE SCHEMA shared AUTHORIZATION wl_owners'));
  steps.push(ddl("COMMENT ON SCHEMA shared IS 'objects every session adds to'"));
  steps.push(dcl('GRANT USAGE, CREATE ON SCHEMA shared TO wl_writers'));
  steps.push(dcl('GRANT USAGE ON SCHEMA shared TO wl_auditors'));
  steps.push(ddl('CREATE SCHEMA shared', '42P06'));
  for (let i = 0; i < sessions; i += 2) steps.push(ddl(`CREATE SCHEMA wl_s${i} AUTHORIZATION ${user(i)}`));
  // Not in a transaction block: logged and applied on its own.
  steps.push(ddl(`CREATE DATABASE ${DB2} OWNER wl_owners`));
  steps.push(ddl(`COMMENT ON DATABASE ${DB2} IS 'second database of the workload'`));
  steps.push(dcl(`REVOKE CONNECT ON DATABASE ${DB2} FROM PUBLIC`));
  steps.push(dcl(`GRANT CONNECT ON DATABASE ${DB2} TO wl_writers, wl_auditors`));
  steps.push(dcl(`GRANT TEMPORARY ON DATABASE ${DB2} TO wl_writers`));
  steps.push(ddl(`CREATE DATABASE ${DB2}`, '42P04'));
  return { name: 'admin-setup', user: 'postgres', database: 'postgres', steps };
}

/** Phase 1b, admin in the second database. */
function adminSecondDb(sessions: number): Script {
  const steps: Step[] = [
    ddl('CREATE SCHEMA shared AUTHORIZATION wl_owners'),
    ddl("COMMENT ON SCHEMA shared IS 'shared schema of the second database'"),
    dcl('GRANT USAGE, CREATE ON SCHEMA shared TO wl_writers'),
    dcl('GRANT USAGE ON SCHEMA public TO wl_auditors'),
  ];
  for (let i = 1; i < sessions; i += 2) steps.push(ddl(`CREATE SCHEMA wl_s${i} AUTHORIZATION ${user(i)}`));
  return { name: 'admin-db2', user: 'postgres', database: DB2, steps };
}

const EXTRA_TYPES = ['integer', 'bigint', 'text', 'varchar(40)', 'boolean', 'date', 'numeric(8,3)', 'jsonb', 'uuid', 'smallint'];

/** Phase 2: one session's own objects, in its own schema, in `shared` under its own names. */
function ownObjects(i: number, sessions: number, seed: number, scale: number): Script {
  const r = rng(seed * 7919 + 101 * (i + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const s = `wl_s${i}`;
  const me = user(i);
  const steps: Step[] = [
    dcl(`ALTER DEFAULT PRIVILEGES IN SCHEMA ${s} GRANT SELECT ON TABLES TO wl_readers`),
    dcl('ALTER DEFAULT PRIVILEGES GRANT USAGE ON SEQUENCES TO wl_writers'),
    dcl('ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC'),
    dcl(`GRANT USAGE ON SCHEMA ${s} TO wl_readers`),
    dcl(`GRANT USAGE, CREATE ON SCHEMA ${s} TO wl_owners`),
    ddl(`COMMENT ON SCHEMA ${s} IS 'schema of ${me}'`),
    ddl(`CREATE TABLE ${s}.noise (v integer)`),
    session(`SET search_path TO ${s}, public`),
  ];
  const tables = 6 * scale;
  for (let k = 0; k < tables; k++) {
    const t = `t${k}`;
    // Unqualified half the time: they land in the session's search_path.
    const q = (name: string): string => (k % 2 === 0 ? name : `${s}.${name}`);
    const id = pick(['id serial PRIMARY KEY', 'id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY', 'id integer GENERATED BY DEFAULT AS IDENTITY (START WITH 10) PRIMARY KEY']);
    const extra = Array.from({ length: 1 + Math.floor(r() * 3) }, (_, j) => `x${j} ${pick(EXTRA_TYPES)}`);
    steps.push(
      ddl(
        `CREATE TABLE ${q(t)} (${id}, name text NOT NULL DEFAULT 'n${k}', amount numeric(10,2) DEFAULT 0 CHECK (amount >= 0), ` +
          `created timestamptz NOT NULL DEFAULT now(), ${extra.join(', ')}, UNIQUE (name, id))`,
      ),
      ddl(`COMMENT ON TABLE ${q(t)} IS 'table ${k} of ${me}'`),
      ddl(`COMMENT ON COLUMN ${q(t)}.name IS 'the name, seed ${seed}'`),
      ddl(`ALTER TABLE ${q(t)} ADD COLUMN note text`),
      ddl(`ALTER TABLE ${q(t)} ADD COLUMN level integer NOT NULL DEFAULT ${k}`),
      ddl(`CREATE INDEX ${t}_name_idx ON ${q(t)} (name)`),
      ddl(`CREATE VIEW ${q(`v${k}`)} AS SELECT id, name, amount FROM ${q(t)} WHERE amount > ${k}`),
      // The view follows the rename: its definition now reads `total`.
      ddl(`ALTER TABLE ${q(t)} RENAME COLUMN amount TO total`),
      ddl(`ALTER TABLE ${q(t)} ALTER COLUMN total TYPE numeric(12,2)`, '0A000'),
      ddl(`ALTER TABLE ${q(t)} ALTER COLUMN level SET DEFAULT ${k + 100}`),
      dcl(`GRANT SELECT, INSERT, UPDATE ON ${q(t)} TO wl_writers`),
      dcl(`GRANT UPDATE (name, note) ON ${q(t)} TO wl_auditors`),
      dcl(`GRANT SELECT ON ${q(`v${k}`)} TO wl_auditors`),
      ddl(`CREATE SEQUENCE ${q(`seq${k}`)} INCREMENT BY ${k + 1} START WITH 100 CACHE 1`),
      ddl(`ALTER SEQUENCE ${q(`seq${k}`)} MAXVALUE 1000000`),
      dcl(`GRANT USAGE, SELECT ON SEQUENCE ${q(`seq${k}`)} TO wl_auditors`),
      ddl(`CREATE FUNCTION ${q(`f${k}`)}(a integer) RETURNS integer LANGUAGE sql IMMUTABLE AS $$SELECT a + ${k}$$`),
      dcl(`GRANT EXECUTE ON FUNCTION ${q(`f${k}`)}(integer) TO wl_readers`),
      ddl(`COMMENT ON FUNCTION ${q(`f${k}`)}(integer) IS 'adds ${k}'`),
      { sql: `INSERT INTO ${s}.noise VALUES (${k})`, kind: 'dml' },
      { sql: `SELECT count(*) FROM ${q(t)}`, kind: 'query' },
    );
    if (r() < 0.5) steps.push(ddl(`ALTER TABLE ${q(t)} DROP COLUMN note`));
    if (r() < 0.5) steps.push(dcl(`REVOKE INSERT ON ${q(t)} FROM wl_writers`));
    if (r() < 0.3) steps.push(dcl(`REVOKE SELECT ON ${q(t)} FROM wl_readers`));
    if (r() < 0.5) steps.push(ddl(`ALTER INDEX ${q(`${t}_name_idx`)} RENAME TO ${t}_by_name`));
    if (r() < 0.4) steps.push(ddl(`CREATE OR REPLACE VIEW ${q(`v${k}`)} AS SELECT id, name, total AS amount FROM ${q(t)} WHERE total > ${k + 1}`));
    switch (k % 4) {
      case 0:
        steps.push(ddl(`CREATE TABLE ${q(t)} (id integer)`, '42P07'));
        break;
      case 1:
        steps.push(ddl(`DROP TABLE ${s}.no_such_table_${k}`, '42P01'));
        break;
      case 2:
        steps.push(ddl(`ALTER TABLE ${q(t)} DROP COLUMN no_such_column`, '42703'));
        break;
      default:
        steps.push(dcl(`GRANT SELECT ON ${q(t)} TO wl_nobody`, '42704'));
    }
    steps.push(ddl(`CREATE TABLE ${q(`scratch${k}`)} (a integer)`), ddl(`DROP TABLE ${q(`scratch${k}`)}`));
  }
  // Owned by the group: the owner is the role set, not the one logged in.
  steps.push(
    session('SET ROLE wl_owners'),
    ddl(`CREATE TABLE owned_by_group (id integer PRIMARY KEY, label text)`),
    ddl(`CREATE TABLE shared.g${i}_items (id integer PRIMARY KEY, qty integer CHECK (qty > 0))`),
    dcl(`GRANT SELECT ON shared.g${i}_items TO wl_readers`),
    session('RESET ROLE'),
    ddl(`CREATE TABLE shared.u${i}_log (at timestamptz DEFAULT now(), what text)`),
    ddl(`CREATE INDEX CONCURRENTLY u${i}_log_at ON shared.u${i}_log (at)`),
    ddl(`CREATE INDEX CONCURRENTLY t0_created_idx ON ${s}.t0 (created)`),
    { sql: 'BEGIN', kind: 'tcl' },
    ddl(`CREATE TABLE ${s}.in_tx (id integer)`),
    ddl(`COMMENT ON TABLE ${s}.in_tx IS 'created in a transaction block'`),
    { sql: 'COMMIT', kind: 'tcl' },
    session('SET search_path TO public'),
    ddl(`CREATE UNLOGGED TABLE ${s}.fast (k text PRIMARY KEY, v jsonb)`),
    ddl(`CREATE MATERIALIZED VIEW ${s}.mv AS SELECT id, name FROM ${s}.t0 WITH NO DATA`),
    ddl(`CREATE TABLE pg_catalog.fast (k text)`, '42501'),
  );
  const partner = partnerOf(i, sessions);
  if (partner !== null) {
    // Only now may the partner rely on these: the barrier after this phase orders it.
    steps.push(dcl(`GRANT USAGE ON SCHEMA ${s} TO ${user(partner)}`), dcl(`GRANT SELECT (id, name) ON ${s}.t0 TO ${user(partner)}`));
  }
  return { name: `own-${i}`, user: me, database: dbOf(i), steps };
}

/** Phase 3: objects over the partner's, and changes that no other session depends on. */
function crossObjects(i: number, sessions: number, seed: number): Script {
  const r = rng(seed * 7919 + 977 * (i + 1));
  const s = `wl_s${i}`;
  const partner = partnerOf(i, sessions);
  const steps: Step[] = [session(`SET search_path = ${s}`)];
  if (partner !== null) {
    steps.push(
      ddl(`CREATE VIEW cross_view AS SELECT id, name FROM wl_s${partner}.t0`),
      dcl('GRANT SELECT ON cross_view TO wl_auditors'),
      ddl(`CREATE VIEW cross_bad AS SELECT no_such_column FROM wl_s${partner}.t0`, '42703'),
    );
  }
  steps.push(
    ddl('ALTER TABLE t1 RENAME TO t1_renamed'),
    ddl('ALTER TABLE t1_renamed ADD CONSTRAINT t1_level_positive CHECK (level >= 0)'),
    ddl(`ALTER TABLE t2 ALTER COLUMN name SET DEFAULT 'renamed-${r() < 0.5 ? 'a' : 'b'}'`),
    ddl('DROP VIEW v3'),
    ddl('ALTER VIEW v4 RENAME TO v4_renamed'),
    ddl('ALTER FUNCTION f5(integer) RENAME TO f5_renamed'),
    dcl(`REVOKE UPDATE (name) ON t0 FROM wl_auditors`),
    ddl('ALTER TABLE t3 ADD COLUMN t0_id integer REFERENCES t0 (id)'),
    ddl('CREATE INDEX t3_t0_id ON t3 (t0_id) WHERE t0_id IS NOT NULL'),
    ddl('DROP TABLE t99', '42P01'),
  );
  return { name: `cross-${i}`, user: user(i), database: dbOf(i), steps };
}

/** Phase 4, admin in `postgres`: changes across sessions' objects, once they are done. */
function adminFinish(sessions: number): Script {
  const steps: Step[] = [
    ddl('ALTER TABLE wl_s0.t2 OWNER TO wl_owners'),
    ddl('ALTER SCHEMA shared OWNER TO wl_extra0'),
    dcl(`REVOKE wl_owners FROM ${user(sessions - 1)}`),
    dcl('DROP ROLE wl_temp'),
    dcl('DROP ROLE wl_temp', '42704'),
    dcl('ALTER ROLE wl_extra5 INHERIT'),
    ddl("COMMENT ON ROLE wl_readers IS 'read-only group'"),
    dcl('ALTER DEFAULT PRIVILEGES FOR ROLE wl_owners IN SCHEMA shared GRANT SELECT ON TABLES TO wl_auditors'),
  ];
  return { name: 'admin-finish', user: 'postgres', database: 'postgres', steps };
}

interface Tally {
  statements: number;
  ddlDcl: number;
  failures: number;
}

/** Waits until the clock is past `ms`, so the next statement's log time (milliseconds) is later than the last one's. */
async function pastMillisecond(ms: number): Promise<void> {
  while (Date.now() <= ms) await new Promise((resolve) => setImmediate(resolve));
}

async function runScript(primary: PostgresCluster, script: Script, tally: Tally): Promise<void> {
  const client = new pg.Client({ host: primary.host, port: primary.port, user: script.user, database: script.database, application_name: `wl-${script.name}` });
  client.on('error', () => {});
  await client.connect();
  try {
    for (const step of script.steps) {
      tally.statements++;
      if (step.kind === 'ddl' || step.kind === 'dcl') tally.ddlDcl++;
      let state: string | undefined;
      try {
        // No parameters: the simple protocol, one statement per log record, as psql sends it.
        await client.query(step.sql);
      } catch (err) {
        state = (err as { code?: string }).code ?? 'unknown';
        if (step.fails !== state) throw new Error(`workload ${script.name}: ${step.sql} failed with ${state}: ${(err as Error).message}`, { cause: err });
        tally.failures++;
      }
      if (step.fails && state === undefined) throw new Error(`workload ${script.name}: ${step.sql} succeeded but must fail with ${step.fails}`);
      // Within a session, log order is then time order even at millisecond resolution.
      await pastMillisecond(Date.now());
    }
  } finally {
    await client.end().catch(() => {});
  }
}

/** Runs the scripts of one phase at once; after it, the clock has moved on, so no later statement shares its last millisecond. */
async function phase(primary: PostgresCluster, scripts: Script[], tally: Tally): Promise<void> {
  await Promise.all(scripts.map((s) => runScript(primary, s, tally)));
  await pastMillisecond(Date.now() + 2);
}

/**
 * Runs a DDL/DCL workload on the primary: an admin session creates roles, memberships,
 * a second database (`wl_db2`) and schemas; then `sessions` login roles work at once,
 * each on its own objects (even sessions in `postgres`, odd ones in `wl_db2`), with
 * search_path, SET ROLE, failures on purpose, CREATE INDEX CONCURRENTLY and a little DML;
 * after a barrier they build on each other's objects; the admin ends with changes across
 * them. Replaying the successful statements in log order rebuilds the same catalog.
 * Deterministic for a seed (default seed 1, 4 sessions, scale 1: about 700 DDL/DCL statements).
 */
export async function runDdlWorkload(primary: PostgresCluster, options: DdlWorkloadOptions = {}): Promise<DdlWorkloadResult> {
  const seed = options.seed ?? 1;
  const sessions = options.sessions ?? 4;
  const scale = options.scale ?? 1;
  if (!(sessions >= 1 && Number.isInteger(sessions)) || !(scale >= 1 && Number.isInteger(scale))) throw new Error('sessions and scale are whole numbers >= 1');
  const tally: Tally = { statements: 0, ddlDcl: 0, failures: 0 };
  const ids = Array.from({ length: sessions }, (_, i) => i);
  await phase(primary, [adminSetup(sessions, seed)], tally);
  await phase(primary, [adminSecondDb(sessions)], tally);
  await phase(primary, ids.map((i) => ownObjects(i, sessions, seed, scale)), tally);
  await phase(primary, ids.map((i) => crossObjects(i, sessions, seed)), tally);
  await phase(primary, [adminFinish(sessions)], tally);
  return {
    ...tally,
    databases: ['postgres', DB2],
    roles: [...GROUPS, ...ids.map(user), ...Array.from({ length: 6 }, (_, k) => `wl_extra${k}`)].sort(),
    schemas: ['shared', ...ids.map((i) => `wl_s${i}`)].sort(),
  };
}

async function runTool(cluster: PostgresCluster, tool: string, args: string[]): Promise<string> {
  const r = await runPgTool(cluster, tool, args);
  if (r.code !== 0) throw new Error(`${tool} ${args.join(' ')} failed (exit ${r.code}): ${r.stderr}`);
  return r.stdout;
}

/** pg_dump 15.14+ fences its output with `\restrict KEY` and `\unrestrict KEY`, a random key per run. */
const stripRestrictKeys = (dump: string): string => dump.replace(/^\\(un)?restrict .*\n/gm, '');

/**
 * The schema of one database as `pg_dump --schema-only` writes it (comments, owners and
 * privileges kept; our ledger schema `auditreplay` left out), comparable across clusters.
 */
export async function dumpSchema(cluster: PostgresCluster, database: string): Promise<string> {
  return stripRestrictKeys(await runTool(cluster, 'pg_dump', ['--schema-only', '--exclude-schema=auditreplay', '-d', database]));
}

/** The roles of a cluster as `pg_dumpall --roles-only --no-role-passwords` writes them: no password or SCRAM secret. */
export async function dumpRoles(cluster: PostgresCluster): Promise<string> {
  return stripRestrictKeys(await runTool(cluster, 'pg_dumpall', ['--roles-only', '--no-role-passwords']));
}

/** Raw output of a PostgreSQL client tool (pg_dump, pg_dumpall, ...) run against the cluster as `postgres`. */
export function pgTool(cluster: PostgresCluster, tool: string, args: string[]): Promise<string> {
  return runTool(cluster, tool, args);
}
