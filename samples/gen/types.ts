/** What the generators report about the files they wrote. */

export type SampleFormat = 'okera' | 'pg-json';

export interface GeneratedFile {
  /** Path relative to the output directory, with `/` separators. */
  path: string;
  format: SampleFormat;
  /** The partition day the path names (`YYYY-MM-DD`). */
  day: string;
  gzip: boolean;
  /** Lines (= JSON records) in the file. */
  records: number;
  /** Statements completed in this file: Okera END records, PostgreSQL statements. */
  statements: number;
  rawBytes: number;
  bytes: number;
  /** PostgreSQL logging style of the file: A = duration only, B = log_statement + duration. */
  style?: 'A' | 'B';
}

/** Adds `n` to `counts[key]`. */
export function bump(counts: Record<string, number>, key: string, n = 1): void {
  counts[key] = (counts[key] ?? 0) + n;
}

/** Copies a count map with its keys sorted, so summaries print the same every time. */
export function sortedCounts(counts: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of Object.keys(counts).sort()) out[key] = counts[key]!;
  return out;
}
