import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replayResultToJson, type ReplayResult } from '../../src/core/replay-result.js';
import { runCli } from '../helpers/run-cli.js';
import { mulberry32 } from '../../src/core/random.js';

/**
 * `auditreplay compare` on result files made here: a candidate with one fingerprint 2x
 * slower, one with different rows, one failing; the gates and the reports.
 */

let work: string;

const rng = mulberry32;

interface Shape {
  fingerprintId: string;
  slower?: number;
  wrongRows?: boolean;
  failing?: boolean;
}

async function results(file: string, seed: number, shapes: Shape[], candidate: boolean): Promise<void> {
  const next = rng(seed);
  const lines: string[] = [];
  for (const s of shapes) {
    for (let i = 0; i < 60; i++) {
      // Lognormal around 5 ms, spread 0.3.
      const z = Math.sqrt(-2 * Math.log(next() || 1e-12)) * Math.cos(2 * Math.PI * next());
      const ms = 5 * Math.exp(0.3 * z) * (candidate ? (s.slower ?? 1) : 1);
      const fails = candidate && s.failing === true && i % 10 === 0;
      const r: ReplayResult = {
        runId: candidate ? 'b' : 'a',
        originalId: `${s.fingerprintId}:${i}`,
        fingerprintId: s.fingerprintId,
        kind: 'query',
        target: 'postgres://x@y/z',
        scheduledAt: 1795168800000 + i,
        startedAt: 1795168800000 + i,
        durationMs: ms,
        rows: fails ? null : candidate && s.wrongRows && i % 7 === 0 ? 2 : 1,
        checksum: fails ? null : 'abc',
        ok: !fails,
        sqlState: fails ? '42P01' : null,
        error: fails ? 'relation does not exist' : null,
        originalDurationMs: null,
        attempt: 1,
      };
      lines.push(replayResultToJson(r));
    }
  }
  await writeFile(file, lines.join('\n') + '\n');
}

const SHAPES: Shape[] = [{ fingerprintId: 'aaaa000000000001' }, { fingerprintId: 'aaaa000000000002' }, { fingerprintId: 'aaaa000000000003' }];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'auditreplay-compare-'));
  await results(join(work, 'base.jsonl'), 1, SHAPES, false);
  await results(join(work, 'same.jsonl'), 2, SHAPES, true);
  await results(join(work, 'slow.jsonl'), 3, [{ ...SHAPES[0]!, slower: 2 }, { ...SHAPES[1]!, wrongRows: true }, { ...SHAPES[2]!, failing: true }], true);
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('auditreplay compare', () => {
  it('passes an equal candidate through every gate, with nothing flagged', async () => {
    const res = await runCli(['compare', '--baseline', join(work, 'base.jsonl'), '--candidate', join(work, 'same.jsonl'), '--fail-on-regression', '1.2', '--fail-on-mismatch', '--fail-on-errors']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.summary).toMatchObject({ gateFailed: false, regressions: 0, matched: 180, missing: 0, new: 0, mismatches: 0, candidateOnlyErrors: 0 });
    expect(res.stdout).toContain('no regression');
  });

  it('fails the gate with exit code 6 on a 2x slower fingerprint, and writes the Markdown, JSON and HTML reports', async () => {
    const md = join(work, 'r.md');
    const json = join(work, 'r.json');
    const html = join(work, 'r.html');
    const res = await runCli(['compare', '--baseline', join(work, 'base.jsonl'), '--candidate', join(work, 'slow.jsonl'), '--fail-on-regression', '1.2', '--markdown', md, '--json', json, '--report', html]);
    expect(res.code, res.stderr).toBe(6);
    expect(res.summary).toMatchObject({ gateFailed: true, regressions: 1 });
    const report = JSON.parse(await readFile(json, 'utf8')) as { fingerprints: { fingerprintId: string; verdict: string; ci: [number, number] }[]; gate: { reasons: string[] } };
    const slow = report.fingerprints.find((f) => f.fingerprintId === SHAPES[0]!.fingerprintId)!;
    expect(slow.verdict).toBe('regression');
    expect(slow.ci[0]).toBeGreaterThan(1.2);
    expect(report.fingerprints[0]!.fingerprintId).toBe(SHAPES[0]!.fingerprintId);
    expect(report.gate.reasons.join(' ')).toContain(SHAPES[0]!.fingerprintId);
    expect(await readFile(md, 'utf8')).toMatch(/Top regressions[\s\S]*aaaa000000000001/);
    expect(await readFile(html, 'utf8')).toContain('<svg');
  });

  it('gates result mismatches and candidate-only errors behind their own flags', async () => {
    const base = ['compare', '--baseline', join(work, 'base.jsonl'), '--candidate', join(work, 'slow.jsonl')];
    const plain = await runCli(base);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.summary).toMatchObject({ mismatches: 9, candidateOnlyErrors: 6 });
    expect((await runCli([...base, '--fail-on-mismatch'])).code).toBe(6);
    expect((await runCli([...base, '--fail-on-errors'])).code).toBe(6);
  });

  it('takes the noise floor from the baseline\'s repeats, and from an A/A pair', async () => {
    // Attempt 1 and attempt 2 of the same ids: the baseline replayed twice.
    const first = (await readFile(join(work, 'base.jsonl'), 'utf8')).trim().split('\n');
    const second = (await readFile(join(work, 'same.jsonl'), 'utf8')).trim().split('\n').map((l) => l.replace('"attempt":1', '"attempt":2'));
    await writeFile(join(work, 'repeats.jsonl'), [...first, ...second].join('\n') + '\n');
    const json = join(work, 'noise.json');
    const repeats = await runCli(['compare', '--baseline', join(work, 'repeats.jsonl'), '--candidate', join(work, 'slow.jsonl'), '--noise', 'repeats', '--json', json]);
    expect(repeats.code, repeats.stderr).toBe(0);
    expect(repeats.stderr).toMatch(/noise floor \d+\.\d% from the baseline's repeats/);
    const report = JSON.parse(await readFile(json, 'utf8')) as { settings: { noiseFloor: number }; join: { matched: number } };
    expect(report.settings.noiseFloor).toBeGreaterThan(0);
    expect(report.settings.noiseFloor).toBeLessThan(0.5);
    // Repeats of an id are one matched pair.
    expect(report.join.matched).toBe(180);
    const aa = await runCli(['compare', '--baseline', join(work, 'base.jsonl'), '--candidate', join(work, 'slow.jsonl'), '--noise', join(work, 'same.jsonl')]);
    expect(aa.code, aa.stderr).toBe(0);
    expect(aa.stderr).toMatch(/noise floor \d+\.\d% from A\/A against/);
  });

  it('refuses a side given twice or not at all with exit code 2', async () => {
    expect((await runCli(['compare', '--candidate', join(work, 'same.jsonl')])).code).toBe(2);
    expect((await runCli(['compare', '--baseline', 'a.jsonl', '--baseline-logs', 'x', '--candidate', 'b.jsonl'])).code).toBe(2);
  });
});
