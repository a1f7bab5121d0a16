/**
 * What compare works on and what it produces. An Execution is one run of a statement on
 * one side (a ReplayResult, or an AuditEvent of the primary's or the secondary's own log);
 * the CompareReport is the verdict, rendered as Markdown, JSON and HTML.
 */

/** One execution of a statement on one side. */
export interface Execution {
  /** The primary's id of the statement (a tagged secondary log statement gives its `orig=`). */
  originalId: string;
  fingerprintId: string;
  /** The statement's fingerprint text, when the side has it (audit logs); results have none. */
  fingerprint: string | null;
  /** One example statement, when the side has it. */
  statement: string | null;
  durationMs: number | null;
  ok: boolean | null;
  sqlState: string | null;
  rows: number | bigint | null;
  checksum: string | null;
  /** Repeat number (1 for logs). */
  attempt: number;
}

export type Side = 'baseline' | 'candidate';

/** Latency figures of one side of one fingerprint, in ms. */
export interface SideStats {
  count: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  mean: number | null;
  totalMs: number;
  errors: number;
}

export type Verdict = 'regression' | 'improvement' | 'unchanged' | 'insufficient';

export interface FingerprintReport {
  fingerprintId: string;
  fingerprint: string | null;
  /** Up to 3 example statements (literals redacted with --redact-literals). */
  examples: string[];
  baseline: SideStats;
  candidate: SideStats;
  /** candidate p50 / baseline p50. */
  ratio: number | null;
  /** 95% confidence interval of the ratio of medians. */
  ci: [number, number] | null;
  verdict: Verdict;
  /** Errors on the candidate where the baseline succeeded, by SQLSTATE. */
  candidateOnlyErrors: Record<string, number>;
  /** Executions joined whose row count or checksum differ. */
  mismatches: number;
}

export interface MismatchExample {
  originalId: string;
  fingerprintId: string;
  what: 'rows' | 'checksum';
  baseline: string | null;
  candidate: string | null;
}

export interface ErrorExample {
  originalId: string;
  fingerprintId: string;
  sqlState: string | null;
}

export interface CompareReport {
  generatedAt: string;
  baseline: { source: string; executions: number };
  candidate: { source: string; executions: number };
  settings: { threshold: number; minSamples: number; noiseFloor: number; confidence: number };
  join: { matched: number; missing: number; new: number; missingExamples: string[]; newExamples: string[] };
  overall: {
    /** Geometric mean of the per-fingerprint ratios (those with data on both sides). */
    geomeanRatio: number | null;
    /** The same weighted by each fingerprint's total baseline time. */
    weightedGeomeanRatio: number | null;
    regressions: number;
    improvements: number;
    unchanged: number;
    insufficient: number;
  };
  fingerprints: FingerprintReport[];
  candidateOnlyErrors: { total: number; bySqlState: Record<string, number>; examples: ErrorExample[] };
  mismatches: { total: number; examples: MismatchExample[] };
  /** Paired points for the scatter plot (baseline ms, candidate ms), a bounded sample. */
  scatter: [number, number][];
  /** Latency distribution per side: bucket upper bounds (ms) and counts. */
  distribution: { bounds: number[]; baseline: number[]; candidate: number[] };
  gate: { failed: boolean; reasons: string[] };
}
