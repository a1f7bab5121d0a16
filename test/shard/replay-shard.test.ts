import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { CompareReport } from '../../src/compare/compare-model.js';
import type { AuditEvent } from '../../src/core/audit-event.js';
import type { ReplayResult } from '../../src/core/replay-result.js';
import { inShard, type Shard } from '../../src/core/shard.js';
import { parseTime } from '../../src/core/time.js';
import { extract } from '../../src/extract/extract-pipeline.js';
import { RejectLog } from '../../src/ingest/reject-log.js';
import { runCli } from '../helpers/run-cli.js';
import { startS3, testAwsEnv, type TestS3 } from '../helpers/s3-server.js';

/**
 * `replay --shard k/N` onto PGlite with the bundled PostgreSQL samples, as the demo
 * replays them (a secondary made by sync, `--speed max`): the shards of N = 1..4 run
 * every statement the unsharded replay runs, each once, and each session whole in one
 * shard. Then compare reads the shard outputs as one side, from a glob or a prefix, on
 * disk and in a bucket.
 */

const SOURCE = ['--source', 'samples/logs/postgres', '--from', '2026-11-17', '--to', '2026-11-21'];
const NO_SHARD_ENV = { JOB_COMPLETION_INDEX: undefined, AUDITREPLAY_SHARDS: undefined, AUDITREPLAY_SHARD: undefined };

let work: string;
let target: string;
/** The replay session of every sample statement: its original session, else a session of its own. */
const sessionOf = new Map<string, string>();
let whole: ReplayResult[];
/** The run summary fields these tests read. */
interface RunSummary {
  shard: string | null;
  read: number;
  otherShard: number;
  executed: number;
  sessions: number;
}
let wholeSummary: RunSummary;
let s3: TestS3 | undefined;

const readJsonl = async <T>(path: string): Promise<T[]> => (await readFile(path, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as T);
const readJson = async <T>(path: string): Promise<T> => JSON.parse(await readFile(path, 'utf8')) as T;
const shardsOf = (count: number): Shard[] => Array.from({ length: count }, (_, index) => ({ index, count }));

/** Replays in this process (no CLI start-up per shard); the results and the run summary are read from the files. */
async function replay(out: string, extra: string[]): Promise<void> {
  const code = await main(['replay', ...SOURCE, '--target', target, '--speed', 'max', '--progress', 'none', '--out', out, ...extra]);
  expect(code).toBe(0);
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'auditreplay-shard-replay-'));
  target = `pglite://${join(work, 'secondary')}`;
  for (const name of Object.keys(NO_SHARD_ENV)) Reflect.deleteProperty(process.env, name);
  const sync = await runCli(['sync', ...SOURCE, '--target', target]);
  expect(sync.code, sync.stderr).toBe(0);
  const { events } = extract({ source: 'samples/logs/postgres', window: { from: parseTime('2026-11-17', 0), to: parseTime('2026-11-21', 0) }, rejects: new RejectLog(null) });
  for await (const batch of events) for (const e of batch as AuditEvent[]) sessionOf.set(e.id, e.session ?? `#${e.id}`);
  await replay(join(work, 'whole', 'r-{shard}.jsonl'), ['--run-id', 'whole']);
  whole = await readJsonl<ReplayResult>(join(work, 'whole', 'r-0-of-1.jsonl'));
  wholeSummary = await readJson(join(work, 'whole', 'r-0-of-1.jsonl.summary.json'));
}, 180_000);

afterAll(async () => {
  await s3?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('replay --shard', () => {
  it('replays the samples unsharded into the 0-of-1 output', () => {
    expect(whole.length).toBeGreaterThan(300);
    expect(wholeSummary).toMatchObject({ shard: null, otherShard: 0, executed: whole.length });
    // Sessions with several statements exist, so keeping them whole is something to prove.
    const sizes = new Map<string, number>();
    for (const r of whole) sizes.set(sessionOf.get(r.originalId)!, (sizes.get(sessionOf.get(r.originalId)!) ?? 0) + 1);
    expect([...sizes.values()].filter((n) => n > 5).length).toBeGreaterThan(10);
  });

  for (const count of [1, 2, 3, 4]) {
    it(`splits the replay into ${count} shards that run every statement once, each session in one shard`, async () => {
      const dir = join(work, `n${count}`);
      const owner = new Map<string, number>();
      const shardsOfSession = new Map<string, Set<number>>();
      let read = 0;
      let executed = 0;
      let sessions = 0;
      for (const s of shardsOf(count)) {
        await replay(join(dir, 'r-{shard}.jsonl'), ['--shard', `${s.index}/${count}`, '--run-id', `n${count}`]);
        const rows = await readJsonl<ReplayResult>(join(dir, `r-${s.index}-of-${count}.jsonl`));
        const summary = await readJson<RunSummary>(join(dir, `r-${s.index}-of-${count}.jsonl.summary.json`));
        expect(summary).toMatchObject({ shard: `${s.index}-of-${count}`, executed: rows.length });
        expect(summary.read + summary.otherShard).toBe(wholeSummary.read);
        read += summary.read;
        executed += summary.executed;
        sessions += summary.sessions;
        for (const r of rows) {
          expect(owner.get(r.originalId), `${r.originalId} in shards ${owner.get(r.originalId)} and ${s.index}`).toBeUndefined();
          owner.set(r.originalId, s.index);
          const session = sessionOf.get(r.originalId)!;
          expect(inShard(session, s)).toBe(true);
          shardsOfSession.set(session, (shardsOfSession.get(session) ?? new Set()).add(s.index));
        }
      }
      expect([...owner.keys()].sort()).toEqual(whole.map((r) => r.originalId).sort());
      expect([...shardsOfSession.values()].every((set) => set.size === 1)).toBe(true);
      expect([read, executed, sessions]).toEqual([wholeSummary.read, wholeSummary.executed, wholeSummary.sessions]);
      if (count > 1) expect(new Set(owner.values()).size).toBe(count);
    }, 90_000);
  }

  it('plans only the shard with --dry-run, and the shard plans add up to the whole plan', async () => {
    const plan = (extra: string[]) => runCli(['replay', ...SOURCE, '--target', target, '--speed', 'max', '--dry-run', ...extra], { env: NO_SHARD_ENV });
    const [all, first, second] = await Promise.all([plan([]), plan(['--shard', '0/2']), plan(['--shard', '1/2'])]);
    for (const r of [all, first, second]) expect(r.code, r.stderr).toBe(0);
    expect(all.summary).toMatchObject({ shard: null, otherShard: 0, statements: whole.length });
    expect(first.summary).toMatchObject({ shard: '0-of-2' });
    expect(first.stdout).toMatch(/shard: +0-of-2: \d+ statements of other shards' sessions left to them/);
    const sum = (key: string) => Number(first.summary![key]) + Number(second.summary![key]);
    expect([sum('statements'), sum('sessions'), sum('sessionless')]).toEqual([all.summary!.statements, all.summary!.sessions, all.summary!.sessionless]);
    expect(Number(first.summary!.statements)).toBeGreaterThan(0);
    expect(Number(second.summary!.statements)).toBeGreaterThan(0);
  });
});

/** The figures of a report, rounded past float noise: what must not depend on how a side was split into files. */
function figures(report: CompareReport): unknown {
  const round = (_k: string, v: unknown): unknown => (typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(9)) : v);
  return JSON.parse(
    JSON.stringify(
      {
        executions: [report.baseline.executions, report.candidate.executions],
        join: { matched: report.join.matched, missing: report.join.missing, new: report.join.new },
        overall: report.overall,
        fingerprints: report.fingerprints
          .map((f) => ({ id: f.fingerprintId, baseline: f.baseline, candidate: f.candidate, ratio: f.ratio, ci: f.ci, verdict: f.verdict, errors: f.candidateOnlyErrors, mismatches: f.mismatches }))
          .sort((a, b) => (a.id < b.id ? -1 : 1)),
        candidateOnlyErrors: [report.candidateOnlyErrors.total, report.candidateOnlyErrors.bySqlState],
        mismatches: report.mismatches.total,
        distribution: report.distribution,
      },
      round,
    ),
  );
}

/**
 * Equal figures, numbers within the report's own rounding: a mean is summed in the order
 * the files are read, so the last of its three decimals may differ between two orders.
 */
function expectSameFigures(actual: unknown, expected: unknown, path = 'figures'): void {
  if (typeof expected === 'number' && typeof actual === 'number' && !Number.isInteger(expected)) {
    expect(Math.abs(actual - expected), `${path}: ${actual} vs ${expected}`).toBeLessThanOrEqual(0.0011 + Math.abs(expected) * 1e-9);
  } else if (expected !== null && typeof expected === 'object') {
    expect(actual !== null && typeof actual === 'object', path).toBe(true);
    const a = actual as Record<string, unknown>;
    const e = expected as Record<string, unknown>;
    expect(Object.keys(a).sort(), path).toEqual(Object.keys(e).sort());
    for (const k of Object.keys(e)) expectSameFigures(a[k], e[k], `${path}.${k}`);
  } else expect(actual, path).toEqual(expected);
}

describe('compare over shard outputs', () => {
  /** The baseline side of every comparison here: the real 4-shard replay, read through a glob. */
  let baseline: string;
  let reference: unknown;
  const split: string[] = [];

  beforeAll(async () => {
    baseline = join(work, 'n4', 'r-*-of-4.jsonl');
    // The unsharded results split by session as three shards would write them: the same executions, in three files.
    const lines = (await readFile(join(work, 'whole', 'r-0-of-1.jsonl'), 'utf8')).split('\n').filter(Boolean);
    await mkdir(join(work, 'split', 'sub'), { recursive: true });
    for (const s of shardsOf(3)) {
      const mine = lines.filter((l) => inShard(sessionOf.get((JSON.parse(l) as ReplayResult).originalId)!, s));
      // One shard one folder down, so the prefix is read at every depth.
      const path = join(work, 'split', s.index === 2 ? 'sub' : '', `r-${s.index}-of-3.jsonl`);
      await writeFile(path, mine.map((l) => l + '\n').join(''));
      split.push(path);
    }
    await writeFile(join(work, 'split', 'r-0-of-3.jsonl.summary.json'), JSON.stringify(wholeSummary));
    reference = figures(await compare(join(work, 'whole', 'r-0-of-1.jsonl'), 'whole'));
  }, 60_000);

  async function compare(candidate: string, name: string): Promise<CompareReport> {
    const json = join(work, `${name}.json`);
    const code = await main(['compare', '--baseline', baseline, '--candidate', candidate, '--min-samples', '3', '--json', json, '--markdown', join(work, `${name}.md`)]);
    expect(code).toBe(0);
    return readJson<CompareReport>(json);
  }

  it('reads a glob of shard outputs as one side, and joins every execution', async () => {
    const report = await compare(join(work, 'n3', 'r-*-of-3.jsonl'), 'n3');
    expect(report.baseline.executions).toBe(whole.length);
    expect(report.candidate.executions).toBe(whole.length);
    expect(report.join).toMatchObject({ matched: whole.length, missing: 0, new: 0 });
    expect(report.candidate.source).toBe(`${join(work, 'n3', 'r-*-of-3.jsonl')} (3 outputs)`);
  });

  it('gives the same figures from the shard files, by glob or by prefix, as from the unsharded file', async () => {
    const byGlob = await compare(join(work, 'split', '**', 'r-*-of-3.jsonl'), 'glob');
    const byPrefix = await compare(join(work, 'split') + '/', 'prefix');
    expectSameFigures(figures(byGlob), reference);
    expectSameFigures(figures(byPrefix), reference);
    expect(byPrefix.candidate.executions).toBe(whole.length);
  });

  it('lists a prefix in a bucket (s3rver) and gives the same figures', async () => {
    s3 = await startS3(['runs']);
    for (const path of split) await s3.put('runs', `run/${path.slice(join(work, 'split').length + 1)}`, await readFile(path));
    await s3.put('runs', 'run/r-0-of-3.jsonl.summary.json', JSON.stringify(wholeSummary));
    await s3.put('runs', 'elsewhere/r-9-of-9.jsonl', await readFile(join(work, 'whole', 'r-0-of-1.jsonl')));
    const json = join(work, 's3.json');
    const env = { ...testAwsEnv(), ...NO_SHARD_ENV };
    const [fromBucket, none] = await Promise.all([
      runCli(['compare', '--baseline', baseline, '--candidate', 's3://runs/run/', '--s3-endpoint', s3.endpoint, '--min-samples', '3', '--json', json, '--markdown', join(work, 's3.md')], { env }),
      runCli(['compare', '--baseline', baseline, '--candidate', 's3://runs/nothing-here/', '--s3-endpoint', s3.endpoint], { env }),
    ]);
    expect(fromBucket.code, fromBucket.stderr).toBe(0);
    expectSameFigures(figures(await readJson<CompareReport>(json)), reference);
    expect(s3.requests.some((r) => r.method === 'GET' && /list-type=2|prefix=/.test(r.url))).toBe(true);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("'s3://runs/nothing-here/' holds no object with a results extension");
  });
});
