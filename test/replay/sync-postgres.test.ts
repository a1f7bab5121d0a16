import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dumpRoles, dumpSchema, PRIMARY_LOG_SETTINGS, runDdlWorkload, type DdlWorkloadResult } from '../helpers/ddl-workload.js';
import { ensurePostgres, startPostgres, type PostgresCluster } from '../helpers/postgres-server.js';
import { runCli, type CliResult } from '../helpers/run-cli.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';

/**
 * Sync on real PostgreSQL 15: a primary runs a multi-session DDL/DCL workload and logs
 * it as jsonlog; sync applies it to secondaries (fresh clusters: roles are cluster-wide)
 * and the tests prove, with verify and with pg_dump, that nothing was lost or repeated.
 */

let primary: PostgresCluster;
let workload: DdlWorkloadResult;
let logDir: string;
let work: string;
/** The ids sync must apply: successful DDL/DCL of the primary's log, as extract sees them. */
let expectedIds: string[];
const secondaries: PostgresCluster[] = [];

const FROM = '2d';

beforeAll(async () => {
  ensurePostgres([]);
  work = await mkdtemp(join(tmpdir(), 'auditreplay-sync-'));
  primary = await startPostgres({ settings: PRIMARY_LOG_SETTINGS });
  workload = await runDdlWorkload(primary, { seed: 7 });
  logDir = primary.logDir;
  const events = join(work, 'expected.jsonl');
  const res = await runCli(['extract', ...sourceArgs(), '--from', FROM, '--kind', 'ddl,dcl', '--ok-only', '--out', events]);
  expect(res.code, res.stderr).toBe(0);
  expectedIds = (await readFile(events, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { id: string }).id);
}, 900_000);

afterAll(async () => {
  await Promise.allSettled([primary?.destroy(), ...secondaries.map((s) => s.destroy())]);
  if (work) await rm(work, { recursive: true, force: true });
}, 120_000);

function sourceArgs(): string[] {
  // The collector's folder also holds postgresql.log (stderr before jsonlog starts): sniffed per object.
  return ['--source', logDir, '--layout', 'flat'];
}

async function newSecondary(): Promise<PostgresCluster> {
  const s = await startPostgres();
  secondaries.push(s);
  return s;
}

function sync(secondary: PostgresCluster | string, extra: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const url = typeof secondary === 'string' ? secondary : secondary.url('postgres');
  // The workload grants WITH ADMIN OPTION among its own roles: allowed explicitly, as an operator would.
  return runCli(['sync', ...sourceArgs(), '--from', FROM, '--target', url, '--batch', '20', '--allow-roles', 'wl_*', ...extra], { env });
}

async function query<R>(url: string, sql: string, params: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as R[];
  } finally {
    await client.end();
  }
}

/** Every ledger row of every database of the secondary: the exactly-once evidence. */
async function ledgerIds(secondary: PostgresCluster): Promise<string[]> {
  const dbs = await query<{ datname: string }>(secondary.url('postgres'), 'SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate');
  const ids: string[] = [];
  for (const { datname } of dbs) {
    const rows = await query<{ id: string; status: string }>(
      secondary.url(datname),
      `SELECT id, status FROM auditreplay.applied WHERE to_regclass('auditreplay.applied') IS NOT NULL`,
    ).catch(() => []);
    for (const r of rows) {
      expect(r.status, `ledger row ${r.id} in ${datname}`).toBe('applied');
      ids.push(r.id);
    }
  }
  return ids.sort();
}

/** No drift by verify, identical pg_dump of every database and identical roles. */
async function expectNoDrift(secondary: PostgresCluster): Promise<void> {
  const verify = await runCli(['verify', '--primary', primary.url('postgres'), '--secondary', secondary.url('postgres')]);
  expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  for (const db of workload.databases) {
    expect(await dumpSchema(secondary, db), `pg_dump --schema-only of ${db}`).toBe(await dumpSchema(primary, db));
  }
  expect(await dumpRoles(secondary)).toBe(await dumpRoles(primary));
}

async function expectExactlyOnce(secondary: PostgresCluster): Promise<void> {
  const ids = await ledgerIds(secondary);
  expect(new Set(ids).size, 'an id in the ledgers of two databases').toBe(ids.length);
  expect(ids).toEqual([...expectedIds].sort());
}

describe('sync onto a real PostgreSQL 15 secondary', () => {
  it('has a workload of at least 500 DDL/DCL statements from several sessions, with failures', () => {
    expect(workload.ddlDcl).toBeGreaterThanOrEqual(500);
    expect(workload.failures).toBeGreaterThan(0);
    expect(expectedIds.length).toBeGreaterThanOrEqual(450);
  });

  it('applies every DDL/DCL statement once, verify finds no drift, pg_dump and roles match, and a rerun applies nothing', async () => {
    const secondary = await newSecondary();
    const first = await sync(secondary);
    expect(first.code, first.stderr).toBe(0);
    expect(first.summary?.applied).toBe(expectedIds.length);
    expect(first.summary?.nonTransactional).toBeGreaterThan(0);
    await expectNoDrift(secondary);
    await expectExactlyOnce(secondary);
    // Secrets are applied verbatim (only their display is redacted): the role can log in with its password.
    const [pw] = await query<{ set: boolean }>(secondary.url('postgres'), "SELECT rolpassword IS NOT NULL AS set FROM pg_authid WHERE rolname = 'wl_u0'");
    expect(pw?.set).toBe(true);

    const again = await sync(secondary);
    expect(again.code, again.stderr).toBe(0);
    expect(again.summary?.applied).toBe(0);
    expect(again.summary?.alreadyApplied).toBe(expectedIds.length);

    // Nightly mode: no --from, the checkpoint minus the lookback; the ledger absorbs the overlap.
    const nightly = await runCli(['sync', ...sourceArgs(), '--target', secondary.url('postgres'), '--lookback', '2d', '--allow-roles', 'wl_*']);
    expect(nightly.code, nightly.stderr).toBe(0);
    expect(nightly.summary?.applied).toBe(0);
    expect(nightly.summary?.alreadyApplied).toBe(expectedIds.length);
  }, 300_000);

  it('prints a dry-run plan with each rewrite and no secret: not the target password, not the passwords in the log', async () => {
    const secondary = await newSecondary();
    await secondary.sql(`ALTER ROLE postgres PASSWORD 'hunter2-sekret'`);
    const schema = workload.schemas[0]!;
    const res = await sync(`postgres://postgres:hunter2-sekret@127.0.0.1:${secondary.port}/postgres`, ['--dry-run', '--map-schema', `${schema}=${schema}_v2`]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout + res.stderr).not.toContain('hunter2-sekret');
    expect(res.stdout + res.stderr).not.toMatch(/pw-\d+-secret/);
    expect(res.stdout).toContain("PASSWORD '***'");
    expect(res.stdout).toMatch(/^apply\s/m);
    expect(res.stdout).toContain(`rewrite: schema ${schema} -> ${schema}_v2`);
    // The dry-run changed nothing: no ledger, no objects.
    const [ledger] = await query<{ r: string | null }>(secondary.url('postgres'), "SELECT to_regclass('auditreplay.applied')::text AS r");
    expect(ledger?.r).toBeNull();
  }, 120_000);

  const killPoints = [
    'sync.before-commit:1',
    'sync.before-commit:4',
    'sync.after-commit:2',
    'sync.after-checkpoint:3',
    'sync.alone-pending:1',
    'sync.alone-executed:1',
  ];
  it.each(killPoints)('survives kill -9 at %s: the rerun completes with no drift and every id once in the ledger', async (point) => {
    const secondary = await newSecondary();
    const killed = await sync(secondary, [], { AUDITREPLAY_FAILPOINT: point });
    expect(killed.code, `expected a SIGKILL at ${point}: ${killed.stderr}`).toBeNull();
    expect(killed.stderr).toContain(`failpoint ${point.split(':')[0]} reached`);
    const rerun = await sync(secondary);
    expect(rerun.code, rerun.stderr).toBe(0);
    await expectExactlyOnce(secondary);
    await expectNoDrift(secondary);
  }, 300_000);

  it('recovers from a connection dropped in the middle of a batch', async () => {
    const secondary = await newSecondary();
    const proxy = await startTcpProxy(secondary.port);
    try {
      // Cut every connection after 64 KiB sent: several batches in, mid-script.
      proxy.cutAfterBytes(64 * 1024);
      const res = await sync(`postgres://postgres@127.0.0.1:${proxy.port}/postgres`);
      if (res.code !== 0) {
        // Failing clearly is allowed; then the rerun must complete.
        expect(res.stderr).toMatch(/connection/i);
        proxy.cutAfterBytes(Infinity);
        const rerun = await sync(`postgres://postgres@127.0.0.1:${proxy.port}/postgres`);
        expect(rerun.code, rerun.stderr).toBe(0);
      } else {
        expect(res.summary?.retries).toBeGreaterThan(0);
      }
    } finally {
      await proxy.close();
    }
    await expectExactlyOnce(secondary);
    await expectNoDrift(secondary);
  }, 300_000);

  it('reconnects by itself when every connection drops while it runs, and the ledger decides what is left', async () => {
    const secondary = await newSecondary();
    const proxy = await startTcpProxy(secondary.port);
    try {
      const running = sync(`postgres://postgres@127.0.0.1:${proxy.port}/postgres`, ['--batch', '5']);
      let done = false;
      void running.then(() => (done = true));
      // Drop everything once the first statements are in, while later batches are in flight.
      let applied = 0;
      while (!done && applied < 60) {
        await new Promise((r) => setTimeout(r, 20));
        const rows = await query<{ n: string }>(secondary.url('postgres'), 'SELECT count(*) AS n FROM auditreplay.applied').catch(() => []);
        applied = Number(rows[0]?.n ?? 0);
      }
      expect(done, 'sync finished before the drop: make the workload larger').toBe(false);
      proxy.dropAll();
      const res = await running;
      expect(res.code, res.stderr).toBe(0);
      expect(res.summary?.retries).toBeGreaterThan(0);
      expect(res.stderr).toContain('reconnecting');
    } finally {
      await proxy.close();
    }
    await expectExactlyOnce(secondary);
    await expectNoDrift(secondary);
  }, 300_000);

  it('halts at a statement that fails on the secondary with the checkpoint before it, and skips it with --on-error skip', async () => {
    const secondary = await newSecondary();
    // A role the primary creates already exists here: its CREATE ROLE fails with 42710.
    const victim = workload.roles[workload.roles.length - 1]!;
    await secondary.sql(`CREATE ROLE "${victim}"`);
    const stop = await sync(secondary);
    expect(stop.code).toBe(1);
    expect(stop.stderr).toContain('sync halted');
    expect(stop.stderr).toContain('SQLSTATE:  42710');
    expect(stop.stderr).toMatch(/from: +\S+ line \d+/);
    expect(stop.summary?.halted).toBe(true);
    // The halt is one JSON log line: its report (the message) and the statement's fields.
    const failedId = (stop.summary?.haltedAt as { id: string }).id;
    expect(stop.stderr).toContain(`id:        ${failedId}`);
    const index = expectedIds.indexOf(failedId);
    expect(index).toBeGreaterThan(0);
    const [checkpoint] = await query<{ id: string }>(secondary.url('postgres'), 'SELECT id FROM auditreplay.checkpoint');
    expect(checkpoint?.id).toBe(expectedIds[index - 1]);
    expect(await ledgerIds(secondary)).not.toContain(failedId);

    const rejects = join(work, `skip-rejects.jsonl`);
    const skip = await sync(secondary, ['--on-error', 'skip', '--rejects', rejects]);
    expect(skip.code, skip.stderr).toBe(0);
    expect(skip.summary?.failed).toBe(1);
    const lines = (await readFile(rejects, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { reason: string; message: string; object: string; line: number });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ reason: 'target-error' });
    expect(lines[0]!.message).toContain('42710');
    const [row] = await query<{ status: string; sql_state: string }>(
      secondary.url('postgres'),
      'SELECT status, sql_state FROM auditreplay.applied WHERE id = $1',
      [failedId],
    );
    expect(row).toEqual({ status: 'skipped', sql_state: '42710' });
    const rerun = await sync(secondary, ['--on-error', 'skip']);
    expect(rerun.summary?.applied).toBe(0);
    expect(rerun.summary?.skippedEarlier).toBe(1);
  }, 300_000);

  it('lets exactly one of two concurrent syncs run', async () => {
    const secondary = await newSecondary();
    const holder = new pg.Client({ connectionString: secondary.url('postgres') });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock(7411906214011337)');
      const blocked = await sync(secondary);
      expect(blocked.code).toBe(5);
      expect(blocked.stderr).toContain('another sync is running');
    } finally {
      await holder.end();
    }
    const [a, b] = await Promise.all([sync(secondary), sync(secondary)]);
    const codes = [a.code, b.code].sort();
    // Either the second found the lock taken (exit 5) or started after the first finished and found everything applied.
    if (codes[1] === 5) expect(codes[0]).toBe(0);
    else expect([a.summary?.applied, b.summary?.applied].sort()).toEqual([0, expectedIds.length]);
    await expectExactlyOnce(secondary);
    await expectNoDrift(secondary);
  }, 300_000);
});
