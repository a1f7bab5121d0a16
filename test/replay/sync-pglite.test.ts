import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTarget } from '../../src/replay/target-registry.js';
import { ROOT, runCli, type CliResult } from '../helpers/run-cli.js';

/**
 * Sync onto the embedded target with the bundled samples, as the README's main command
 * does: the secondary is made by sync from the PostgreSQL sample logs, the primary by
 * samples/build-primary.ts from the generator's own plan, and verify compares them.
 */

let work: string;
let primaryUrl: string;
/** Successful DDL/DCL of the PostgreSQL samples, in order: what sync must apply. */
let expectedIds: string[];
const SOURCE = ['--source', 'samples/logs/postgres', '--from', '2026-11-17', '--to', '2026-11-21'];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'auditreplay-sync-pglite-'));
  const primaryDir = join(work, 'primary');
  await promisify(execFile)(process.execPath, ['--import', 'tsx', 'samples/build-primary.ts', primaryDir], { cwd: ROOT });
  primaryUrl = `pglite://${primaryDir}`;
  // A fresh PGlite directory costs an initdb in WASM (~9 s here): make one, copy it per test.
  const template = await openTarget(`pglite://${join(work, 'template')}`);
  await template.close();
  const events = join(work, 'expected.jsonl');
  const res = await runCli(['extract', ...SOURCE, '--kind', 'ddl,dcl', '--ok-only', '--out', events]);
  expect(res.code, res.stderr).toBe(0);
  expectedIds = (await readFile(events, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { id: string }).id);
}, 180_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

let dirs = 0;

/** A fresh, empty PGlite directory. */
async function freshDir(): Promise<string> {
  const dir = join(work, `secondary-${++dirs}`);
  await cp(join(work, 'template'), dir, { recursive: true });
  return dir;
}

function sync(dir: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runCli(['sync', ...SOURCE, '--target', `pglite://${dir}`, '--batch', '7', ...extra], { env });
}

async function ledger(dir: string): Promise<{ id: string; status: string }[]> {
  const target = await openTarget(`pglite://${dir}`);
  try {
    const session = await target.connect();
    return (await session.query<{ id: string; status: string }>('SELECT id, status FROM auditreplay.applied ORDER BY id')).rows;
  } finally {
    await target.close();
  }
}

async function expectSynced(dir: string): Promise<void> {
  const verify = await runCli(['verify', '--primary', primaryUrl, '--secondary', `pglite://${dir}`]);
  expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  const rows = await ledger(dir);
  expect(rows.every((r) => r.status === 'applied')).toBe(true);
  expect(rows.map((r) => r.id).sort()).toEqual([...expectedIds].sort());
}

describe('sync onto PGlite with the bundled samples', () => {
  let dir: string;

  it('prints the plan with --dry-run and leaves the target untouched', async () => {
    dir = await freshDir();
    const first = await sync(dir, ['--to', '2026-11-18']);
    expect(first.code, first.stderr).toBe(0);
    const applied = Number(first.summary?.applied);
    expect(applied).toBeGreaterThan(0);
    const dry = await sync(dir, ['--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    const lines = dry.stdout.trim().split('\n');
    expect(lines.filter((l) => l.startsWith('applied ')).length).toBe(applied);
    expect(lines.filter((l) => l.startsWith('apply ')).length).toBe(expectedIds.length - applied);
    expect(lines.some((l) => l.startsWith('failed ') && l.includes('failed on the primary'))).toBe(true);
    expect((await ledger(dir)).length).toBe(applied);
  }, 120_000);

  it('applies the rest of the samples DDL/DCL, verify finds no drift against the primary, and a rerun applies nothing', async () => {
    const rest = await sync(dir);
    expect(rest.code, rest.stderr).toBe(0);
    expect(rest.summary).toMatchObject({ failed: 0, refused: 0 });
    expect(Number(rest.summary?.applied) + Number(rest.summary?.alreadyApplied)).toBe(expectedIds.length);
    expect(rest.summary?.failedOnPrimary).toBeGreaterThan(0);
    expect(rest.summary?.nonTransactional).toBeGreaterThan(0);
    await expectSynced(dir);

    const again = await sync(dir);
    expect(again.code, again.stderr).toBe(0);
    expect(again.summary).toMatchObject({ applied: 0, alreadyApplied: expectedIds.length });
  }, 120_000);

  it('refuses a second process on the same PGlite directory with exit code 5', async () => {
    const holder = await openTarget(`pglite://${dir}`);
    try {
      const res = await sync(dir);
      expect(res.code).toBe(5);
      expect(res.stderr).toMatch(/in use by process \d+/);
    } finally {
      await holder.close();
    }
  }, 60_000);

  it('finds drift when the secondary misses the statements an --exclude glob filters out', async () => {
    const partial = await freshDir();
    const res = await sync(partial, ['--exclude', 'app.shipments']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.summary?.filtered).toBeGreaterThan(0);
    const verify = await runCli(['verify', '--primary', primaryUrl, '--secondary', `pglite://${partial}`]);
    expect(verify.code).toBe(1);
    expect(verify.stdout + verify.stderr).toContain('shipments');
  }, 120_000);

  it('makes statements PostgreSQL cannot run (Okera DDL/DCL in the same samples) fail visibly with their SQLSTATE under --on-error skip', async () => {
    const mixed = await freshDir();
    const rejects = join(work, 'okera-rejects.jsonl');
    const res = await runCli(['sync', '--source', 'samples/logs', '--from', '2026-11-17', '--to', '2026-11-21', '--target', `pglite://${mixed}`, '--on-error', 'skip', '--rejects', rejects]);
    expect(res.code, res.stderr).toBe(0);
    const failed = Number(res.summary?.failed);
    expect(failed).toBeGreaterThan(0);
    const lines = (await readFile(rejects, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { reason: string; message: string; format: string; object: string; line: number });
    const targetErrors = lines.filter((l) => l.reason === 'target-error');
    expect(targetErrors).toHaveLength(failed);
    for (const r of targetErrors) {
      expect(r.message).toMatch(/SQLSTATE [0-9A-Z]{5}/);
      expect(r.object).toContain('okera');
      expect(r.line).toBeGreaterThan(0);
    }
    // Stop, the default, halts at the first of them instead.
    const stop = await runCli(['sync', '--source', 'samples/logs', '--from', '2026-11-17', '--to', '2026-11-21', '--target', `pglite://${await freshDir()}`]);
    expect(stop.code).toBe(1);
    expect(stop.stderr).toMatch(/SQLSTATE: +[0-9A-Z]{5}/);
  }, 180_000);

  it.each(['sync.before-commit:2', 'sync.alone-executed:2'])(
    'survives kill -9 at %s on PGlite: the stale lock is taken over and the rerun completes with no drift',
    async (point) => {
      const killedDir = await freshDir();
      const killed = await sync(killedDir, [], { AUDITREPLAY_FAILPOINT: point });
      expect(killed.code, killed.stderr).toBeNull();
      const rerun = await sync(killedDir);
      expect(rerun.code, rerun.stderr).toBe(0);
      await expectSynced(killedDir);
    },
    120_000,
  );
});
