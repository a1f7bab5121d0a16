import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compareExecutions, noiseFloorOf, type CompareOptions } from '../../src/compare/compare-engine.js';
import type { CompareReport, Execution, FingerprintReport } from '../../src/compare/compare-model.js';
import { mulberry32 } from '../../src/core/random.js';

const rng = mulberry32;

function lognormal(random: () => number, mu: number, sigma: number): number {
  const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return Math.exp(mu + sigma * z);
}

function exec(originalId: string, fingerprintId: string, durationMs: number | null, more: Partial<Execution> = {}): Execution {
  return { originalId, fingerprintId, fingerprint: null, statement: null, durationMs, ok: true, sqlState: null, rows: null, checksum: null, attempt: 1, ...more };
}

async function* batches(executions: Execution[], size = 97): AsyncGenerator<Execution[]> {
  for (let i = 0; i < executions.length; i += size) yield executions.slice(i, i + size);
}

let tempDir: string;
beforeEach(async () => {
  tempDir = await mkdtemp(join(tmpdir(), 'compare-engine-test-'));
});
afterEach(async () => {
  await rm(tempDir, { recursive: true, force: true });
});

const compare = (baseline: Execution[], candidate: Execution[], options: CompareOptions = {}): Promise<CompareReport> =>
  compareExecutions(batches(baseline), batches(candidate), { baseline: 'base', candidate: 'cand' }, { tempDir, partitions: 8, ...options });

const byId = (report: CompareReport, id: string): FingerprintReport => report.fingerprints.find((f) => f.fingerprintId === id)!;

/** `n` executions per side of each fingerprint, lognormal(ln medianMs, σ), the candidate's scaled by its factor. */
function shifted(seed: number, fingerprints: { id: string; medianMs: number; factor: number }[], n: number, sigma = 0.3): { baseline: Execution[]; candidate: Execution[] } {
  const random = rng(seed);
  const baseline: Execution[] = [];
  const candidate: Execution[] = [];
  for (const fp of fingerprints) {
    for (let i = 0; i < n; i++) {
      const id = `${fp.id}-${i}`;
      baseline.push(exec(id, fp.id, lognormal(random, Math.log(fp.medianMs), sigma)));
      candidate.push(exec(id, fp.id, fp.factor * lognormal(random, Math.log(fp.medianMs), sigma)));
    }
  }
  return { baseline, candidate };
}

describe('compareExecutions', () => {
  it('flags a 1.5× slowdown as a regression, a 0.6× speed-up as an improvement and no change as unchanged', async () => {
    const { baseline, candidate } = shifted(
      7,
      [
        { id: 'up', medianMs: 12, factor: 1.5 },
        { id: 'down', medianMs: 40, factor: 0.6 },
        { id: 'same', medianMs: 3, factor: 1 },
      ],
      200,
    );
    const report = await compare(baseline, candidate);
    const up = byId(report, 'up');
    expect(up.verdict).toBe('regression');
    expect(up.ci![0]).toBeGreaterThan(1.2);
    expect(up.ci![0]).toBeLessThan(1.5);
    expect(up.ci![1]).toBeGreaterThan(1.5);
    expect(up.ratio!).toBeGreaterThan(1.3);
    expect(byId(report, 'down').verdict).toBe('improvement');
    expect(byId(report, 'down').ci![1]).toBeLessThan(1 / 1.2);
    const same = byId(report, 'same');
    expect(same.verdict).toBe('unchanged');
    expect(same.ci![0]).toBeLessThan(1);
    expect(same.ci![1]).toBeGreaterThan(1);
    expect(report.overall).toMatchObject({ regressions: 1, improvements: 1, unchanged: 1, insufficient: 0 });
    expect(report.fingerprints[0]!.fingerprintId).toBe('up');
    expect(report.settings).toEqual({ threshold: 1.2, minSamples: 10, noiseFloor: 0, confidence: 0.95 });
    expect(report.gate).toEqual({ failed: false, reasons: [] });
    expect(report.join).toMatchObject({ matched: 600, missing: 0, new: 0 });
  });

  it('gives the same report for the same seed', async () => {
    const { baseline, candidate } = shifted(3, [{ id: 'a', medianMs: 5, factor: 1.1 }], 3000);
    const one = await compare(baseline, candidate);
    const two = await compare(baseline, candidate);
    expect({ ...two, generatedAt: '' }).toEqual({ ...one, generatedAt: '' });
  });

  it('flags nothing in A/A pairs at the default threshold, across 20 seeds', async () => {
    const floors: number[] = [];
    for (let seed = 1; seed <= 20; seed++) {
      const fps = Array.from({ length: 6 }, (_, i) => ({ id: `fp${i}`, medianMs: 0.5 * 3 ** i, factor: 1 }));
      const { baseline, candidate } = shifted(seed * 1000, fps, 120 + seed * 5);
      const report = await compare(baseline, candidate, { seed });
      expect(report.overall, `seed ${seed}`).toMatchObject({ regressions: 0, improvements: 0, unchanged: 6 });
      expect(Math.abs(Math.log(report.overall.geomeanRatio!))).toBeLessThan(0.1);
      floors.push(noiseFloorOf(report));
    }
    // σ = 0.3 and ~200 samples: the medians of two draws differ by a few percent.
    for (const f of floors) {
      expect(f).toBeGreaterThan(0);
      expect(f).toBeLessThan(0.15);
    }
  });

  it('widens the unchanged band by the noise floor', async () => {
    const { baseline, candidate } = shifted(11, [{ id: 'a', medianMs: 8, factor: 1.4 }], 400);
    expect(byId(await compare(baseline, candidate), 'a').verdict).toBe('regression');
    // 1.2 × (1 + 0.5) = 1.8: a 1.4× shift is within what this environment's noise could do.
    expect(byId(await compare(baseline, candidate, { noiseFloor: 0.5 }), 'a').verdict).toBe('unchanged');
    const reversed = byId(await compare(candidate, baseline, { noiseFloor: 0.5 }), 'a');
    expect(reversed.verdict).toBe('unchanged');
    expect(byId(await compare(candidate, baseline), 'a').verdict).toBe('improvement');
  });

  it('calls fingerprints with fewer timed executions than minSamples on a side insufficient', async () => {
    const { baseline, candidate } = shifted(5, [{ id: 'few', medianMs: 10, factor: 3 }], 9);
    // Executions without a duration, and failures, are not samples.
    baseline.push(exec('few-x', 'few', null), exec('few-y', 'few', 10, { ok: false, sqlState: '57014' }));
    const report = await compare(baseline, candidate);
    const few = byId(report, 'few');
    expect(few.verdict).toBe('insufficient');
    expect(few.ci).toBeNull();
    expect(few.ratio).toBeGreaterThan(2);
    expect(few.baseline).toMatchObject({ count: 11, errors: 1 });
    expect(report.overall.insufficient).toBe(1);
    expect(byId(await compare(baseline, candidate, { minSamples: 5 }), 'few').verdict).toBe('regression');
  });

  it('counts ids on one side only as missing or new with examples, and folds repeats into one matched pair', async () => {
    const baseline: Execution[] = [];
    const candidate: Execution[] = [];
    for (let i = 0; i < 100; i++) {
      const ms = 1 + i;
      baseline.push(exec(`a${i}`, 'fa', ms, { fingerprint: 'SELECT ?', statement: `SELECT ${i}` }));
      // Three attempts, out of order: the median of ms, 2ms and 100ms is 2ms.
      candidate.push(exec(`a${i}`, 'fa', 100 * ms, { attempt: 3 }), exec(`a${i}`, 'fa', ms, { attempt: 1 }), exec(`a${i}`, 'fa', 2 * ms, { attempt: 2 }));
    }
    for (let i = 0; i < 15; i++) baseline.push(exec(`m${i}`, 'fm', 1));
    for (let i = 0; i < 5; i++) candidate.push(exec(`n${i}`, 'fn', 1));
    const report = await compare(baseline, candidate);
    expect(report.join.matched).toBe(100);
    expect(report.join.missing).toBe(15);
    expect(report.join.missingExamples).toHaveLength(10);
    for (const id of report.join.missingExamples) expect(id).toMatch(/^m\d+$/);
    expect(report.join.new).toBe(5);
    expect([...report.join.newExamples].sort()).toEqual(['n0', 'n1', 'n2', 'n3', 'n4']);
    expect(report.baseline.executions).toBe(115);
    expect(report.candidate.executions).toBe(305);
    // Per-fingerprint figures count every execution, matched or not, repeats included.
    const fa = byId(report, 'fa');
    expect(fa.baseline.count).toBe(100);
    expect(fa.candidate.count).toBe(300);
    expect(fa.fingerprint).toBe('SELECT ?');
    expect(fa.examples).toEqual(['SELECT 0', 'SELECT 1', 'SELECT 2']);
    expect(byId(report, 'fm').candidate.count).toBe(0);
    expect(byId(report, 'fm').ratio).toBeNull();
    expect(report.scatter).toHaveLength(100);
    for (const [b, c] of report.scatter) expect(c).toBeCloseTo(2 * b, 6);
    // The join's temp files are gone.
    expect(await readdir(tempDir)).toEqual([]);
  });

  it('counts errors only on the candidate by SQLSTATE, and row count or checksum mismatches, with examples', async () => {
    const baseline: Execution[] = [];
    const candidate: Execution[] = [];
    const both = (id: string, fp: string, b: Partial<Execution>, c: Partial<Execution>): void => {
      baseline.push(exec(id, fp, 1, b));
      candidate.push(exec(id, fp, 1, c));
    };
    for (let i = 0; i < 3; i++) both(`timeout${i}`, 'fe', {}, { ok: false, sqlState: '57014' });
    for (let i = 0; i < 2; i++) both(`table${i}`, 'fe', {}, { ok: false, sqlState: '42P01' });
    both('both-failed', 'fe', { ok: false, sqlState: '42P01' }, { ok: false, sqlState: '42P01' });
    both('baseline-failed', 'fe', { ok: false, sqlState: '42P01' }, {});
    // A repeat that failed makes the id failed, with its SQLSTATE.
    baseline.push(exec('repeat', 'fe', 1));
    candidate.push(exec('repeat', 'fe', 1, { attempt: 1 }), exec('repeat', 'fe', 1, { attempt: 2, ok: false, sqlState: '40001' }));

    both('rows', 'fm', { rows: 10, checksum: 'x' }, { rows: 11, checksum: 'x' });
    both('checksum', 'fm', { rows: 10, checksum: 'x' }, { rows: 10, checksum: 'y' });
    both('one-checksum', 'fm', { rows: 10, checksum: null }, { rows: 10, checksum: 'y' });
    both('bigint', 'fm', { rows: 10n, checksum: 'x' }, { rows: 10, checksum: 'x' });
    for (let i = 0; i < 25; i++) both(`many${i}`, 'fmany', { rows: i }, { rows: i + 1 });

    const report = await compare(baseline, candidate);
    expect(report.candidateOnlyErrors.total).toBe(6);
    expect(report.candidateOnlyErrors.bySqlState).toEqual({ '57014': 3, '42P01': 2, '40001': 1 });
    expect(report.candidateOnlyErrors.examples).toHaveLength(6);
    expect(report.candidateOnlyErrors.examples).toContainEqual({ originalId: 'repeat', fingerprintId: 'fe', sqlState: '40001' });
    expect(byId(report, 'fe').candidateOnlyErrors).toEqual({ '57014': 3, '42P01': 2, '40001': 1 });
    expect(byId(report, 'fe').candidate.errors).toBe(7);

    expect(report.mismatches.total).toBe(27);
    expect(report.mismatches.examples).toHaveLength(20);
    const examples = report.mismatches.examples.filter((m) => m.fingerprintId === 'fm');
    expect(examples).toContainEqual({ originalId: 'rows', fingerprintId: 'fm', what: 'rows', baseline: '10', candidate: '11' });
    expect(examples).toContainEqual({ originalId: 'checksum', fingerprintId: 'fm', what: 'checksum', baseline: 'x', candidate: 'y' });
    expect(byId(report, 'fm').mismatches).toBe(2);
    expect(byId(report, 'fmany').mismatches).toBe(25);
  });

  it('computes the geometric mean of the ratios, plain and weighted by total baseline time', async () => {
    const baseline: Execution[] = [];
    const candidate: Execution[] = [];
    const fp = (id: string, baseMs: number, candMs: number): void => {
      for (let i = 0; i < 10; i++) {
        baseline.push(exec(`${id}${i}`, id, baseMs));
        candidate.push(exec(`${id}${i}`, id, candMs));
      }
    };
    fp('a', 10, 20); // ratio 2, baseline total 100 ms
    fp('b', 1, 0.5); // ratio 0.5, total 10 ms
    fp('c', 4, 4); // ratio 1, total 40 ms
    const report = await compare(baseline, candidate);
    // HdrHistogram's medians are within 1%, so the ratios are within 2%.
    expect(byId(report, 'a').ratio).toBeCloseTo(2, 1);
    expect(byId(report, 'a').baseline.totalMs).toBe(100);
    // (2 × 0.5 × 1)^(1/3) = 1; exp((100 ln 2 + 10 ln 0.5 + 40 ln 1) / 150) = 2^0.6.
    expect(Math.abs(report.overall.geomeanRatio! - 1)).toBeLessThan(0.02);
    expect(Math.abs(report.overall.weightedGeomeanRatio! / 2 ** 0.6 - 1)).toBeLessThan(0.02);
    // Regressions first, then by total baseline time.
    expect(report.fingerprints.map((f) => [f.fingerprintId, f.verdict])).toEqual([
      ['a', 'regression'],
      ['c', 'unchanged'],
      ['b', 'improvement'],
    ]);
    const total = report.distribution.baseline.reduce((s, n) => s + n, 0);
    expect(total).toBe(30);
    expect(report.distribution.bounds).toHaveLength(30);
    expect(report.distribution.bounds[0]).toBe(0.01);
    expect(report.distribution.bounds[29]).toBe(100_000);
  });

  it('removes its temp files when a side fails mid-stream, and refuses bad options', async () => {
    async function* failing(): AsyncGenerator<Execution[]> {
      yield [exec('a', 'f', 1)];
      throw new Error('source broke');
    }
    await expect(compareExecutions(batches([exec('a', 'f', 1)]), failing(), { baseline: 'b', candidate: 'c' }, { tempDir })).rejects.toThrow('source broke');
    expect(await readdir(tempDir)).toEqual([]);
    await expect(compare([], [], { threshold: 0.8 })).rejects.toMatchObject({ name: 'AuditReplayError', code: 'usage' });
    await expect(compare([], [], { confidence: 1 })).rejects.toMatchObject({ code: 'usage' });
    const empty = await compare([], []);
    expect(empty.overall).toMatchObject({ geomeanRatio: null, weightedGeomeanRatio: null });
    expect(noiseFloorOf(empty)).toBe(0);
  });

  it('compares 1,000,000 executions per side in bounded memory', { timeout: 180_000 }, async () => {
    const perSide = 1_000_000;
    const batchSize = 10_000;
    let peakHeap = 0;
    async function* side(seed: number): AsyncGenerator<Execution[]> {
      const random = rng(seed);
      for (let start = 0; start < perSide; start += batchSize) {
        const batch: Execution[] = [];
        for (let i = start; i < start + batchSize; i++) {
          const fp = i % 500;
          batch.push(exec(`q${i}`, `fp${fp}`, lognormal(random, (fp % 20) / 4, 0.3), { rows: fp, checksum: 'c' }));
        }
        // Sampled without forcing a GC: what the process really holds, garbage included.
        peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
        yield batch;
      }
    }
    const started = performance.now();
    const report = await compareExecutions(side(1), side(2), { baseline: 'base', candidate: 'cand' }, { tempDir });
    const seconds = (performance.now() - started) / 1000;
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
    console.log(
      `compare: ${perSide.toLocaleString('en')} executions per side in ${seconds.toFixed(1)} s, ` +
        `${Math.round(perSide / seconds).toLocaleString('en')} rows/s per side (${Math.round((2 * perSide) / seconds).toLocaleString('en')} rows/s total), ` +
        `peak heapUsed ${(peakHeap / 2 ** 20).toFixed(0)} MB`,
    );
    expect(report.join.matched).toBe(perSide);
    expect(report.fingerprints).toHaveLength(500);
    expect(report.scatter).toHaveLength(2000);
    expect(report.overall.regressions + report.overall.improvements).toBe(0);
    expect(peakHeap).toBeLessThan(300 * 2 ** 20);
    expect(await readdir(tempDir)).toEqual([]);
  });
});
