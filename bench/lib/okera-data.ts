/**
 * The benchmarks' shared data sets: N Okera events as gzip JSONL partitions, generated
 * once with samples/make-samples.ts and cached under bench/data/ (git-ignored), keyed by
 * seed and count and rebuilt when the generator's source changes.
 */
import { parseNumericFlags } from './bench-args.js';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { generateAuditLogs } from '../../samples/make-samples.js';
import { fnv1a } from '../../samples/gen/prng.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Where generated data sets are cached: `$BENCH_DATA_DIR`, default bench/data/ (git-ignored). */
export const DATA_DIR = process.env.BENCH_DATA_DIR ? resolve(process.env.BENCH_DATA_DIR) : join(ROOT, 'bench', 'data');
const EVENTS_PER_DAY = 500_000;
const FILES_PER_DAY = 4;

export interface DataSet {
  dir: string;
  /** Requests generated; `parts` counts each statement of a multi-statement string. */
  events: number;
  parts: number;
  records: number;
  from: string;
  to: string;
  files: string[];
  bytes: number;
  rawBytes: number;
}

/** A whole number with thousands separators. */
export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Bytes as MiB with one decimal. */
export function mb(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(1);
}

/** One table row: the first cell left-aligned, the others right-aligned. */
export function pad(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
}

/** Fingerprint of the generator's source, so cached data is rebuilt when it changes. */
function generatorFingerprint(): string {
  const files = [join(ROOT, 'samples', 'make-samples.ts'), ...listTs(join(ROOT, 'samples', 'gen'))];
  return fnv1a(files.map((f) => readFileSync(f, 'utf8')).join('\0')).toString(16);
}

function listTs(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ts'))
    .sort()
    .map((f) => join(dir, f));
}

/** Generates (or reuses) N Okera events as gzip JSONL, one day per ~500k events. */
export async function dataSet(events: number, seed: number): Promise<DataSet> {
  const dir = join(DATA_DIR, `okera-s${seed}-n${events}`);
  const marker = join(dir, '.complete.json');
  const fingerprint = generatorFingerprint();
  if (existsSync(marker)) {
    const cached = JSON.parse(readFileSync(marker, 'utf8')) as DataSet & { fingerprint: string };
    if (cached.fingerprint === fingerprint && cached.parts !== undefined && cached.files.every((f) => existsSync(join(dir, f)))) {
      console.log(`data:  reusing ${relative(ROOT, dir)} (${fmtInt(events)} events)`);
      return { ...cached, dir };
    }
  }
  rmSync(dir, { recursive: true, force: true });
  const days = Math.max(1, Math.ceil(events / EVENTS_PER_DAY));
  process.stdout.write(`data:  generating ${fmtInt(events)} events into ${relative(ROOT, dir)} (${days} day(s) x ${FILES_PER_DAY} files) ... `);
  const t0 = performance.now();
  const res = await generateAuditLogs({
    outDir: dir,
    seed,
    days,
    filesPerDay: FILES_PER_DAY,
    totalEvents: events,
    formats: ['okera'],
    gzip: 'all',
  });
  console.log(`${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const set: DataSet = {
    dir,
    events: res.okera!.requests,
    parts: res.okera!.statementParts,
    records: res.okera!.records,
    from: res.from,
    to: res.to,
    files: res.files.map((f) => f.path),
    bytes: res.files.reduce((n, f) => n + f.bytes, 0),
    rawBytes: res.files.reduce((n, f) => n + f.rawBytes, 0),
  };
  writeFileSync(marker, JSON.stringify({ ...set, fingerprint }, null, 1));
  return set;
}

/** The flags every data-set benchmark takes. */
/** Reads `--events N` (default 2,000,000), `--seed S` (42), `--repeat K` (1), `--cli PATH` (bin/auditreplay.js). */
export function parseBenchArgs(argv: string[], script: string): BenchArgs {
  return parseNumericFlags(argv, script, { events: 2_000_000, seed: 42, repeat: 1 });
}

export interface BenchArgs {
  events: number;
  seed: number;
  repeat: number;
  cli: string;
}


/** The CLI's JSON summary: the last stderr line, when it is one; null otherwise. */
export function summaryLine<T extends { type?: string }>(lines: readonly string[]): T | null {
  try {
    const parsed = JSON.parse(lines[lines.length - 1] ?? '') as T;
    return parsed.type === 'summary' ? parsed : null;
  } catch {
    return null;
  }
}
