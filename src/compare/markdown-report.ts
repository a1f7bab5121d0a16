import { formatMs, formatRatio } from './format-values.js';
import type { CompareReport, FingerprintReport } from './compare-model.js';

/** A ratio as `1.23×`, with its interval when there is one. */
function ratioWithCi(ratio: number | null, ci: [number, number] | null = null): string {
  return `${formatRatio(ratio)}${ratio !== null && ci ? ` (${ci[0].toFixed(2)}–${ci[1].toFixed(2)})` : ''}`;
}

/** Text for a Markdown table cell: pipes escaped, newlines folded, cut to `max` characters. */
function cell(text: string, max = 80): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return (one.length > max ? one.slice(0, max - 1) + '…' : one).replace(/\|/g, '\\|').replace(/`/g, "'");
}

const VERDICT_ICON: Record<FingerprintReport['verdict'], string> = { regression: '🔴', improvement: '🟢', unchanged: '⚪', insufficient: '⚫' };

/**
 * The report as Markdown to paste into a pull request: the verdict first, then the top
 * regressions (default 10), improvements, candidate-only errors and result mismatches.
 */
export function renderMarkdown(report: CompareReport, top = 10): string {
  const o = report.overall;
  const lines: string[] = [];
  lines.push(`## auditreplay compare: ${report.gate.failed ? '❌ gate failed' : o.regressions > 0 ? '⚠️ regressions' : '✅ no regression'}`);
  lines.push('');
  lines.push(`Baseline \`${report.baseline.source}\` (${report.baseline.executions.toLocaleString('en-US')} executions) against candidate \`${report.candidate.source}\` (${report.candidate.executions.toLocaleString('en-US')}).`);
  lines.push('');
  lines.push(`| | |`);
  lines.push(`| --- | --- |`);
  lines.push(`| geometric mean ratio | ${ratioWithCi(o.geomeanRatio)} (weighted by baseline time: ${ratioWithCi(o.weightedGeomeanRatio)}) |`);
  lines.push(`| fingerprints | ${o.regressions} regressed, ${o.improvements} improved, ${o.unchanged} unchanged, ${o.insufficient} with too few samples |`);
  lines.push(`| executions joined | ${report.join.matched.toLocaleString('en-US')} (${report.join.missing} only in the baseline, ${report.join.new} only in the candidate) |`);
  lines.push(`| errors only on the candidate | ${report.candidateOnlyErrors.total} |`);
  lines.push(`| result mismatches | ${report.mismatches.total} |`);
  lines.push(`| threshold | ${report.settings.threshold}x at ${Math.round(report.settings.confidence * 100)}% confidence, ≥ ${report.settings.minSamples} samples, noise floor ${(report.settings.noiseFloor * 100).toFixed(1)}% |`);
  if (report.gate.failed) {
    lines.push('');
    for (const r of report.gate.reasons) lines.push(`- ❌ ${r}`);
  }
  const table = (title: string, rows: FingerprintReport[]): void => {
    if (rows.length === 0) return;
    lines.push('');
    lines.push(`### ${title}`);
    lines.push('');
    lines.push('| | fingerprint | baseline p50 | candidate p50 | ratio (95% CI) | samples | statement |');
    lines.push('| --- | --- | ---: | ---: | ---: | ---: | --- |');
    for (const f of rows.slice(0, top)) {
      lines.push(
        `| ${VERDICT_ICON[f.verdict]} | \`${f.fingerprintId}\` | ${formatMs(f.baseline.p50)} | ${formatMs(f.candidate.p50)} | ${ratioWithCi(f.ratio, f.ci)} | ${f.baseline.count}/${f.candidate.count} | ${f.fingerprint ? `\`${cell(f.fingerprint)}\`` : '–'} |`,
      );
    }
    if (rows.length > top) lines.push(`\n… and ${rows.length - top} more (see the JSON or HTML report).`);
  };
  table('Top regressions', report.fingerprints.filter((f) => f.verdict === 'regression'));
  table('Improvements', report.fingerprints.filter((f) => f.verdict === 'improvement'));
  if (report.candidateOnlyErrors.total > 0) {
    lines.push('');
    lines.push('### Errors only on the candidate');
    lines.push('');
    lines.push(Object.entries(report.candidateOnlyErrors.bySqlState).map(([s, n]) => `\`${s}\` × ${n}`).join(', '));
    for (const e of report.candidateOnlyErrors.examples.slice(0, 5)) lines.push(`- \`${cell(e.originalId, 60)}\` (fingerprint \`${e.fingerprintId}\`): ${e.sqlState ?? 'no SQLSTATE'}`);
  }
  if (report.mismatches.total > 0) {
    lines.push('');
    lines.push('### Result mismatches');
    lines.push('');
    for (const m of report.mismatches.examples.slice(0, 5)) {
      lines.push(`- \`${cell(m.originalId, 60)}\` (fingerprint \`${m.fingerprintId}\`): ${m.what} ${cell(String(m.baseline), 40)} → ${cell(String(m.candidate), 40)}`);
    }
  }
  lines.push('');
  return lines.join('\n');
}
