import { describe, expect, it } from 'vitest';
import { escapeHtml, formatMs, formatRatio, renderHtmlReport } from '../../src/compare/html-report.js';
import { ATTRIBUTE_INJECTION, IMG_INJECTION, SCRIPT_INJECTION, emptyReport, sampleReport } from './report-fixture.js';

const occurrences = (text: string, needle: string): number => text.split(needle).length - 1;

/** The SVG element with the given id, as a string. */
function svg(html: string, id: string): string {
  const start = html.indexOf(`<svg id="${id}"`);
  expect(start, `svg ${id}`).toBeGreaterThanOrEqual(0);
  return html.slice(start, html.indexOf('</svg>', start) + 6);
}

describe('renderHtmlReport', () => {
  const html = renderHtmlReport(sampleReport());

  it('is one HTML5 document with a strict CSP', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(occurrences(html, '<html')).toBe(1);
    expect(html).toMatch(/<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-[A-Za-z0-9+/=]+'/);
  });

  it('references no external resource', () => {
    expect(html).not.toMatch(/https?:\/\//i);
    // No src/href/xlink:href/action attribute points anywhere but a fragment of this page.
    const tags = html.match(/<[a-z][^>]*>/gi) ?? [];
    const refs = tags.flatMap((tag) =>
      [...tag.matchAll(/\s(?:src|href|xlink:href|action|srcset|poster)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)/gi)].map((m) => m[1]!.replace(/^["']|["']$/g, '')),
    );
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) expect(ref, ref).toMatch(/^#/);
    expect(html).not.toMatch(/url\(|@import|@font-face/i);
    expect(html).not.toMatch(/<(?:link|iframe|object|embed|img|base)\b/i);
  });

  it('has exactly one script tag, its own', () => {
    expect(html.match(/<script\b/gi)).toHaveLength(1);
    expect(html.match(/<\/script>/gi)).toHaveLength(1);
    // The one script sorts from the DOM: no report data in it.
    const script = html.slice(html.indexOf('<script>'), html.indexOf('</script>'));
    expect(script).not.toContain('a1a1a1a1');
    expect(script).not.toContain('alert');
  });

  it('shows injected text only escaped', () => {
    const escaped = escapeHtml(SCRIPT_INJECTION);
    expect(escaped).toBe('&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain(SCRIPT_INJECTION);
    expect(occurrences(html, escaped)).toBeGreaterThanOrEqual(6); // fingerprint, example, SQLSTATEs, mismatch, gate
    expect(occurrences(html, 'alert(1)')).toBe(occurrences(html, escaped));
    expect(html).not.toContain(ATTRIBUTE_INJECTION);
    expect(html).toContain(escapeHtml(ATTRIBUTE_INJECTION));
    expect(html).not.toMatch(/onmouseover\s*=\s*"/i);
    expect(html).not.toContain(IMG_INJECTION);
    expect(html).not.toMatch(/<[^>]*\son\w+\s*=/i); // no event handler attribute in any tag
    expect(html).toContain('it&#39;&#39;s &amp; &lt;fine&gt;');
  });

  it('draws the three SVG charts', () => {
    const scatter = svg(html, 'chart-scatter');
    expect(occurrences(scatter, '<circle')).toBe(200);
    expect(scatter).toContain('class="identity"');
    expect(scatter).toContain('baseline (ms, log)');
    expect(scatter).toContain('>1 ms<');
    const ratios = svg(html, 'chart-ratios');
    expect(occurrences(ratios, '<g class="bar">')).toBe(9); // every fingerprint with a ratio
    expect(occurrences(ratios, 'class="whisker"')).toBe(27);
    expect(ratios).toContain('threshold 1.2×');
    const dist = svg(html, 'chart-distribution');
    expect(occurrences(dist, '<rect')).toBeGreaterThanOrEqual(32);
    expect(dist).toContain('&gt; 5 s');
    expect(html).not.toContain('no data');
  });

  it('keeps only the 30 fingerprints furthest from 1.0 in the ratio chart', () => {
    const report = sampleReport();
    const template = report.fingerprints[0]!;
    report.fingerprints = Array.from({ length: 40 }, (_, i) => ({ ...template, fingerprintId: `fp${i}`, ratio: 1 + i / 10, ci: null }));
    const ratios = svg(renderHtmlReport(report), 'chart-ratios');
    expect(occurrences(ratios, '<g class="bar">')).toBe(30);
    expect(ratios).toContain('>fp39<');
    expect(ratios).not.toContain('>fp9<');
  });

  it('renders the table with one row per fingerprint, sort keys and verdict badges', () => {
    const table = html.slice(html.indexOf('<table id="fingerprints"'), html.indexOf('</table>', html.indexOf('<table id="fingerprints"')));
    expect(occurrences(table, '<tr id="fp-')).toBe(10);
    expect(occurrences(table, '<th scope="col"')).toBe(14);
    expect(table).toContain('<span class="badge v-regression">regression</span>');
    expect(table).toContain('<span class="badge v-insufficient">insufficient</span>');
    // Regressions first, the biggest ratio first among them.
    expect(table.indexOf('fp-a2a2')).toBeLessThan(table.indexOf('fp-b1b1'));
    expect(table.indexOf('fp-a1a1')).toBeLessThan(table.indexOf('fp-a2a2'));
    expect(table).toContain('data-v="12.5">12.5 ms<');
    expect(table).toContain('<details><summary>3 examples</summary>');
  });

  it('has the header, inputs, join, errors and mismatches', () => {
    expect(html).toContain('Gate failed');
    expect(html).toContain('s3://audit-logs/primary/2026-11-17/');
    expect(html).toContain('1,630');
    expect(html).toContain('1.08×');
    expect(html).toContain('<h2>Candidate-only errors</h2>');
    expect(html).toContain('<code>57014</code></td><td class="num">3</td>');
    expect(html).toContain('<h2>Result mismatches</h2>');
    expect(html).toContain('abc123');
  });

  it('renders an empty report with "no data" charts', () => {
    const empty = renderHtmlReport(emptyReport());
    expect(occurrences(empty, '>no data</text>')).toBe(3);
    for (const id of ['chart-scatter', 'chart-ratios', 'chart-distribution']) expect(svg(empty, id)).toContain('no data');
    expect(empty).toContain('Gate passed');
    expect(empty).toContain('No fingerprints');
    expect(empty).not.toContain('NaN');
    expect(empty).not.toContain('Infinity');
    expect(html).not.toContain('NaN');
  });

  it('survives degenerate data: one point, zero latencies, one bucket', () => {
    const report = emptyReport();
    report.scatter = [[0, 0], [5, 5]];
    report.distribution = { bounds: [Infinity], baseline: [3], candidate: [0] };
    const out = renderHtmlReport(report);
    expect(out).not.toMatch(/NaN|Infinity/);
    expect(occurrences(svg(out, 'chart-scatter'), '<circle')).toBe(2);
  });
});

describe('formatting', () => {
  it('formats ms in a readable unit', () => {
    expect(formatMs(null)).toBe('—');
    expect(formatMs(0.0004)).toBe('<1 µs');
    expect(formatMs(0.42)).toBe('420 µs');
    expect(formatMs(3.14159)).toBe('3.14 ms');
    expect(formatMs(45.67)).toBe('45.7 ms');
    expect(formatMs(410)).toBe('410 ms');
    expect(formatMs(1800)).toBe('1.80 s');
    expect(formatMs(95000)).toBe('1.6 min');
    expect(formatRatio(1.2345)).toBe('1.23×');
    expect(formatRatio(null)).toBe('—');
  });
});
