/**
 * The comparison engine of `auditreplay compare`: joins two sides' executions by original
 * id and compares them per fingerprint, in memory bounded by the number of fingerprints
 * (sketches) and by one partition of the join, never by the number of executions.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as hdr from 'hdr-histogram-js';
import { AuditReplayError } from '../core/errors.js';
import { fnv1a, mulberry32 } from '../core/random.js';
import type {
  CompareReport,
  ErrorExample,
  Execution,
  FingerprintReport,
  MismatchExample,
  SideStats,
  Verdict,
} from './compare-model.js';

export interface CompareOptions {
  /** Ratio above which a fingerprint can be a regression, below 1/threshold an improvement (default 1.2). */
  threshold?: number;
  /** Timed executions per side needed for a verdict (default 10). */
  minSamples?: number;
  /** Confidence of the ratio's interval (default 0.95). */
  confidence?: number;
  /** Relative noise of the environment (0.05 = 5%), from repeats or an A/A pair (default 0). */
  noiseFloor?: number;
  /** Seed of the reservoirs and of the bootstrap (default 1): the same inputs give the same report. */
  seed?: number;
  /** Where the join spills its partitions (default os.tmpdir()). */
  tempDir?: string;
  /** Partitions of the join (default 64): memory of the second phase is about 1/partitions of the ids. */
  partitions?: number;
}

/** Durations kept per side per fingerprint for the confidence interval. */
const RESERVOIR_SIZE = 1000;
const BOOTSTRAP_RESAMPLES = 1000;
const SCATTER_POINTS = 2000;
const EXAMPLE_STATEMENTS = 3;
const JOIN_EXAMPLES = 10;
const ERROR_EXAMPLES = 20;
/** Buffered characters per partition file before a write: 64 partitions × 2 sides stay under ~16 MB. */
const FLUSH_CHARS = 64 * 1024;
/**
 * Durations are floored at 1 µs for ratios and logarithms: logs with coarse resolution
 * report 0 ms, and a ratio against 0 says nothing.
 */
const MIN_MS = 0.001;
/** Upper bounds (ms) of the distribution's buckets: 30, log-spaced from 0.01 ms to 100 s; the last also holds anything slower. */
const DISTRIBUTION_BOUNDS: number[] = Array.from({ length: 30 }, (_, i) => Number((0.01 * 10 ** ((7 * i) / 29)).toPrecision(3)));

const rng = mulberry32;


/** Latency figures of one side of one fingerprint, streaming: constant memory for any count. */
class SideAccumulator {
  count = 0;
  errors = 0;
  timed = 0;
  totalMs = 0;
  /** HdrHistogram in µs, 2 significant digits, as the replay runner's LatencyHistogram (~14 KB). */
  private readonly histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 2 });
  /** A uniform sample (algorithm R) of the durations, for the bootstrap: grows to RESERVOIR_SIZE. */
  readonly reservoir: number[] = [];

  add(e: Execution, random: () => number): void {
    this.count++;
    // Failures are counted, not timed: an error returns early (or times out), and its
    // duration says nothing about the statement's speed.
    if (e.ok === false) {
      this.errors++;
      return;
    }
    const ms = e.durationMs;
    if (ms === null || !Number.isFinite(ms)) return;
    const d = Math.max(0, ms);
    this.timed++;
    this.totalMs += d;
    this.histogram.recordValue(Math.min(3_600_000_000, Math.round(d * 1000)));
    if (this.reservoir.length < RESERVOIR_SIZE) this.reservoir.push(d);
    else {
      const j = Math.floor(random() * this.timed);
      if (j < RESERVOIR_SIZE) this.reservoir[j] = d;
    }
  }

  stats(): SideStats {
    const at = (p: number): number | null => (this.timed === 0 ? null : Math.round(this.histogram.getValueAtPercentile(p)) / 1000);
    return {
      count: this.count,
      p50: at(50),
      p95: at(95),
      p99: at(99),
      mean: this.timed === 0 ? null : round3(this.totalMs / this.timed),
      totalMs: round3(this.totalMs),
      errors: this.errors,
    };
  }
}

class FingerprintAccumulator {
  fingerprint: string | null = null;
  readonly examples: string[] = [];
  readonly baseline = new SideAccumulator();
  readonly candidate = new SideAccumulator();
  readonly candidateOnlyErrors: Record<string, number> = {};
  mismatches = 0;

  constructor(readonly fingerprintId: string) {}

  describe(e: Execution): void {
    if (this.fingerprint === null && e.fingerprint !== null) this.fingerprint = e.fingerprint;
    if (e.statement !== null && this.examples.length < EXAMPLE_STATEMENTS && !this.examples.includes(e.statement)) this.examples.push(e.statement);
  }
}

/** The repeats of one original id on one side, folded into one execution. */
interface Joined {
  fp: string;
  durations: number[];
  /** True when any repeat failed: the id is ok only if all its repeats are. */
  failed: boolean;
  sqlState: string | null;
  failAttempt: number;
  rows: string | null;
  checksum: string | null;
  okAttempt: number;
}

/** A spilled execution: [originalId, fingerprintId, durationMs, ok, sqlState, rows, checksum, attempt]. */
type SpillLine = [string, string, number | null, boolean | null, string | null, string | null, string | null, number];

/** Writes each side's executions to `partitions` files by a hash of the original id, with bounded buffers. */
class PartitionWriter {
  private readonly buffers: string[];
  private constructor(private readonly handles: FileHandle[]) {
    this.buffers = handles.map(() => '');
  }

  static async open(paths: string[]): Promise<PartitionWriter> {
    const handles: FileHandle[] = [];
    try {
      for (const p of paths) handles.push(await open(p, 'w'));
    } catch (err) {
      await Promise.all(handles.map((h) => h.close()));
      throw err;
    }
    return new PartitionWriter(handles);
  }

  /** Awaiting the write when a buffer fills is the backpressure: a slow disk holds back the reader. */
  async write(partition: number, line: string): Promise<void> {
    const b = this.buffers[partition] + line + '\n';
    if (b.length < FLUSH_CHARS) {
      this.buffers[partition] = b;
      return;
    }
    this.buffers[partition] = '';
    await this.handles[partition]!.write(b);
  }

  async close(): Promise<void> {
    try {
      for (let i = 0; i < this.handles.length; i++) if (this.buffers[i]!.length > 0) await this.handles[i]!.write(this.buffers[i]!);
    } finally {
      await Promise.all(this.handles.map((h) => h.close()));
    }
  }
}

/**
 * The spilled lines of a file, parsed a 1 MB chunk at a time: one JSON.parse and one await
 * per chunk rather than per line (JSON lines hold no raw newline, so the newlines of a
 * chunk's whole lines can become the commas of one array).
 */
async function* readSpill(path: string): AsyncGenerator<SpillLine[]> {
  let rest = '';
  for await (const chunk of createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 }) as AsyncIterable<string>) {
    const text = rest + chunk;
    const last = text.lastIndexOf('\n');
    if (last === -1) {
      rest = text;
      continue;
    }
    rest = text.slice(last + 1);
    yield JSON.parse(`[${text.slice(0, last).replaceAll('\n', ',')}]`) as SpillLine[];
  }
  if (rest.length > 0) yield [JSON.parse(rest) as SpillLine];
}

/** One partition of one side, with the repeats of each id folded together. */
async function loadPartition(path: string): Promise<Map<string, Joined>> {
  const map = new Map<string, Joined>();
  for await (const lines of readSpill(path)) {
    for (const [id, fp, ms, ok, sqlState, rows, checksum, attempt] of lines) {
      let j = map.get(id);
      if (j === undefined) {
        j = { fp, durations: [], failed: false, sqlState: null, failAttempt: Infinity, rows: null, checksum: null, okAttempt: Infinity };
        map.set(id, j);
      }
      if (ms !== null) j.durations.push(ms);
      // "First" is by attempt number, so the order the repeats arrive in does not matter.
      if (ok === false) {
        j.failed = true;
        if (attempt < j.failAttempt) {
          j.failAttempt = attempt;
          j.sqlState = sqlState;
        }
      } else if (attempt < j.okAttempt) {
        j.okAttempt = attempt;
        j.rows = rows;
        j.checksum = checksum;
      }
    }
  }
  return map;
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const s = values.length === 1 ? values : [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function standardNormal(random: () => number): number {
  // Box-Muller; 1 - random() keeps the logarithm away from 0.
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** Gamma(shape, 1) by Marsaglia and Tsang (shape ≥ 1, which is all the bootstrap needs). */
function gamma(shape: number, random: () => number): number {
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  while (true) {
    let x: number;
    let v: number;
    do {
      x = standardNormal(random);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - random();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

function beta(a: number, b: number, random: () => number): number {
  const x = gamma(a, random);
  return x / (x + gamma(b, random));
}

/**
 * The median of one bootstrap resample of `sorted`, drawn directly. Resampling n values with
 * replacement picks indices floor(n·U) for n uniforms U; floor is monotone, so the resample's
 * k-th smallest value is sorted[floor(n·U₍ₖ₎)], and the k-th order statistic of n uniforms is
 * Beta(k, n−k+1). For an even n the next one is U₍ₖ₎ + (1−U₍ₖ₎)·Beta(1, n−k). This gives
 * the distribution of the naive bootstrap's median (exactly below 100 values, see
 * orderStatistic) at O(1) per resample instead of O(n).
 */
function resampledMedian(sorted: number[], random: () => number): number {
  const n = sorted.length;
  const pick = (u: number): number => sorted[Math.min(n - 1, Math.max(0, Math.floor(n * u)))]!;
  const k = Math.ceil(n / 2);
  const uk = orderStatistic(k, n, random);
  if (n % 2 === 1) return pick(uk);
  const next = uk + (1 - uk) * (1 - Math.pow(1 - random(), 1 / (n - k)));
  return (pick(uk) + pick(next)) / 2;
}

/**
 * The k-th smallest of n uniforms, Beta(k, n−k+1). From 100 values on, with k the median,
 * the Beta is symmetric to within O(1/n) and a normal with its mean and variance is used:
 * four times cheaper than two gamma draws, and far below the resolution of floor(n·U).
 */
function orderStatistic(k: number, n: number, random: () => number): number {
  if (n < 100) return beta(k, n - k + 1, random);
  const mean = k / (n + 1);
  return mean + Math.sqrt((mean * (1 - mean)) / (n + 2)) * standardNormal(random);
}

/**
 * A percentile-bootstrap interval of candidate median / baseline median from the two
 * reservoirs. Bootstrap rather than Hodges-Lehmann because the report's number is a ratio of
 * medians, and the bootstrap estimates exactly that without assuming the change is a pure
 * shift of the log-durations; drawing each resample's median directly (resampledMedian) makes
 * 1,000 resamples cost microseconds per fingerprint. Seeded per fingerprint id, so a
 * fingerprint's interval does not depend on the others or on input order.
 */
function bootstrapRatioCi(baseline: number[], candidate: number[], confidence: number, seed: number, fingerprintId: string): [number, number] {
  const random = rng(seed ^ fnv1a(fingerprintId));
  const b = baseline.map((x) => Math.max(MIN_MS, x)).sort((x, y) => x - y);
  const c = candidate.map((x) => Math.max(MIN_MS, x)).sort((x, y) => x - y);
  const ratios = new Float64Array(BOOTSTRAP_RESAMPLES);
  for (let i = 0; i < BOOTSTRAP_RESAMPLES; i++) ratios[i] = resampledMedian(c, random) / resampledMedian(b, random);
  ratios.sort();
  const alpha = (1 - confidence) / 2;
  const q = (p: number): number => ratios[Math.min(BOOTSTRAP_RESAMPLES - 1, Math.max(0, Math.round(p * (BOOTSTRAP_RESAMPLES - 1))))]!;
  return [round4(q(alpha)), round4(q(1 - alpha))];
}

function round4(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}

/**
 * The verdict of one fingerprint. The noise floor ε widens the "unchanged" band
 * multiplicatively: a ratio measured in an environment that differs from itself by up to a
 * factor (1 + ε) can be that far off with no change at all, so the interval must clear the
 * threshold by that factor too: regression when ci[0] > threshold·(1 + ε), improvement when
 * ci[1] < 1 / (threshold·(1 + ε)). Symmetric in log space, so swapping the sides swaps the verdicts.
 */
function verdictOf(ci: [number, number] | null, threshold: number, noiseFloor: number): Verdict {
  if (ci === null) return 'insufficient';
  const bar = threshold * (1 + noiseFloor);
  if (ci[0] > bar) return 'regression';
  if (ci[1] < 1 / bar) return 'improvement';
  return 'unchanged';
}

function validate(options: CompareOptions): Required<Omit<CompareOptions, 'tempDir'>> & { tempDir: string } {
  const o = {
    threshold: options.threshold ?? 1.2,
    minSamples: options.minSamples ?? 10,
    confidence: options.confidence ?? 0.95,
    noiseFloor: options.noiseFloor ?? 0,
    seed: options.seed ?? 1,
    tempDir: options.tempDir ?? tmpdir(),
    partitions: options.partitions ?? 64,
  };
  const bad = (what: string): never => {
    throw new AuditReplayError('usage', `compare: ${what}`);
  };
  if (!(o.threshold >= 1) || !Number.isFinite(o.threshold)) bad(`the threshold must be a ratio ≥ 1, not ${o.threshold}`);
  if (!Number.isInteger(o.minSamples) || o.minSamples < 1) bad(`minSamples must be a positive integer, not ${o.minSamples}`);
  if (!(o.confidence > 0 && o.confidence < 1)) bad(`the confidence must be between 0 and 1, not ${o.confidence}`);
  if (!(o.noiseFloor >= 0) || !Number.isFinite(o.noiseFloor)) bad(`the noise floor must be ≥ 0, not ${o.noiseFloor}`);
  if (!Number.isInteger(o.partitions) || o.partitions < 1 || o.partitions > 4096) bad(`partitions must be an integer from 1 to 4096, not ${o.partitions}`);
  if (!Number.isFinite(o.seed)) bad(`the seed must be a number, not ${o.seed}`);
  return o;
}

/**
 * Compares a candidate's executions with a baseline's. Each side is read once: its
 * executions feed per-fingerprint sketches (HdrHistogram, a 1,000-value reservoir) and are
 * spilled to `partitions` temp files by a hash of the original id; then each partition's two
 * halves are joined in memory, the repeats of an id folded together (median duration; ok only
 * if all repeats are; the first failure's SQLSTATE; the first success's rows and checksum).
 * Defaults: threshold 1.2, minSamples 10, confidence 0.95, noiseFloor 0, seed 1, tempDir
 * os.tmpdir(), 64 partitions. `gate` is left unfailed: the CLI applies --fail-on-regression.
 */
export async function compareExecutions(
  baseline: AsyncIterable<Execution[]>,
  candidate: AsyncIterable<Execution[]>,
  labels: { baseline: string; candidate: string },
  options: CompareOptions = {},
): Promise<CompareReport> {
  const o = validate(options);
  const fingerprints = new Map<string, FingerprintAccumulator>();
  const distribution = { baseline: new Array<number>(DISTRIBUTION_BOUNDS.length).fill(0), candidate: new Array<number>(DISTRIBUTION_BOUNDS.length).fill(0) };
  const reservoirRandom = rng(o.seed);
  const dir = await mkdtemp(join(o.tempDir, 'auditreplay-compare-'));
  const pathOf = (side: 'b' | 'c', p: number): string => join(dir, `${side}${p}.jsonl`);
  const partitionIds = Array.from({ length: o.partitions }, (_, p) => p);
  try {
    const spill = async (source: AsyncIterable<Execution[]>, side: 'baseline' | 'candidate'): Promise<number> => {
      const writer = await PartitionWriter.open(partitionIds.map((p) => pathOf(side === 'baseline' ? 'b' : 'c', p)));
      const buckets = distribution[side];
      let n = 0;
      try {
        for await (const batch of source) {
          for (const e of batch) {
            n++;
            let fp = fingerprints.get(e.fingerprintId);
            if (fp === undefined) {
              fp = new FingerprintAccumulator(e.fingerprintId);
              fingerprints.set(e.fingerprintId, fp);
            }
            fp.describe(e);
            fp[side].add(e, reservoirRandom);
            const ms = e.durationMs !== null && Number.isFinite(e.durationMs) ? Math.max(0, e.durationMs) : null;
            if (ms !== null && e.ok !== false) buckets[bucketOf(ms)]!++;
            const rows = e.rows === null ? null : String(e.rows);
            const line: SpillLine = [e.originalId, e.fingerprintId, ms, e.ok, e.sqlState, rows, e.checksum, e.attempt];
            await writer.write(fnv1a(e.originalId) % o.partitions, JSON.stringify(line));
          }
        }
      } finally {
        await writer.close();
      }
      return n;
    };
    const baselineCount = await spill(baseline, 'baseline');
    const candidateCount = await spill(candidate, 'candidate');

    const join_ = { matched: 0, missing: 0, new: 0, missingExamples: [] as string[], newExamples: [] as string[] };
    const errors = { total: 0, bySqlState: {} as Record<string, number>, examples: [] as ErrorExample[] };
    const mismatches = { total: 0, examples: [] as MismatchExample[] };
    const scatter: [number, number][] = [];
    const scatterRandom = rng(o.seed + 1);
    let scatterSeen = 0;
    for (const p of partitionIds) {
      const base = await loadPartition(pathOf('b', p));
      const cand = await loadPartition(pathOf('c', p));
      for (const [id, c] of cand) {
        const b = base.get(id);
        if (b === undefined) {
          join_.new++;
          if (join_.newExamples.length < JOIN_EXAMPLES) join_.newExamples.push(id);
          continue;
        }
        base.delete(id);
        join_.matched++;
        const fp = fingerprints.get(b.fp)!;
        if (c.failed && !b.failed) {
          const state = c.sqlState ?? 'unknown';
          errors.total++;
          errors.bySqlState[state] = (errors.bySqlState[state] ?? 0) + 1;
          fp.candidateOnlyErrors[state] = (fp.candidateOnlyErrors[state] ?? 0) + 1;
          if (errors.examples.length < ERROR_EXAMPLES) errors.examples.push({ originalId: id, fingerprintId: b.fp, sqlState: c.sqlState });
        }
        if (!b.failed && !c.failed) {
          const what = b.rows !== null && c.rows !== null && b.rows !== c.rows ? 'rows' : b.checksum !== null && c.checksum !== null && b.checksum !== c.checksum ? 'checksum' : null;
          if (what !== null) {
            mismatches.total++;
            fp.mismatches++;
            if (mismatches.examples.length < ERROR_EXAMPLES) mismatches.examples.push({ originalId: id, fingerprintId: b.fp, what, baseline: b[what], candidate: c[what] });
          }
          const bm = median(b.durations);
          const cm = median(c.durations);
          if (bm !== null && cm !== null) {
            // A uniform sample of the matched pairs (algorithm R).
            scatterSeen++;
            const point: [number, number] = [round3(bm), round3(cm)];
            if (scatter.length < SCATTER_POINTS) scatter.push(point);
            else {
              const j = Math.floor(scatterRandom() * scatterSeen);
              if (j < SCATTER_POINTS) scatter[j] = point;
            }
          }
        }
      }
      for (const id of base.keys()) {
        join_.missing++;
        if (join_.missingExamples.length < JOIN_EXAMPLES) join_.missingExamples.push(id);
      }
    }

    const reports = [...fingerprints.values()].map((fp) => fingerprintReport(fp, o));
    return {
      generatedAt: new Date().toISOString(),
      baseline: { source: labels.baseline, executions: baselineCount },
      candidate: { source: labels.candidate, executions: candidateCount },
      settings: { threshold: o.threshold, minSamples: o.minSamples, noiseFloor: o.noiseFloor, confidence: o.confidence },
      join: join_,
      overall: overallOf(reports),
      fingerprints: sortFingerprints(reports),
      candidateOnlyErrors: errors,
      mismatches,
      scatter,
      distribution: { bounds: [...DISTRIBUTION_BOUNDS], ...distribution },
      gate: { failed: false, reasons: [] },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function bucketOf(ms: number): number {
  let lo = 0;
  let hi = DISTRIBUTION_BOUNDS.length - 1;
  // The first bound ≥ ms; anything beyond the last falls in the last bucket.
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (DISTRIBUTION_BOUNDS[mid]! >= ms) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function fingerprintReport(fp: FingerprintAccumulator, o: ReturnType<typeof validate>): FingerprintReport {
  const baseline = fp.baseline.stats();
  const candidate = fp.candidate.stats();
  // The ratio is of the medians shown (HdrHistogram, ±1%); the interval is from the reservoirs.
  const ratio = baseline.p50 !== null && candidate.p50 !== null ? round4(Math.max(MIN_MS, candidate.p50) / Math.max(MIN_MS, baseline.p50)) : null;
  const enough = fp.baseline.timed >= o.minSamples && fp.candidate.timed >= o.minSamples;
  const ci = enough ? bootstrapRatioCi(fp.baseline.reservoir, fp.candidate.reservoir, o.confidence, o.seed, fp.fingerprintId) : null;
  return {
    fingerprintId: fp.fingerprintId,
    fingerprint: fp.fingerprint,
    examples: fp.examples,
    baseline,
    candidate,
    ratio,
    ci,
    verdict: verdictOf(ci, o.threshold, o.noiseFloor),
    candidateOnlyErrors: fp.candidateOnlyErrors,
    mismatches: fp.mismatches,
  };
}

function overallOf(reports: FingerprintReport[]): CompareReport['overall'] {
  let logSum = 0;
  let n = 0;
  let weightedLogSum = 0;
  let weights = 0;
  const counts = { regression: 0, improvement: 0, unchanged: 0, insufficient: 0 };
  for (const r of reports) {
    counts[r.verdict]++;
    if (r.ratio === null) continue;
    const l = Math.log(r.ratio);
    logSum += l;
    n++;
    weightedLogSum += r.baseline.totalMs * l;
    weights += r.baseline.totalMs;
  }
  return {
    geomeanRatio: n === 0 ? null : round4(Math.exp(logSum / n)),
    weightedGeomeanRatio: weights === 0 ? null : round4(Math.exp(weightedLogSum / weights)),
    regressions: counts.regression,
    improvements: counts.improvement,
    unchanged: counts.unchanged,
    insufficient: counts.insufficient,
  };
}

/** Regressions first, worst ratio first; then the rest by total baseline time, largest first. */
function sortFingerprints(reports: FingerprintReport[]): FingerprintReport[] {
  return reports.sort((a, b) => {
    const ra = a.verdict === 'regression';
    const rb = b.verdict === 'regression';
    if (ra !== rb) return ra ? -1 : 1;
    const d = ra ? (b.ratio ?? 0) - (a.ratio ?? 0) : b.baseline.totalMs - a.baseline.totalMs;
    return d !== 0 ? d : a.fingerprintId < b.fingerprintId ? -1 : a.fingerprintId > b.fingerprintId ? 1 : 0;
  });
}

/**
 * The noise floor measured by an A/A report (the same workload on the same system twice):
 * the 95th percentile of |ln ratio| over the fingerprints with a verdict (enough samples),
 * as a relative number (exp(q) − 1; 0.05 = 5%). 0 when no fingerprint had enough samples.
 */
export function noiseFloorOf(report: CompareReport): number {
  const logs = report.fingerprints
    .filter((f) => f.verdict !== 'insufficient' && f.ratio !== null && f.ratio > 0)
    .map((f) => Math.abs(Math.log(f.ratio!)))
    .sort((a, b) => a - b);
  if (logs.length === 0) return 0;
  const q = logs[Math.min(logs.length - 1, Math.ceil(0.95 * logs.length) - 1)]!;
  return round4(Math.exp(q) - 1);
}
