import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { AuditReplayError, EXIT } from '../core/errors.js';
import { parseTime } from '../core/time.js';
import { describeSide, expandSide, readSide, type SideSpec } from '../compare/compare-inputs.js';
import { compareExecutions, noiseFloorOf, type CompareOptions } from '../compare/compare-engine.js';
import type { CompareReport } from '../compare/compare-model.js';
import { renderHtmlReport } from '../compare/html-report.js';
import { renderMarkdown } from '../compare/markdown-report.js';
import { writeTextObject } from '../sinks/storage/write-text.js';
import type { StorageOptions } from '../sinks/storage.js';
import { positiveInt } from './flag-values.js';
import { sourceSettings } from './source-flags.js';
import { addObservabilityFlags, Observability, type ObservabilityFlags } from './observability-flags.js';

export interface CompareFlags extends ObservabilityFlags {
  baseline?: string;
  baselineLogs?: string;
  candidate?: string;
  candidateLogs?: string;
  from?: string;
  to: string;
  format: string;
  layout: string;
  lookback: string;
  s3Endpoint?: string;
  gcsEndpoint?: string;
  report?: string;
  markdown?: string;
  json?: string;
  threshold: string;
  minSamples: string;
  confidence: string;
  noise?: string;
  failOnRegression?: string;
  failOnMismatch?: boolean;
  failOnErrors?: boolean;
  redactLiterals?: boolean;
}

const EXAMPLES = `
Examples:
  # the replay's timings against the primary's own, a report to open and a gate for CI
  $ auditreplay compare --baseline-logs s3://audit/pg --from 2026-11-20T09:00Z --to 2026-11-20T10:00Z \\
      --candidate results.parquet --report report.html --fail-on-regression 1.2

  # run against run, the noise floor from an A/A pair of baseline runs
  $ auditreplay compare --baseline run-a.jsonl --candidate run-b.jsonl --noise run-a2.jsonl --markdown summary.md

  # the secondary's own audit log, joined back by the replay's orig= tags
  $ auditreplay compare --baseline-logs ./primary-logs --candidate-logs ./secondary-logs --from 24h --json report.json
`;

/** Registers `auditreplay compare` on the program. */
export function registerCompare(program: Command, run: (action: (signal: AbortSignal) => Promise<number>) => Promise<void>): void {
  const command = program
    .command('compare')
    .description('Join two sides by original query id and report, per statement shape, whether the candidate is slower, with confidence intervals; gate CI on it.')
    .option('--baseline <sink>', "replay results of the baseline: any --out form of replay (.jsonl, .parquet, .arrow, postgres://...?table=&run=, s3://...), or the shards of one run as a glob ('out/results-*.jsonl') or a prefix ending in / ('s3://bucket/run/'), read as one")
    .option('--baseline-logs <source>', "the baseline's audit logs (the primary's original timings), read for --from/--to")
    .option('--candidate <sink>', 'replay results of the candidate (the same forms, globs and prefixes too)')
    .option('--candidate-logs <source>', "the candidate's audit logs (the secondary's own, joined by the replay's orig= tags)")
    .option('--from <time>', 'window start for log sides')
    .option('--to <time>', 'window end for log sides', 'now')
    .option('--format <name>', 'log format of log sides (auto: sniffed)', 'auto')
    .option('--layout <layout>', 'date layout of log sides', 'auto')
    .option('--lookback <duration>', 'read partitions this much before the window', '1h')
    .option('--s3-endpoint <url>', 'an S3-compatible store for inputs and reports')
    .option('--gcs-endpoint <url>', 'a GCS endpoint (an emulator) for inputs and reports')
    .option('--report <file>', 'the self-contained HTML report (a path or object URL)')
    .option('--markdown <file>', 'the Markdown summary for a pull request (default: printed on stdout)')
    .option('--json <file>', 'the whole report as JSON, for machines')
    .option('--threshold <ratio>', 'a fingerprint regressed when its ratio of medians is above this with confidence', '1.2')
    .option('--min-samples <n>', 'executions per side a fingerprint needs for a verdict', '10')
    .option('--confidence <p>', 'confidence of the intervals', '0.95')
    .option('--noise <sink|repeats>', "the noise floor: an A/A pair (another run of the baseline), or 'repeats' (the baseline's odd against even attempts); a glob or prefix reads several outputs as one")
    .option('--fail-on-regression <ratio>', `exit ${EXIT.gateFailed} when a fingerprint with enough samples has its whole interval above this ratio`)
    .option('--fail-on-mismatch', `exit ${EXIT.gateFailed} when result checksums or row counts differ`)
    .option('--fail-on-errors', `exit ${EXIT.gateFailed} when statements fail only on the candidate`)
    .option('--redact-literals', 'keep literal values out of every report: statements shown only as fingerprints')
    .addHelpText('after', EXAMPLES)
    .action((flags: CompareFlags) => run((signal) => runCompare(flags, signal)));
  addObservabilityFlags(command);
}

function positiveNumber(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new AuditReplayError('usage', `${flag} takes a number above 0, not '${text}'`);
  return n;
}

/** Runs compare with parsed flags; returns the exit code. */
export async function runCompare(flags: CompareFlags, signal?: AbortSignal): Promise<number> {
  const storage: StorageOptions = {
    ...(flags.s3Endpoint ? { s3Endpoint: flags.s3Endpoint } : {}),
    ...(flags.gcsEndpoint ? { gcsEndpoint: flags.gcsEndpoint } : {}),
  };
  const runId = randomUUID();
  const obs = await Observability.start(flags, { command: 'compare', runId, storage });
  const side = (name: 'baseline' | 'candidate', results: string | undefined, logs: string | undefined): SideSpec => {
    if ((results === undefined) === (logs === undefined)) throw new AuditReplayError('usage', `give one of --${name} (results) or --${name}-logs (audit logs)`);
    if (results !== undefined) return { kind: 'results', url: results, storage };
    if (flags.from === undefined) throw new AuditReplayError('usage', `--${name}-logs needs --from (and --to) for its window`);
    const now = Date.now();
    const settings = sourceSettings({
      source: logs!,
      format: flags.format,
      layout: flags.layout,
      lookback: flags.lookback,
      readConcurrency: '8',
      reorderWindow: '1h',
      reorderMax: '100000',
      ...(flags.s3Endpoint ? { s3Endpoint: flags.s3Endpoint } : {}),
      ...(flags.gcsEndpoint ? { gcsEndpoint: flags.gcsEndpoint } : {}),
    });
    return { kind: 'logs', settings, window: { from: parseTime(flags.from, now), to: parseTime(flags.to, now) }, ...(signal ? { signal } : {}) };
  };
  // Globs and prefixes are expanded before either side is read: one that matches nothing fails at once.
  const baseline = await expandSide(side('baseline', flags.baseline, flags.baselineLogs));
  const candidate = await expandSide(side('candidate', flags.candidate, flags.candidateLogs));
  const options: CompareOptions = {
    threshold: positiveNumber(flags.threshold, '--threshold'),
    minSamples: positiveInt(flags.minSamples, '--min-samples'),
    confidence: positiveNumber(flags.confidence, '--confidence'),
  };
  if (options.confidence! >= 1) throw new AuditReplayError('usage', `--confidence takes a probability below 1, not '${flags.confidence}'`);
  const gateRatio = flags.failOnRegression === undefined ? null : positiveNumber(flags.failOnRegression, '--fail-on-regression');
  const log = (line: string): void => obs.log.info(line);

  if (flags.noise !== undefined) {
    let a: SideSpec = baseline;
    let b: SideSpec;
    if (flags.noise === 'repeats') {
      if (baseline.kind !== 'results') throw new AuditReplayError('usage', "--noise repeats needs --baseline results with several attempts (replay --repeat)");
      a = { ...baseline, attempts: (n) => n % 2 === 1 };
      b = { ...baseline, attempts: (n) => n % 2 === 0 };
    } else {
      b = { kind: 'results', url: flags.noise, storage };
    }
    const aa = await compareExecutions(readSide(a), readSide(b), { baseline: describeSide(a), candidate: describeSide(b) }, options);
    options.noiseFloor = noiseFloorOf(aa);
    log(`compare: noise floor ${(options.noiseFloor * 100).toFixed(1)}% from ${flags.noise === 'repeats' ? 'the baseline\'s repeats' : `A/A against ${flags.noise}`}`);
  }

  const report = await compareExecutions(readSide(baseline), readSide(candidate), { baseline: describeSide(baseline), candidate: describeSide(candidate) }, options);
  applyGate(report, { ratio: gateRatio, minSamples: options.minSamples!, mismatch: flags.failOnMismatch === true, errors: flags.failOnErrors === true });
  if (flags.redactLiterals) redactLiterals(report);

  const markdown = renderMarkdown(report);
  if (flags.markdown) await writeTextObject(flags.markdown, markdown, storage);
  else process.stdout.write(markdown);
  if (flags.json) await writeTextObject(flags.json, JSON.stringify(report, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n', storage);
  if (flags.report) {
    await writeTextObject(flags.report, renderHtmlReport(report), storage);
    log(`compare: report written to ${flags.report}`);
  }
  const o = report.overall;
  await obs.summary(
    `compare: ${report.join.matched} executions matched, ${report.fingerprints.length} fingerprints: ${o.regressions} regressions, ${o.improvements} improvements` +
      (report.gate.failed ? `; GATE FAILED: ${report.gate.reasons.join('; ')}` : ''),
    {
      type: 'summary',
      command: 'compare',
      runId,
      gateFailed: report.gate.failed,
      reasons: report.gate.reasons,
      matched: report.join.matched,
      missing: report.join.missing,
      new: report.join.new,
      fingerprints: report.fingerprints.length,
      regressions: o.regressions,
      improvements: o.improvements,
      unchanged: o.unchanged,
      insufficient: o.insufficient,
      geomeanRatio: o.geomeanRatio,
      weightedGeomeanRatio: o.weightedGeomeanRatio,
      candidateOnlyErrors: report.candidateOnlyErrors.total,
      mismatches: report.mismatches.total,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
    },
  );
  return report.gate.failed ? EXIT.gateFailed : EXIT.ok;
}

/** Fails the gate as the --fail-on flags ask, with one reason each. */
export function applyGate(report: CompareReport, gate: { ratio: number | null; minSamples: number; mismatch: boolean; errors: boolean }): void {
  const reasons: string[] = [];
  if (gate.ratio !== null) {
    for (const f of report.fingerprints) {
      if (f.ci === null || f.baseline.count < gate.minSamples || f.candidate.count < gate.minSamples) continue;
      if (f.ci[0] > gate.ratio) reasons.push(`fingerprint ${f.fingerprintId} is ${f.ratio!.toFixed(2)}x slower (95% interval ${f.ci[0].toFixed(2)}–${f.ci[1].toFixed(2)}, above ${gate.ratio})`);
    }
  }
  if (gate.mismatch && report.mismatches.total > 0) reasons.push(`${report.mismatches.total} executions returned other rows than on the baseline`);
  if (gate.errors && report.candidateOnlyErrors.total > 0) reasons.push(`${report.candidateOnlyErrors.total} executions failed only on the candidate`);
  report.gate = { failed: reasons.length > 0, reasons };
}

/** Statements only as fingerprints (literals replaced by ?): no example text anywhere in the reports. */
function redactLiterals(report: CompareReport): void {
  for (const f of report.fingerprints) f.examples = [];
}
