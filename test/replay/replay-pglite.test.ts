import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplayResult } from '../../src/core/replay-result.js';
import { REPLAY_RESULT_SCHEMA } from '../../src/sinks/record-schema.js';
import { readRecords } from '../../src/sinks/sink-registry.js';
import { runCli } from '../helpers/run-cli.js';

/**
 * `auditreplay replay` onto the embedded target with the bundled samples, as the
 * README's main command will: sync makes the secondary's schema, replay runs the
 * samples' queries against it (the tables are empty, so checksums are of empty or
 * constant results, the same on every pass).
 */

let work: string;
let dir: string;
/** Queries, session and transaction statements of the samples: what a read-only replay runs. */
let expectedIds: string[];
/** Of those, the ones whose results change from run to run (clock, statistics). */
const volatileIds = new Set<string>();
const SOURCE = ['--source', 'samples/logs/postgres', '--from', '2026-11-17', '--to', '2026-11-21'];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'auditreplay-replay-pglite-'));
  dir = join(work, 'secondary');
  const sync = await runCli(['sync', ...SOURCE, '--target', `pglite://${dir}`]);
  expect(sync.code, sync.stderr).toBe(0);
  const events = join(work, 'expected.jsonl');
  const res = await runCli(['extract', ...SOURCE, '--kind', 'query,session,tcl', '--out', events]);
  expect(res.code, res.stderr).toBe(0);
  const lines = (await readFile(events, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { id: string; statement: string });
  expectedIds = lines.map((e) => e.id);
  for (const e of lines) if (/now\(\)|pg_stat|pg_postmaster_start_time|random\(/i.test(e.statement)) volatileIds.add(e.id);
}, 180_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

async function results(path: string): Promise<ReplayResult[]> {
  return (await readFile(path, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as ReplayResult);
}

describe('replay onto PGlite with the bundled samples', () => {
  it('prints the plan with --dry-run without opening the target', async () => {
    const res = await runCli(['replay', ...SOURCE, '--target', `pglite://${join(work, 'never-made')}`, '--speed', '10', '--dry-run']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/sessions: +\d+/);
    expect(res.stdout).toContain(`statements:  ${expectedIds.length} to run`);
    expect(res.stdout).toMatch(/not run: .*\d+ ddl.*\d+ dml/);
    expect(res.stdout).toMatch(/expected: +[\d.]+ s per pass at --speed 10/);
    expect(res.summary).toMatchObject({ dryRun: true, statements: expectedIds.length });
    await expect(readFile(join(work, 'never-made', 'PG_VERSION'))).rejects.toThrow();
  });

  it('records one result per statement and pass, tagged, with the same checksums on every pass', async () => {
    const out = join(work, 'runs.jsonl');
    const res = await runCli(['replay', ...SOURCE, '--target', `pglite://${dir}`, '--speed', 'max', '--repeat', '2', '--warmup', '1', '--run-id', 'r1', '--out', out, '--progress', 'json', '--progress-interval', '200ms']);
    expect(res.code, res.stderr).toBe(0);
    const rows = await results(out);
    expect(rows).toHaveLength(expectedIds.length * 2);
    for (const attempt of [1, 2]) {
      expect(rows.filter((r) => r.attempt === attempt).map((r) => r.originalId).sort()).toEqual([...expectedIds].sort());
    }
    expect(rows.every((r) => r.runId === 'r1' && r.target === `pglite://${dir}`)).toBe(true);
    const first = new Map(rows.filter((r) => r.attempt === 1).map((r) => [r.originalId, r]));
    expect(volatileIds.size).toBeLessThan(expectedIds.length / 10);
    for (const r of rows.filter((x) => x.attempt === 2 && !volatileIds.has(x.originalId))) {
      expect([r.ok, r.checksum, r.rows, r.sqlState]).toEqual([first.get(r.originalId)!.ok, first.get(r.originalId)!.checksum, first.get(r.originalId)!.rows, first.get(r.originalId)!.sqlState]);
    }
    // Most statements run; those that fail carry the server's SQLSTATE and message.
    expect(rows.filter((r) => r.ok).length).toBeGreaterThan(rows.length * 0.8);
    for (const r of rows.filter((x) => !x.ok)) expect([r.sqlState, r.error]).toEqual([expect.stringMatching(/^[0-9A-Z]{5}$/), expect.any(String)]);
    const summary = JSON.parse(await readFile(`${out}.summary.json`, 'utf8')) as Record<string, unknown>;
    expect(summary).toMatchObject({ complete: true, executed: expectedIds.length * 2, warmupExecuted: expectedIds.length, results: rows.length, concurrency: 1 });
    // The last stderr line is the summary as a log line: the file's fields plus level, time, stage and msg.
    expect(res.summary).toMatchObject(summary);
    expect(res.summary).toMatchObject({ level: 'info', stage: 'replay', runId: 'r1', msg: expect.stringMatching(/^replay: /) });
    expect((summary.skipped as Record<string, number>).ddl).toBeGreaterThan(0);
    expect(res.stderr).toMatch(/^\{"level":"info",.*"stage":"replay","type":"progress",.*"msg":"progress"\}$/m);
  }, 120_000);

  it("compares the replay with the primary's own timings end to end and writes the three reports", async () => {
    const html = join(work, 'report.html');
    const json = join(work, 'report.json');
    const res = await runCli([
      'compare', '--baseline-logs', 'samples/logs/postgres', '--from', '2026-11-17', '--to', '2026-11-21',
      '--candidate', join(work, 'runs.jsonl'), '--report', html, '--json', json, '--min-samples', '3',
    ]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('auditreplay compare');
    const report = JSON.parse(await readFile(json, 'utf8')) as { join: { matched: number }; fingerprints: { examples: string[] }[] };
    // Every replayed statement with a logged duration on the primary joins by its original id.
    expect(report.join.matched).toBeGreaterThan(expectedIds.length / 2);
    expect(report.fingerprints.some((f) => f.examples.length > 0)).toBe(true);
    expect(await readFile(html, 'utf8')).toMatch(/^<!DOCTYPE html>/i);

    // --redact-literals: statements only as fingerprints, in every report (without it, examples show the literal).
    expect(await readFile(json, 'utf8')).toContain('2026-11-18 08:37');
    const redacted = await runCli([
      'compare', '--baseline-logs', 'samples/logs/postgres', '--from', '2026-11-17', '--to', '2026-11-21',
      '--candidate', join(work, 'runs.jsonl'), '--report', html, '--json', json, '--redact-literals',
    ]);
    expect(redacted.code, redacted.stderr).toBe(0);
    expect(await readFile(json, 'utf8')).not.toContain('2026-11-18 08:37');
    expect(await readFile(html, 'utf8')).not.toContain('2026-11-18 08:37');
    expect(redacted.stdout).not.toContain('2026-11-18 08:37');
  }, 120_000);

  it('leaves the tag out with --no-tag and hashes nothing with --checksum none', async () => {
    const out = join(work, 'plain.jsonl');
    const res = await runCli(['replay', ...SOURCE, '--target', `pglite://${dir}`, '--speed', 'max', '--no-tag', '--checksum', 'none', '--out', out, '--progress', 'none']);
    expect(res.code, res.stderr).toBe(0);
    const rows = await results(out);
    expect(rows).toHaveLength(expectedIds.length);
    expect(rows.every((r) => r.checksum === null)).toBe(true);
  }, 120_000);

  it('writes its results to Parquet as well, read back through the sink registry', async () => {
    const out = join(work, 'runs.parquet');
    const res = await runCli(['replay', ...SOURCE, '--target', `pglite://${dir}`, '--speed', 'max', '--run-id', 'pq', '--out', out, '--progress', 'none']);
    expect(res.code, res.stderr).toBe(0);
    const rows: Record<string, unknown>[] = [];
    for await (const batch of readRecords(out, REPLAY_RESULT_SCHEMA)) rows.push(...batch);
    expect(rows).toHaveLength(expectedIds.length);
    expect(rows.every((r) => r.runId === 'pq' && typeof r.startedAt === 'number' && typeof r.ok === 'boolean')).toBe(true);
    expect(JSON.parse(await readFile(`${out}.summary.json`, 'utf8'))).toMatchObject({ complete: true, results: expectedIds.length });
  }, 120_000);

  it('refuses contradictory or missing flags with exit code 2', async () => {
    const base = ['replay', ...SOURCE, '--target', `pglite://${dir}`];
    expect((await runCli([...base, '--speed', 'max'])).code).toBe(2);
    expect((await runCli([...base, '--out', join(work, 'x.jsonl'), '--speed', '0'])).code).toBe(2);
    expect((await runCli([...base, '--out', join(work, 'x.jsonl'), '--as-role', '--credentials', 'x.json'])).code).toBe(2);
    expect((await runCli([...base, '--out', join(work, 'x.jsonl'), '--checksum', 'md5'])).code).toBe(2);
  });
});
