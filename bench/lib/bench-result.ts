/**
 * The machine-readable side of every benchmark: each one, besides its own tables, reports
 * its headline figures as rows that bench/run-all.ts collects into bench/RESULTS.md. A row
 * is appended as one JSON line to the file named by BENCH_RESULTS_FILE; without that
 * variable (a bench run on its own) nothing is written.
 */
import { appendFileSync } from 'node:fs';

/** The environment variable naming the file rows are appended to. */
export const RESULTS_FILE_ENV = 'BENCH_RESULTS_FILE';

/** One workload's headline figures. */
export interface BenchResult {
  /** What was measured, with its size, e.g. `okera, 200,000 requests (gzip) -> .jsonl` (run-all puts the bench's name in front). */
  workload: string;
  /** The peer tool it is compared with, or the baseline used (`jsonl write`, `none`). */
  peer: string;
  /** The unit of `rate` and `peerRate`: `events/s`, `qps`, `rows/s`, `statements/s`. */
  unit: string;
  /** Ours, in `unit`; null when it was not measured (the note says why). */
  rate: number | null;
  /** Our process's peak RSS; null when not measured. */
  peakRssBytes: number | null;
  /** Input (or output, for sinks) megabytes (MiB) per second of ours. */
  mbPerSec?: number | null;
  /** The peer's rate on the same work, in `unit`. */
  peerRate?: number | null;
  /** The peer's peak RSS, when known. */
  peerPeakRssBytes?: number | null;
  /** Our rate over the peer's: higher is better for us, 1 is a tie. */
  ratio?: number | null;
  /** Anything the figures need to be read right: a missing peer, a failure, the baseline. */
  note?: string;
}

/**
 * Appends the row to `$BENCH_RESULTS_FILE` as one JSON line when the variable is set
 * (bench/run-all.ts sets it); does nothing otherwise. Non-finite numbers become null, so
 * a division by a zero time never writes invalid JSON.
 */
export function reportResult(row: BenchResult): void {
  const file = process.env[RESULTS_FILE_ENV];
  if (file === undefined || file === '') return;
  const clean = Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'number' && !Number.isFinite(v) ? null : v]));
  appendFileSync(file, JSON.stringify(clean) + '\n');
}

/** Reads the rows a file holds (one JSON object a line); lines that do not parse are skipped. */
export function parseResults(text: string): BenchResult[] {
  const rows: BenchResult[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const row = JSON.parse(line) as BenchResult;
      if (typeof row.workload === 'string') rows.push(row);
    } catch {
      // A line cut short by a crash mid-write: the runner reports the bench as broken anyway.
    }
  }
  return rows;
}
