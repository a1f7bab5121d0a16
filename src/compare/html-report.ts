/**
 * The HTML rendering of a CompareReport: one self-contained document (inline CSS, one inline
 * script, server-side SVG charts) that can be mailed, archived as a CI artifact or opened from
 * disk with no network. Everything taken from the report is logged text of unknown origin, so
 * every string goes through `escapeHtml` and the CSP forbids loading anything at all.
 */
import { createHash } from 'node:crypto';
import type { CompareReport, FingerprintReport, SideStats, Verdict } from './compare-model.js';
import { formatMs, formatRatio } from './format-values.js';

/** Escapes the five characters that matter in HTML text and quoted attributes. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const esc = escapeHtml;
export { formatMs, formatRatio };

const count = (n: number): string => n.toLocaleString('en-US');

/** Axis labels: the shortest form of a round value (`1 ms`, `10 s`, `500 µs`). */
function tickMs(ms: number): string {
  const trim = (x: number): string => String(Number(x.toPrecision(3)));
  if (ms >= 60_000) return `${trim(ms / 60_000)} min`;
  if (ms >= 1000) return `${trim(ms / 1000)} s`;
  if (ms >= 1) return `${trim(ms)} ms`;
  return `${trim(ms * 1000)} µs`;
}

const tickRatio = (r: number): string => `${String(Number(r.toPrecision(3)))}×`;

/**
 * The threshold as a ratio. Settings may carry it as a ratio (1.2) or as a fraction of change
 * (0.2); both mean "20% slower", and the charts need the ratio.
 */
function thresholdRatio(threshold: number): number | null {
  if (!Number.isFinite(threshold) || threshold <= 0) return null;
  return threshold > 1 ? threshold : 1 + threshold;
}

const VERDICT_RANK: Record<Verdict, number> = { regression: 0, improvement: 1, unchanged: 2, insufficient: 3 };
const VERDICT_COLOUR: Record<Verdict, string> = { regression: '#c62828', improvement: '#2e7d32', unchanged: '#607d8b', insufficient: '#a86b00' };
const BASELINE_COLOUR = '#1f6fb4';
const CANDIDATE_COLOUR = '#e8710a';

// ---------------------------------------------------------------------------------------------
// Charts: plain SVG strings. A viewBox and width:100% make them scale with the page.

interface LogScale {
  lo: number;
  hi: number;
  map(v: number): number;
  ticks: number[];
}

/** A log scale over [min, max] widened to whole decades, with ticks at 1-2-5 (or finer) steps. */
function logScale(min: number, max: number, from: number, to: number): LogScale {
  let lo = 10 ** Math.floor(Math.log10(min));
  let hi = 10 ** Math.ceil(Math.log10(max));
  if (!(hi > lo)) hi = lo * 10;
  const decades = Math.round(Math.log10(hi / lo));
  // Narrow ranges get more ticks per decade so the axis still says something.
  const mults = decades <= 1 ? [1, 1.5, 2, 3, 5, 7] : decades <= 3 ? [1, 2, 5] : [1];
  const ticks: number[] = [];
  for (let d = Math.log10(lo); d <= Math.log10(hi) + 1e-9; d++) {
    for (const m of mults) {
      const t = Number((m * 10 ** d).toPrecision(6));
      if (t >= lo * (1 - 1e-9) && t <= hi * (1 + 1e-9)) ticks.push(t);
    }
  }
  const llo = Math.log10(lo);
  const span = Math.log10(hi) - llo;
  lo = Number(lo.toPrecision(6));
  hi = Number(hi.toPrecision(6));
  return { lo, hi, ticks, map: (v) => from + ((Math.log10(Math.min(Math.max(v, lo), hi)) - llo) / span) * (to - from) };
}

const num = (v: number): string => String(Math.round(v * 10) / 10);

function svgOpen(id: string, width: number, height: number, label: string): string {
  return `<svg id="${id}" class="chart" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(label)}" preserveAspectRatio="xMidYMid meet">`;
}

function noData(id: string, width: number, height: number, label: string): string {
  return (
    svgOpen(id, width, height, label) +
    `<rect x="0.5" y="0.5" width="${width - 1}" height="${height - 1}" class="frame"/>` +
    `<text x="${width / 2}" y="${height / 2}" text-anchor="middle" class="nodata">no data</text></svg>`
  );
}

/** Baseline ms (x) against candidate ms (y), log-log, same scale on both axes so y = x is the diagonal. */
function scatterChart(report: CompareReport): string {
  const W = 560;
  const H = 440;
  const m = { l: 64, r: 16, t: 16, b: 52 };
  const label = 'Latency scatter: baseline ms against candidate ms, log-log';
  const points = report.scatter.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && x >= 0 && y >= 0);
  if (points.length === 0) return noData('chart-scatter', W, H, label);
  const positive = points.flatMap(([x, y]) => [x, y]).filter((v) => v > 0);
  const min = positive.length ? Math.min(...positive) : 0.01;
  const max = positive.length ? Math.max(...positive) : 1;
  const sx = logScale(min, max, m.l, W - m.r);
  const sy = logScale(min, max, H - m.b, m.t);
  const t = thresholdRatio(report.settings.threshold);
  const out: string[] = [svgOpen('chart-scatter', W, H, label)];
  out.push(`<rect x="${m.l}" y="${m.t}" width="${W - m.l - m.r}" height="${H - m.t - m.b}" class="plot"/>`);
  for (const tick of sx.ticks) {
    const x = num(sx.map(tick));
    const y = num(sy.map(tick));
    out.push(`<line x1="${x}" y1="${m.t}" x2="${x}" y2="${H - m.b}" class="grid"/>`);
    out.push(`<line x1="${m.l}" y1="${y}" x2="${W - m.r}" y2="${y}" class="grid"/>`);
    out.push(`<text x="${x}" y="${H - m.b + 16}" text-anchor="middle" class="tick">${esc(tickMs(tick))}</text>`);
    out.push(`<text x="${m.l - 6}" y="${y}" dy="0.32em" text-anchor="end" class="tick">${esc(tickMs(tick))}</text>`);
  }
  const diag = (k: number, cls: string): string => {
    // The line y = k·x, clipped to the plot square (both axes share one domain).
    const x1 = Math.max(sx.lo, sx.lo / k);
    const x2 = Math.min(sx.hi, sx.hi / k);
    return `<line x1="${num(sx.map(x1))}" y1="${num(sy.map(x1 * k))}" x2="${num(sx.map(x2))}" y2="${num(sy.map(x2 * k))}" class="${cls}"/>`;
  };
  out.push(diag(1, 'identity'));
  if (t) {
    out.push(diag(t, 'threshold'));
    out.push(diag(1 / t, 'threshold'));
  }
  for (const [bx, cx] of points) {
    const ratio = bx > 0 ? cx / bx : null;
    const cls = t && ratio !== null && ratio > t ? 'pt slower' : t && ratio !== null && ratio < 1 / t ? 'pt faster' : 'pt';
    out.push(
      `<circle cx="${num(sx.map(bx))}" cy="${num(sy.map(cx))}" r="3" class="${cls}"><title>baseline ${esc(formatMs(bx))}, candidate ${esc(formatMs(cx))}</title></circle>`,
    );
  }
  out.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 12}" text-anchor="middle" class="axis">baseline (ms, log)</text>`);
  out.push(`<text transform="translate(16 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle" class="axis">candidate (ms, log)</text>`);
  // Top left: the corner a plot of mostly-similar latencies leaves empty.
  out.push(`<text x="${m.l + 8}" y="${m.t + 16}" class="legend">solid: y = x${t ? ` · dashed: ×${esc(tickRatio(t))} and ÷${esc(tickRatio(t))}` : ''}</text>`);
  out.push('</svg>');
  return out.join('');
}

/** Fingerprints by how far their ratio is from 1 (either way), at most `limit`. */
function topByLogRatio(fingerprints: FingerprintReport[], limit: number): FingerprintReport[] {
  return fingerprints
    .filter((f) => f.ratio !== null && Number.isFinite(f.ratio) && f.ratio > 0)
    .sort((a, b) => Math.abs(Math.log(b.ratio!)) - Math.abs(Math.log(a.ratio!)))
    .slice(0, limit);
}

/** One bar per fingerprint from 1.0 to its ratio, with the CI as a whisker; log x axis. */
function ratioChart(report: CompareReport): string {
  const W = 960;
  const rows = topByLogRatio(report.fingerprints, 30);
  const rowH = 20;
  const m = { l: 150, r: 24, t: 28, b: 44 };
  const H = m.t + m.b + Math.max(rows.length, 1) * rowH;
  const label = 'Ratio candidate/baseline p50 per fingerprint, with confidence intervals';
  if (rows.length === 0) return noData('chart-ratios', W, 160, label);
  const t = thresholdRatio(report.settings.threshold);
  const values = [1, ...rows.flatMap((f) => [f.ratio!, ...(f.ci ?? [])])].filter((v) => Number.isFinite(v) && v > 0);
  if (t) values.push(t, 1 / t);
  const sx = logScale(Math.min(...values), Math.max(...values), m.l, W - m.r);
  const out: string[] = [svgOpen('chart-ratios', W, H, label)];
  out.push(`<rect x="${m.l}" y="${m.t}" width="${W - m.l - m.r}" height="${H - m.t - m.b}" class="plot"/>`);
  for (const tick of sx.ticks) {
    const x = num(sx.map(tick));
    out.push(`<line x1="${x}" y1="${m.t}" x2="${x}" y2="${H - m.b}" class="grid"/>`);
    out.push(`<text x="${x}" y="${H - m.b + 16}" text-anchor="middle" class="tick">${esc(tickRatio(tick))}</text>`);
  }
  // Labels point away from each other: a threshold of 1.1 sits close to 1.0.
  const vline = (v: number, cls: string, text: string, anchor: 'start' | 'end'): void => {
    const x = sx.map(v);
    out.push(`<line x1="${num(x)}" y1="${m.t - 6}" x2="${num(x)}" y2="${H - m.b}" class="${cls}"/>`);
    out.push(`<text x="${num(anchor === 'start' ? x + 3 : x - 3)}" y="${m.t - 8}" text-anchor="${anchor}" class="legend">${esc(text)}</text>`);
  };
  vline(1, 'identity', '1.0', 'end');
  if (t) {
    vline(t, 'threshold', `threshold ${tickRatio(t)}`, 'start');
    out.push(`<line x1="${num(sx.map(1 / t))}" y1="${m.t}" x2="${num(sx.map(1 / t))}" y2="${H - m.b}" class="threshold"/>`);
  }
  const x1 = sx.map(1);
  rows.forEach((f, i) => {
    const yMid = m.t + i * rowH + rowH / 2;
    const xr = sx.map(f.ratio!);
    const colour = VERDICT_COLOUR[f.verdict];
    const tip = `${f.fingerprintId}: ${formatRatio(f.ratio)}${f.ci ? ` (CI ${formatRatio(f.ci[0])} – ${formatRatio(f.ci[1])})` : ''}, ${f.verdict}`;
    out.push(`<g class="bar"><title>${esc(tip)}</title>`);
    out.push(`<text x="${m.l - 6}" y="${num(yMid)}" dy="0.32em" text-anchor="end" class="rowlabel">${esc(shorten(f.fingerprintId, 20))}</text>`);
    out.push(`<rect x="${num(Math.min(x1, xr))}" y="${num(yMid - 6)}" width="${num(Math.max(Math.abs(xr - x1), 1))}" height="12" fill="${colour}" fill-opacity="0.75"/>`);
    if (f.ci && f.ci.every((v) => Number.isFinite(v) && v > 0)) {
      const a = num(sx.map(f.ci[0]));
      const b = num(sx.map(f.ci[1]));
      out.push(`<line x1="${a}" y1="${num(yMid)}" x2="${b}" y2="${num(yMid)}" class="whisker"/>`);
      out.push(`<line x1="${a}" y1="${num(yMid - 5)}" x2="${a}" y2="${num(yMid + 5)}" class="whisker"/>`);
      out.push(`<line x1="${b}" y1="${num(yMid - 5)}" x2="${b}" y2="${num(yMid + 5)}" class="whisker"/>`);
    }
    out.push('</g>');
  });
  out.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 8}" text-anchor="middle" class="axis">candidate p50 / baseline p50 (log)</text>`);
  out.push('</svg>');
  return out.join('');
}

/**
 * Each side's share of executions per latency bucket. Buckets are log-spaced, so equal-width
 * columns are already a log axis; shares rather than counts keep sides of different sizes comparable.
 */
function distributionChart(report: CompareReport): string {
  const W = 720;
  const H = 300;
  const m = { l: 56, r: 16, t: 28, b: 56 };
  const label = 'Latency distribution of baseline and candidate';
  const { bounds, baseline, candidate } = report.distribution;
  const n = Math.max(baseline.length, candidate.length);
  const totalB = baseline.reduce((a, b) => a + b, 0);
  const totalC = candidate.reduce((a, b) => a + b, 0);
  if (n === 0 || totalB + totalC === 0) return noData('chart-distribution', W, H, label);
  const shareB = Array.from({ length: n }, (_, i) => (totalB ? (baseline[i] ?? 0) / totalB : 0));
  const shareC = Array.from({ length: n }, (_, i) => (totalC ? (candidate[i] ?? 0) / totalC : 0));
  const maxShare = Math.max(...shareB, ...shareC);
  const step = maxShare > 0.5 ? 0.2 : maxShare > 0.2 ? 0.1 : maxShare > 0.1 ? 0.05 : maxShare > 0.04 ? 0.02 : 0.01;
  const top = Math.max(step, Math.ceil(maxShare / step) * step);
  const plotH = H - m.t - m.b;
  const y = (share: number): number => H - m.b - (share / top) * plotH;
  const colW = (W - m.l - m.r) / n;
  const lastFinite = [...bounds].reverse().find((b) => Number.isFinite(b));
  const bucketLabel = (i: number): string => {
    const b = bounds[i];
    if (b !== undefined && Number.isFinite(b)) return `≤ ${tickMs(b)}`;
    return lastFinite !== undefined ? `> ${tickMs(lastFinite)}` : `bucket ${i + 1}`;
  };
  const out: string[] = [svgOpen('chart-distribution', W, H, label)];
  out.push(`<rect x="${m.l}" y="${m.t}" width="${W - m.l - m.r}" height="${plotH}" class="plot"/>`);
  for (let s = 0; s <= top + 1e-9; s += step) {
    const yy = num(y(s));
    out.push(`<line x1="${m.l}" y1="${yy}" x2="${W - m.r}" y2="${yy}" class="grid"/>`);
    out.push(`<text x="${m.l - 6}" y="${yy}" dy="0.32em" text-anchor="end" class="tick">${Math.round(s * 100)}%</text>`);
  }
  const labelEvery = Math.ceil(n / 12);
  for (let i = 0; i < n; i++) {
    const x0 = m.l + i * colW;
    const bw = Math.max((colW - 4) / 2, 0.5);
    const bar = (share: number, x: number, colour: string, side: string, raw: number | undefined): string =>
      `<rect x="${num(x)}" y="${num(y(share))}" width="${num(bw)}" height="${num(H - m.b - y(share))}" fill="${colour}"><title>${esc(`${side} ${bucketLabel(i)}: ${count(raw ?? 0)} (${(share * 100).toFixed(1)}%)`)}</title></rect>`;
    out.push(bar(shareB[i]!, x0 + 2, BASELINE_COLOUR, 'baseline', baseline[i]));
    out.push(bar(shareC[i]!, x0 + 2 + bw, CANDIDATE_COLOUR, 'candidate', candidate[i]));
    if (i % labelEvery === 0) {
      out.push(`<text x="${num(x0 + colW / 2)}" y="${H - m.b + 16}" text-anchor="middle" class="tick">${esc(bucketLabel(i))}</text>`);
    }
  }
  out.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 12}" text-anchor="middle" class="axis">latency bucket (upper bound, log-spaced)</text>`);
  out.push(`<rect x="${m.l + 8}" y="8" width="10" height="10" fill="${BASELINE_COLOUR}"/><text x="${m.l + 22}" y="17" class="legend">baseline (${count(totalB)})</text>`);
  out.push(`<rect x="${m.l + 168}" y="8" width="10" height="10" fill="${CANDIDATE_COLOUR}"/><text x="${m.l + 182}" y="17" class="legend">candidate (${count(totalC)})</text>`);
  out.push('</svg>');
  return out.join('');
}

function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

// ---------------------------------------------------------------------------------------------
// The fingerprint table. Each cell carries its sort key in data-v, so the script sorts from the
// DOM and no report data is ever embedded in a script.

interface Column {
  /** Two short lines keep the header narrow; the table is wide enough already. */
  label: [string, string];
  title: string;
  numeric: boolean;
}

const COLUMNS: Column[] = [
  { label: ['Fingerprint', ''], title: 'fingerprint id', numeric: false },
  { label: ['Verdict', ''], title: 'verdict', numeric: true },
  { label: ['n', 'base'], title: 'executions on the baseline', numeric: true },
  { label: ['n', 'cand'], title: 'executions on the candidate', numeric: true },
  { label: ['p50', 'base'], title: 'baseline median', numeric: true },
  { label: ['p50', 'cand'], title: 'candidate median', numeric: true },
  { label: ['p95', 'base'], title: 'baseline 95th percentile', numeric: true },
  { label: ['p95', 'cand'], title: 'candidate 95th percentile', numeric: true },
  { label: ['p99', 'base'], title: 'baseline 99th percentile', numeric: true },
  { label: ['p99', 'cand'], title: 'candidate 99th percentile', numeric: true },
  { label: ['Ratio', '95% CI'], title: 'candidate p50 / baseline p50, with its confidence interval', numeric: true },
  { label: ['Errors', 'cand only'], title: 'errors on the candidate where the baseline succeeded', numeric: true },
  { label: ['Result', 'mismatches'], title: 'joined executions whose rows or checksum differ', numeric: true },
  { label: ['Statement', ''], title: 'fingerprint text and examples', numeric: false },
];

const numCell = (value: number | null, text: string, extra = ''): string =>
  `<td class="num${extra}" data-v="${value === null || !Number.isFinite(value) ? '' : value}">${esc(text)}</td>`;

function badge(verdict: Verdict): string {
  return `<span class="badge v-${verdict}">${esc(verdict)}</span>`;
}

function fingerprintRow(f: FingerprintReport): string {
  const errors = Object.values(f.candidateOnlyErrors).reduce((a, b) => a + b, 0);
  const errorTitle = Object.entries(f.candidateOnlyErrors)
    .map(([state, n]) => `${state}: ${n}`)
    .join(', ');
  const pct = (side: SideStats, key: 'p50' | 'p95' | 'p99'): string => numCell(side[key], formatMs(side[key]));
  const ci = f.ci ? `<span class="ci">${esc(formatRatio(f.ci[0]))} – ${esc(formatRatio(f.ci[1]))}</span>` : '';
  const text = f.fingerprint ?? f.examples[0] ?? '';
  const examples = f.examples.slice(0, 3);
  return (
    `<tr id="fp-${esc(f.fingerprintId)}" class="row-${f.verdict}">` +
    `<td data-v="${esc(f.fingerprintId)}"><code>${esc(f.fingerprintId)}</code></td>` +
    `<td data-v="${VERDICT_RANK[f.verdict]}">${badge(f.verdict)}</td>` +
    numCell(f.baseline.count, count(f.baseline.count)) +
    numCell(f.candidate.count, count(f.candidate.count)) +
    pct(f.baseline, 'p50') +
    pct(f.candidate, 'p50') +
    pct(f.baseline, 'p95') +
    pct(f.candidate, 'p95') +
    pct(f.baseline, 'p99') +
    pct(f.candidate, 'p99') +
    `<td class="num" data-v="${f.ratio === null || !Number.isFinite(f.ratio) ? '' : f.ratio}"><strong>${esc(formatRatio(f.ratio))}</strong>${ci}</td>` +
    `<td class="num${errors ? ' bad' : ''}" data-v="${errors}"${errorTitle ? ` title="${esc(errorTitle)}"` : ''}>${errors ? count(errors) : '·'}</td>` +
    `<td class="num${f.mismatches ? ' bad' : ''}" data-v="${f.mismatches}">${f.mismatches ? count(f.mismatches) : '·'}</td>` +
    `<td class="stmt" data-v="${esc(text)}">` +
    `<code class="fp-text" title="${esc(text)}">${esc(text)}</code>` +
    (examples.length
      ? `<details><summary>${examples.length} example${examples.length > 1 ? 's' : ''}</summary>${examples.map((e) => `<pre>${esc(e)}</pre>`).join('')}</details>`
      : '') +
    '</td></tr>'
  );
}

function fingerprintTable(report: CompareReport): string {
  if (report.fingerprints.length === 0) return '<p class="empty">No fingerprints: no data.</p>';
  // Worst news first: verdict, then distance of the ratio from 1.
  const rows = [...report.fingerprints].sort(
    (a, b) => VERDICT_RANK[a.verdict] - VERDICT_RANK[b.verdict] || Math.abs(Math.log(b.ratio ?? 1)) - Math.abs(Math.log(a.ratio ?? 1)),
  );
  const head = COLUMNS.map(
    (c, i) =>
      `<th scope="col" class="${c.numeric && i !== 1 ? 'num' : ''}" data-col="${i}" data-type="${c.numeric ? 'num' : 'text'}" aria-sort="none" title="${esc(c.title)}"><button type="button">${esc(c.label[0])}${c.label[1] ? ` <span class="sub">${esc(c.label[1])}</span>` : ''}<span class="arrow" aria-hidden="true"></span></button></th>`,
  ).join('');
  return (
    '<div class="table-wrap"><table id="fingerprints" class="sortable">' +
    `<thead><tr>${head}</tr></thead><tbody>${rows.map(fingerprintRow).join('')}</tbody></table></div>`
  );
}

// ---------------------------------------------------------------------------------------------

function errorsSection(report: CompareReport): string {
  const { total, bySqlState, examples } = report.candidateOnlyErrors;
  if (total === 0 && examples.length === 0) return '<p class="empty">No errors on the candidate that the baseline did not have.</p>';
  const states = Object.entries(bySqlState).sort((a, b) => b[1] - a[1]);
  return (
    `<p>${count(total)} execution${total === 1 ? '' : 's'} failed on the candidate but succeeded on the baseline.</p>` +
    '<div class="cols">' +
    `<table class="small"><thead><tr><th scope="col">SQLSTATE</th><th scope="col" class="num">Count</th></tr></thead><tbody>${states
      .map(([s, n]) => `<tr><td><code>${esc(s)}</code></td><td class="num">${count(n)}</td></tr>`)
      .join('')}</tbody></table>` +
    (examples.length
      ? `<table class="small"><thead><tr><th scope="col">Statement id</th><th scope="col">Fingerprint</th><th scope="col">SQLSTATE</th></tr></thead><tbody>${examples
          .map(
            (e) =>
              `<tr><td><code>${esc(e.originalId)}</code></td><td><a href="#fp-${esc(e.fingerprintId)}"><code>${esc(e.fingerprintId)}</code></a></td><td><code>${esc(e.sqlState ?? '—')}</code></td></tr>`,
          )
          .join('')}</tbody></table>`
      : '') +
    '</div>'
  );
}

function mismatchesSection(report: CompareReport): string {
  const { total, examples } = report.mismatches;
  if (total === 0 && examples.length === 0) return '<p class="empty">No result mismatches.</p>';
  return (
    `<p>${count(total)} joined execution${total === 1 ? '' : 's'} returned a different row count or checksum.</p>` +
    `<div class="table-wrap"><table class="small"><thead><tr><th scope="col">Statement id</th><th scope="col">Fingerprint</th><th scope="col">What</th><th scope="col">Baseline</th><th scope="col">Candidate</th></tr></thead><tbody>${examples
      .map(
        (e) =>
          `<tr><td><code>${esc(e.originalId)}</code></td><td><a href="#fp-${esc(e.fingerprintId)}"><code>${esc(e.fingerprintId)}</code></a></td><td>${esc(e.what)}</td><td><code>${esc(e.baseline ?? '—')}</code></td><td><code>${esc(e.candidate ?? '—')}</code></td></tr>`,
      )
      .join('')}</tbody></table></div>`
  );
}

function idList(ids: string[], what: string): string {
  if (ids.length === 0) return '';
  return `<details><summary>${ids.length} example ${esc(what)} id${ids.length > 1 ? 's' : ''}</summary><ul class="ids">${ids.map((id) => `<li><code>${esc(id)}</code></li>`).join('')}</ul></details>`;
}

function header(report: CompareReport): string {
  const o = report.overall;
  const gate = report.gate.failed
    ? `<div class="gate failed"><strong>Gate failed</strong>${report.gate.reasons.length ? `<ul>${report.gate.reasons.map((r) => `<li>${esc(r)}</li>`).join('')}</ul>` : ''}</div>`
    : `<div class="gate passed"><strong>Gate passed</strong>${report.gate.reasons.length ? `<ul>${report.gate.reasons.map((r) => `<li>${esc(r)}</li>`).join('')}</ul>` : ''}</div>`;
  const card = (label: string, value: string, cls = ''): string => `<div class="card ${cls}"><div class="value">${value}</div><div class="label">${esc(label)}</div></div>`;
  const s = report.settings;
  return (
    `<header><h1>auditreplay compare</h1><p class="meta">Generated ${esc(report.generatedAt)}</p>${gate}` +
    '<div class="cards">' +
    card('regressions', count(o.regressions), 'v-regression') +
    card('improvements', count(o.improvements), 'v-improvement') +
    card('unchanged', count(o.unchanged), 'v-unchanged') +
    card('insufficient data', count(o.insufficient), 'v-insufficient') +
    card('geometric mean ratio', esc(formatRatio(o.geomeanRatio))) +
    card('time-weighted geomean', esc(formatRatio(o.weightedGeomeanRatio))) +
    '</div>' +
    '<div class="cols">' +
    '<section class="box"><h2>Inputs</h2><dl>' +
    `<dt>Baseline</dt><dd><code>${esc(report.baseline.source)}</code> · ${count(report.baseline.executions)} executions</dd>` +
    `<dt>Candidate</dt><dd><code>${esc(report.candidate.source)}</code> · ${count(report.candidate.executions)} executions</dd>` +
    `<dt>Settings</dt><dd>threshold ${esc(String(s.threshold))} · min samples ${esc(String(s.minSamples))} · noise floor ${esc((s.noiseFloor * 100).toFixed(1))}% · confidence ${esc(String(s.confidence))}</dd>` +
    '</dl></section>' +
    '<section class="box"><h2>Join</h2><dl>' +
    `<dt>Matched</dt><dd class="num">${count(report.join.matched)}</dd>` +
    `<dt>Missing on candidate</dt><dd class="num">${count(report.join.missing)}</dd>` +
    `<dt>New on candidate</dt><dd class="num">${count(report.join.new)}</dd>` +
    '</dl>' +
    idList(report.join.missingExamples, 'missing') +
    idList(report.join.newExamples, 'new') +
    '</section></div></header>'
  );
}

const STYLE = `
:root{color-scheme:light;--fg:#1d2330;--muted:#5b6475;--line:#dde1e8;--bg:#fff;--soft:#f5f7fa;
--reg:${VERDICT_COLOUR.regression};--imp:${VERDICT_COLOUR.improvement};--unc:${VERDICT_COLOUR.unchanged};--ins:${VERDICT_COLOUR.insufficient}}
*{box-sizing:border-box}
body{margin:0;background:var(--soft);color:var(--fg);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans",sans-serif}
main{max-width:1480px;margin:0 auto;padding:24px clamp(12px,3vw,32px) 48px}
h1{font-size:1.7rem;margin:0 0 4px}h2{font-size:1.2rem;margin:0 0 12px}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;font-size:.86em}
pre{white-space:pre-wrap;word-break:break-word;background:var(--soft);border:1px solid var(--line);border-radius:4px;padding:6px 8px;margin:6px 0}
.meta{color:var(--muted);margin:0 0 16px}
section,.box{background:var(--bg);border:1px solid var(--line);border-radius:8px;padding:16px 20px;margin:16px 0}
.gate{border-radius:8px;padding:12px 16px;margin:0 0 16px;font-size:1.1rem}
.gate ul{margin:6px 0 0;font-size:.95rem}
.gate.failed{background:#fdecea;border:1px solid #f5c2be;color:#8e1b14}
.gate.passed{background:#e9f6ec;border:1px solid #b9e0c2;color:#1d5e2b}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:12px}
.card{background:var(--bg);border:1px solid var(--line);border-radius:8px;padding:12px 16px;border-top:4px solid var(--line)}
.card .value{font-size:1.6rem;font-weight:650;font-variant-numeric:tabular-nums}
.card .label{color:var(--muted);font-size:.85rem}
.card.v-regression{border-top-color:var(--reg)}.card.v-improvement{border-top-color:var(--imp)}
.card.v-unchanged{border-top-color:var(--unc)}.card.v-insufficient{border-top-color:var(--ins)}
.cols{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:0 16px;align-items:start}
dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:0}dt{color:var(--muted)}dd{margin:0;overflow-wrap:anywhere}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(440px,1fr));gap:16px}
figure{margin:0}figcaption{color:var(--muted);font-size:.85rem;margin-top:4px}
svg.chart{width:100%;height:auto;display:block;font-family:inherit}
svg .plot{fill:#fbfcfd;stroke:var(--line)}svg .frame{fill:#fbfcfd;stroke:var(--line)}
svg .grid{stroke:#e8ebf0;stroke-width:1}
svg .tick{font-size:11px;fill:var(--muted)}svg .axis{font-size:12px;fill:var(--fg)}svg .legend{font-size:11px;fill:var(--muted)}
svg .rowlabel{font-size:11px;fill:var(--fg);font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
svg .nodata{font-size:18px;fill:var(--muted)}
svg .identity{stroke:#333;stroke-width:1.2}svg .threshold{stroke:var(--reg);stroke-width:1;stroke-dasharray:5 4}
svg .pt{fill:var(--unc);fill-opacity:.55}svg .pt.slower{fill:var(--reg)}svg .pt.faster{fill:var(--imp)}
svg .whisker{stroke:#222;stroke-width:1.3}
.table-wrap{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.86rem}
th,td{padding:5px 6px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{background:var(--soft);position:sticky;top:0;white-space:nowrap;vertical-align:bottom;line-height:1.25}
th .sub{display:block;font-weight:400;color:var(--muted);font-size:.9em}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
th{cursor:pointer;user-select:none}th button{all:unset;cursor:pointer;font-weight:600}th button:focus-visible{outline:2px solid #3b82f6}
th[aria-sort=ascending] .arrow::after{content:" ▲"}th[aria-sort=descending] .arrow::after{content:" ▼"}
tbody tr:hover{background:#f8fafc}
.ci{display:block;color:var(--muted);font-size:.8em}
.bad{color:var(--reg);font-weight:600}
td.stmt{min-width:220px;max-width:480px}
.fp-text{display:block;white-space:pre-wrap;word-break:break-word;max-height:6.5em;overflow:hidden}
details summary{cursor:pointer;color:var(--muted);font-size:.85em}
.badge{display:inline-block;padding:1px 8px;border-radius:999px;font-size:.78rem;font-weight:600;color:#fff}
.badge.v-regression{background:var(--reg)}.badge.v-improvement{background:var(--imp)}
.badge.v-unchanged{background:var(--unc)}.badge.v-insufficient{background:var(--ins)}
table.small{width:auto;min-width:50%;margin-bottom:12px}
.ids{margin:4px 0;padding-left:20px;overflow-wrap:anywhere}
#chart-ratios{max-width:1100px;margin:0 auto}
.empty{color:var(--muted)}
a{color:#1f5fa8}
@media (max-width:600px){.charts{grid-template-columns:1fr}body{font-size:14px}}
@media print{body{background:#fff}th{position:static}}
`;

/**
 * Sorts the fingerprint table from its own cells' data-v keys. Empty keys (no value) sort last
 * either way; the first click on a numeric column sorts descending, as the biggest is what one looks for.
 */
const SCRIPT = `
(function () {
  var table = document.getElementById('fingerprints');
  if (!table) return;
  var body = table.tBodies[0];
  var heads = table.tHead.rows[0].cells;
  function key(row, col) { return row.cells[col].getAttribute('data-v') || ''; }
  Array.prototype.forEach.call(heads, function (th) {
    // The whole cell is the target (a click on the button bubbles here; Enter/Space on it too).
    th.addEventListener('click', function () {
      var col = Number(th.getAttribute('data-col'));
      var numeric = th.getAttribute('data-type') === 'num';
      var current = th.getAttribute('aria-sort');
      var dir = current === 'none' ? (numeric && col !== 1 ? 'descending' : 'ascending') : current === 'ascending' ? 'descending' : 'ascending';
      var sign = dir === 'ascending' ? 1 : -1;
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = key(a, col), y = key(b, col);
        if (x === '' || y === '') return x === y ? 0 : x === '' ? 1 : -1;
        var d = numeric ? Number(x) - Number(y) : x.localeCompare(y);
        return sign * d;
      });
      rows.forEach(function (r) { body.appendChild(r); });
      Array.prototype.forEach.call(heads, function (h) { h.setAttribute('aria-sort', 'none'); });
      th.setAttribute('aria-sort', dir);
    });
  });
})();
`;

/**
 * Renders the report as one self-contained HTML5 document: no external resource of any kind,
 * a CSP that would block one anyway, and every report string HTML-escaped.
 */
export function renderHtmlReport(report: CompareReport): string {
  // The CSP allows exactly this script by its hash, so even an unescaped injected script could not run.
  const scriptHash = createHash('sha256').update(SCRIPT, 'utf8').digest('base64');
  const csp = `default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-${scriptHash}'; img-src 'none'; base-uri 'none'; form-action 'none'`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="referrer" content="no-referrer">
<title>${esc(`auditreplay compare: ${report.gate.failed ? 'gate failed' : 'gate passed'}`)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${header(report)}
<section><h2>Charts</h2><div class="charts">
<figure>${scatterChart(report)}<figcaption>Each point is one joined execution (a bounded sample). Above the diagonal: slower on the candidate.</figcaption></figure>
<figure>${distributionChart(report)}<figcaption>Share of each side's executions per latency bucket.</figcaption></figure>
</div>
<figure>${ratioChart(report)}<figcaption>The ${Math.min(30, topByLogRatio(report.fingerprints, 30).length)} fingerprints furthest from 1.0 (of ${count(report.fingerprints.length)}); bars from 1.0 to the ratio of medians, whiskers the confidence interval.</figcaption></figure>
</section>
<section><h2>Fingerprints</h2><p class="meta">Click a column header to sort.</p>${fingerprintTable(report)}</section>
<section><h2>Candidate-only errors</h2>${errorsSection(report)}</section>
<section><h2>Result mismatches</h2>${mismatchesSection(report)}</section>
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
