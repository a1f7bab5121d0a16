import type { CompareReport, FingerprintReport, SideStats, Verdict } from '../../src/compare/compare-model.js';

/** Text an attacker could get into an audit log; the HTML report must show it as text. */
export const SCRIPT_INJECTION = '</script><script>alert(1)</script>';
export const ATTRIBUTE_INJECTION = '"onmouseover="alert(2)';
export const IMG_INJECTION = '<img src=x onerror=alert(3)>';

/** The id of the fingerprint whose text carries SCRIPT_INJECTION. */
export const MALICIOUS_FINGERPRINT_ID = 'f00dbad0c0ffee01';

function side(count: number, p50: number | null, errors = 0): SideStats {
  return {
    count,
    p50,
    p95: p50 === null ? null : p50 * 2.5,
    p99: p50 === null ? null : p50 * 4,
    mean: p50 === null ? null : p50 * 1.3,
    totalMs: p50 === null ? 0 : count * p50 * 1.3,
    errors,
  };
}

function fp(
  id: string,
  verdict: Verdict,
  base: [number, number | null],
  cand: [number, number | null],
  over: Partial<FingerprintReport> = {},
): FingerprintReport {
  const ratio = base[1] !== null && cand[1] !== null ? cand[1] / base[1] : null;
  return {
    fingerprintId: id,
    fingerprint: `select * from t_${id} where a = ?`,
    examples: [`select * from t_${id} where a = 1`],
    baseline: side(base[0], base[1]),
    candidate: side(cand[0], cand[1]),
    ratio,
    ci: ratio === null ? null : [ratio * 0.85, ratio * 1.18],
    verdict,
    candidateOnlyErrors: {},
    mismatches: 0,
    ...over,
  };
}

/**
 * A CompareReport with fingerprints of every verdict, scatter points, a distribution, errors,
 * mismatches, and injection attempts in fingerprints, examples, ids, SQLSTATEs and sources.
 */
export function sampleReport(): CompareReport {
  const fingerprints: FingerprintReport[] = [
    fp('a1a1a1a1a1a1a1a1', 'regression', [120, 12.5], [118, 31.2], { candidateOnlyErrors: { '57014': 3 } }),
    fp('a2a2a2a2a2a2a2a2', 'regression', [40, 250], [40, 410], { mismatches: 2 }),
    fp(MALICIOUS_FINGERPRINT_ID, 'regression', [60, 3.2], [60, 5.1], {
      fingerprint: `select * from notes where body = '${SCRIPT_INJECTION}' and tag = '${ATTRIBUTE_INJECTION}'`,
      examples: [
        `select * from notes where body = '${SCRIPT_INJECTION}' and tag = '${ATTRIBUTE_INJECTION}'`,
        `select * from notes where body = '${IMG_INJECTION}'`,
        "select * from notes where body = 'it''s & <fine>'",
      ],
      candidateOnlyErrors: { [`42P01${SCRIPT_INJECTION}`]: 1 },
    }),
    fp('b1b1b1b1b1b1b1b1', 'improvement', [300, 1800], [300, 640]),
    fp('b2b2b2b2b2b2b2b2', 'improvement', [25, 0.8], [25, 0.5]),
    fp('c1c1c1c1c1c1c1c1', 'unchanged', [1000, 0.42], [1003, 0.43]),
    fp('c2c2c2c2c2c2c2c2', 'unchanged', [80, 45], [80, 44]),
    fp('c3c3c3c3c3c3c3c3', 'unchanged', [15, 7.5], [15, 7.9]),
    fp('d1d1d1d1d1d1d1d1', 'insufficient', [2, 95000], [1, 99000]),
    fp('d2d2d2d2d2d2d2d2', 'insufficient', [3, 5], [0, null], { fingerprint: null }),
  ];
  const scatter: [number, number][] = [];
  // Deterministic points spread over four decades, most near y = x, some clearly off it.
  for (let i = 0; i < 200; i++) {
    const b = 0.3 * 10 ** ((i % 50) / 12);
    const k = i % 7 === 0 ? 2.4 : i % 11 === 0 ? 0.4 : 0.9 + ((i * 37) % 20) / 100;
    scatter.push([b, b * k]);
  }
  const bounds = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, Infinity];
  return {
    generatedAt: '2026-11-21T10:00:00.000Z',
    baseline: { source: 's3://audit-logs/primary/2026-11-17/', executions: 1645 },
    candidate: { source: `pglite://.demo/secondary?note=${IMG_INJECTION}`, executions: 1642 },
    settings: { threshold: 1.2, minSamples: 10, noiseFloor: 1, confidence: 0.95 },
    join: {
      matched: 1630,
      missing: 15,
      new: 12,
      missingExamples: ['r-101', `r-102${ATTRIBUTE_INJECTION}`],
      newExamples: ['n-7'],
    },
    overall: {
      geomeanRatio: 1.08,
      weightedGeomeanRatio: 0.93,
      regressions: 3,
      improvements: 2,
      unchanged: 3,
      insufficient: 2,
    },
    fingerprints,
    candidateOnlyErrors: {
      total: 4,
      bySqlState: { '57014': 3, [`42P01${SCRIPT_INJECTION}`]: 1 },
      examples: [
        { originalId: 'r-900', fingerprintId: 'a1a1a1a1a1a1a1a1', sqlState: '57014' },
        { originalId: `r-901${ATTRIBUTE_INJECTION}`, fingerprintId: MALICIOUS_FINGERPRINT_ID, sqlState: `42P01${SCRIPT_INJECTION}` },
      ],
    },
    mismatches: {
      total: 2,
      examples: [
        { originalId: 'r-500', fingerprintId: 'a2a2a2a2a2a2a2a2', what: 'rows', baseline: '10', candidate: '9' },
        { originalId: 'r-501', fingerprintId: 'a2a2a2a2a2a2a2a2', what: 'checksum', baseline: 'abc123', candidate: SCRIPT_INJECTION },
      ],
    },
    scatter,
    distribution: {
      bounds,
      baseline: [5, 40, 120, 300, 420, 310, 200, 120, 60, 30, 20, 10, 5, 3, 1, 1],
      candidate: [3, 30, 100, 260, 400, 330, 230, 150, 70, 35, 15, 8, 5, 3, 2, 1],
    },
    gate: { failed: true, reasons: ['3 regressions (threshold ×1.2)', `candidate-only errors: 4 (${SCRIPT_INJECTION})`] },
  };
}

/** A report with nothing in it: no fingerprints, points, buckets, errors or mismatches. */
export function emptyReport(): CompareReport {
  return {
    generatedAt: '2026-11-21T10:00:00.000Z',
    baseline: { source: 'a.jsonl', executions: 0 },
    candidate: { source: 'b.jsonl', executions: 0 },
    settings: { threshold: 1.2, minSamples: 10, noiseFloor: 1, confidence: 0.95 },
    join: { matched: 0, missing: 0, new: 0, missingExamples: [], newExamples: [] },
    overall: { geomeanRatio: null, weightedGeomeanRatio: null, regressions: 0, improvements: 0, unchanged: 0, insufficient: 0 },
    fingerprints: [],
    candidateOnlyErrors: { total: 0, bySqlState: {}, examples: [] },
    mismatches: { total: 0, examples: [] },
    scatter: [],
    distribution: { bounds: [], baseline: [], candidate: [] },
    gate: { failed: false, reasons: [] },
  };
}
