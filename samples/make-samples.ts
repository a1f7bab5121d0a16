/**
 * Deterministic audit-log generator. `generateAuditLogs` writes Okera and PostgreSQL 15
 * jsonlog trees for any size (the bench uses it for millions of events); run as a script,
 * this file regenerates the committed sample set in `samples/logs/` and its figures in
 * `samples/expected.json`.
 *
 *   npx tsx samples/make-samples.ts      (or: npm run samples)
 */
import { rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generateOkera } from './gen/okera.js';
import type { OkeraSummary } from './gen/okera.js';
import { generatePostgres } from './gen/postgres.js';
import type { PgSummary } from './gen/postgres.js';
import { Rng } from './gen/prng.js';
import { DAY_MS, dayString, parseDay } from './gen/time.js';
import type { GeneratedFile, SampleFormat } from './gen/types.js';

export type { GeneratedFile, SampleFormat } from './gen/types.js';
export type { OkeraSummary } from './gen/okera.js';
export type { PgSummary } from './gen/postgres.js';

export type GzipPolicy = 'mixed' | 'all' | 'none';

export interface GenerateOptions {
  /** Root of the trees; `okera/` and `postgres/` are created under it. Not cleaned first. */
  outDir: string;
  /** PRNG seed; the same seed gives byte-identical files (for one zlib version). Default 42. */
  seed?: number;
  /** First day, `YYYY-MM-DD`, UTC. Default `2026-11-17`. */
  start?: string;
  /** Number of days. Default 4. */
  days?: number;
  /** Okera planner files per day and PostgreSQL log files per day (rotation). Default 3. */
  filesPerDay?: number;
  /** Okera requests per file on average, and the PostgreSQL workload target per file. Default 30. */
  eventsPerFile?: number;
  /**
   * Exact number of Okera requests over the whole period, split evenly over the days;
   * overrides `eventsPerFile` (PostgreSQL then targets the same number of statements).
   */
  totalEvents?: number;
  /** Which trees to write. Default both: `['okera', 'pg-json']`. */
  formats?: readonly SampleFormat[];
  /** `mixed` alternates gzip and plain files, `all` gzips every file, `none` none. Default `mixed`. */
  gzip?: GzipPolicy;
  /** zlib level for gzip files. Default 6 (gzip's own default). */
  gzipLevel?: number;
  /** Share of Okera requests that also log a START record. Default 0.1. */
  startRecordFraction?: number;
}

export interface GenerateResult {
  options: Required<Omit<GenerateOptions, 'totalEvents'>> & { totalEvents: number | null };
  /** First day and the day after the last, for `--from`/`--to`. */
  from: string;
  to: string;
  files: GeneratedFile[];
  okera: OkeraSummary | null;
  postgres: PgSummary | null;
}

/**
 * Writes synthetic audit logs under `options.outDir`, streaming every file through
 * (optionally) gzip, and reports what it wrote. Defaults: seed 42, start 2026-11-17,
 * 4 days, 3 files per day, 30 events per file, both formats, gzip `mixed`, level 6,
 * 10% START records.
 */
export async function generateAuditLogs(options: GenerateOptions): Promise<GenerateResult> {
  const opts = {
    outDir: options.outDir,
    seed: options.seed ?? 42,
    start: options.start ?? '2026-11-17',
    days: options.days ?? 4,
    filesPerDay: options.filesPerDay ?? 3,
    eventsPerFile: options.eventsPerFile ?? 30,
    totalEvents: options.totalEvents ?? null,
    formats: options.formats ?? (['okera', 'pg-json'] as const),
    gzip: options.gzip ?? 'mixed',
    gzipLevel: options.gzipLevel ?? 6,
    startRecordFraction: options.startRecordFraction ?? 0.1,
  };
  if (!Number.isInteger(opts.days) || opts.days < 1) throw new Error(`days must be a positive integer, got ${opts.days}`);
  if (!Number.isInteger(opts.filesPerDay) || opts.filesPerDay < 1 || opts.filesPerDay > 24) {
    throw new Error(`filesPerDay must be an integer in 1..24, got ${opts.filesPerDay}`);
  }
  const start = parseDay(opts.start);
  const perDay: number[] = [];
  for (let d = 0; d < opts.days; d++) {
    if (opts.totalEvents !== null) {
      const base = Math.floor(opts.totalEvents / opts.days);
      perDay.push(base + (d < opts.totalEvents % opts.days ? 1 : 0));
    } else {
      perDay.push(opts.filesPerDay * opts.eventsPerFile);
    }
  }
  const gzipFor = (index: number): boolean => (opts.gzip === 'all' ? true : opts.gzip === 'none' ? false : index % 2 === 0);
  const rng = new Rng(opts.seed);
  const files: GeneratedFile[] = [];
  let okera: OkeraSummary | null = null;
  let postgres: PgSummary | null = null;
  if (opts.formats.includes('okera')) {
    const res = await generateOkera({
      rng: rng.fork('okera'),
      seed: opts.seed,
      outDir: opts.outDir,
      start,
      days: opts.days,
      filesPerDay: opts.filesPerDay,
      requestsPerDay: perDay,
      gzipFor,
      gzipLevel: opts.gzipLevel,
      startFraction: opts.startRecordFraction,
    });
    files.push(...res.files);
    okera = res.summary;
  }
  if (opts.formats.includes('pg-json')) {
    const res = await generatePostgres({
      rng: rng.fork('postgres'),
      outDir: opts.outDir,
      start,
      days: opts.days,
      filesPerDay: opts.filesPerDay,
      statementsPerDay: perDay,
      gzipFor,
      gzipLevel: opts.gzipLevel,
    });
    files.push(...res.files);
    postgres = res.summary;
  }
  return {
    options: { ...opts, formats: [...opts.formats] },
    from: dayString(start),
    to: dayString(start + opts.days * DAY_MS),
    files,
    okera,
    postgres,
  };
}

/** The committed figures: everything but on-disk sizes, which depend on the zlib build. */
function expectedFigures(res: GenerateResult): unknown {
  const { outDir: _outDir, ...options } = res.options;
  return {
    generatedBy: 'npx tsx samples/make-samples.ts',
    options,
    from: res.from,
    to: res.to,
    okera: res.okera,
    postgres: res.postgres,
    files: res.files.map(({ bytes: _bytes, ...f }) => f),
  };
}

async function main(): Promise<void> {
  const here = dirname(fileURLToPath(import.meta.url));
  const outDir = join(here, 'logs');
  await rm(outDir, { recursive: true, force: true });
  const res = await generateAuditLogs({ outDir });
  await writeFile(join(here, 'expected.json'), JSON.stringify(expectedFigures(res), null, 2) + '\n');
  const bytes = res.files.reduce((n, f) => n + f.bytes, 0);
  const raw = res.files.reduce((n, f) => n + f.rawBytes, 0);
  console.log(`wrote ${res.files.length} files to ${outDir} (${(bytes / 1024).toFixed(0)} KiB on disk, ${(raw / 1024).toFixed(0)} KiB raw)`);
  if (res.okera) {
    const o = res.okera;
    console.log(`okera:    ${o.records} records = ${o.requests} requests + ${o.startRecords} START records; ${o.failed} failed`);
  }
  if (res.postgres) {
    const p = res.postgres;
    console.log(`postgres: ${p.records} records, ${p.statements} statements (${p.failed} failed), ${p.sessions} sessions`);
  }
  console.log(`figures in ${join(here, 'expected.json')}`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await main();
}
