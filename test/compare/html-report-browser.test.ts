import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderHtmlReport } from '../../src/compare/html-report.js';
import { aptInstall, debianPackageInstalled } from '../helpers/postgres-server.js';
import { SCRIPT_INJECTION, emptyReport, sampleReport } from './report-fixture.js';

const CHROMIUM = '/usr/bin/chromium';

/** Debian's chromium: installed when missing (plain install first, `apt-get update` only if that fails). */
function ensureChromium(): void {
  if (existsSync(CHROMIUM) && debianPackageInstalled('chromium')) return;
  if (process.getuid?.() !== 0) throw new Error('the browser test needs Debian chromium: apt-get install -y chromium (or run as root)');
  try {
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  } catch {
    aptInstall(['chromium']);
  }
}

interface Loaded {
  page: Page;
  /** Every request the page made (URL), the document's own included. */
  requests: string[];
  /** Console errors, page errors and dialogs: the test wants none of them. */
  problems: string[];
  dialogs: string[];
}

describe('the HTML report in a real browser', () => {
  let browser: Browser;
  let dir: string;

  beforeAll(async () => {
    ensureChromium();
    dir = await mkdtemp(join(tmpdir(), 'html-report-'));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Writes the HTML to a file and opens it with every network request recorded and refused. */
  async function load(html: string, name: string): Promise<Loaded> {
    const file = join(dir, name);
    await writeFile(file, html);
    const url = pathToFileURL(file).href;
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const loaded: Loaded = { page, requests: [], problems: [], dialogs: [] };
    await context.route('**/*', async (route) => {
      const requested = route.request().url();
      if (requested === url) await route.continue();
      else await route.abort('blockedbyclient');
    });
    page.on('request', (request) => loaded.requests.push(request.url()));
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') loaded.problems.push(`console ${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => loaded.problems.push(`pageerror: ${error.message}`));
    page.on('dialog', async (dialog) => {
      loaded.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
      await dialog.dismiss();
    });
    await page.goto(url, { waitUntil: 'load' });
    // Let anything late (timers, lazy resources, an injected handler) have its chance to misbehave.
    await page.mouse.move(400, 400);
    await page.waitForTimeout(300);
    expect(loaded.requests).toEqual([url]);
    return loaded;
  }

  const firstRowId = (page: Page): Promise<string | null> => page.locator('#fingerprints tbody tr').first().getAttribute('id');

  it('loads with no request but itself, no error, no dialog, and shows injected text as text', async () => {
    const report = sampleReport();
    const { page, problems, dialogs } = await load(renderHtmlReport(report), 'report.html');

    const injected = page.getByText(SCRIPT_INJECTION).first();
    expect(await injected.isVisible()).toBe(true);
    expect(await injected.textContent()).toContain(SCRIPT_INJECTION);
    // Hovering the text that tried to be an attribute must not run anything either.
    await page.locator('.fp-text', { hasText: 'onmouseover' }).first().hover();
    await page.waitForTimeout(100);
    expect(await page.locator('script').count()).toBe(1);
    expect(await page.locator('img, iframe, object, embed, link').count()).toBe(0);

    expect(await page.getByText('Gate failed').isVisible()).toBe(true);
    expect(await page.locator('#fingerprints tbody tr').count()).toBe(report.fingerprints.length);

    expect(dialogs).toEqual([]);
    expect(problems).toEqual([]);
  }, 60_000);

  it('sorts the fingerprint table by a clicked header', async () => {
    const report = sampleReport();
    const { page, problems } = await load(renderHtmlReport(report), 'sort.html');
    const byBaselineP50 = report.fingerprints.filter((f) => f.baseline.p50 !== null).sort((a, b) => a.baseline.p50! - b.baseline.p50!);
    const slowest = byBaselineP50.at(-1)!.fingerprintId;
    const fastest = byBaselineP50[0]!.fingerprintId;
    expect(await firstRowId(page)).toMatch(/^fp-a/); // regressions first by default

    const header = page.locator('#fingerprints th', { hasText: 'p50 base' });
    await header.click();
    expect(await firstRowId(page)).toBe(`fp-${slowest}`);
    expect(await header.getAttribute('aria-sort')).toBe('descending');
    await header.click();
    expect(await firstRowId(page)).toBe(`fp-${fastest}`);
    expect(await header.getAttribute('aria-sort')).toBe('ascending');

    await page.locator('#fingerprints th', { hasText: 'Fingerprint' }).click();
    const ids = report.fingerprints.map((f) => f.fingerprintId).sort();
    expect(await firstRowId(page)).toBe(`fp-${ids[0]}`);
    expect(await header.getAttribute('aria-sort')).toBe('none');

    // Rows without a value (a side with no p50) stay last in both directions.
    const lastRowId = (): Promise<string | null> => page.locator('#fingerprints tbody tr').last().getAttribute('id');
    const cand = page.locator('#fingerprints th', { hasText: 'p50 cand' });
    await cand.click();
    expect(await lastRowId()).toBe('fp-d2d2d2d2d2d2d2d2');
    await cand.click();
    expect(await lastRowId()).toBe('fp-d2d2d2d2d2d2d2d2');
    expect(problems).toEqual([]);
  }, 60_000);

  it('draws the charts and is not blank', async () => {
    const { page, problems } = await load(renderHtmlReport(sampleReport()), 'charts.html');
    const charts = await Promise.all(
      ['chart-scatter', 'chart-ratios', 'chart-distribution'].map(async (id) => {
        const svg = page.locator(`#${id}`);
        const box = await svg.boundingBox();
        return { id, width: box?.width ?? 0, height: box?.height ?? 0, elements: await svg.locator('*').count(), circles: await svg.locator('circle').count() };
      }),
    );
    for (const chart of charts) {
      expect(chart.width, chart.id).toBeGreaterThan(300);
      expect(chart.height, chart.id).toBeGreaterThan(100);
      expect(chart.elements, chart.id).toBeGreaterThan(30);
    }
    expect(charts[0]!.circles).toBe(200);
    const shot = await page.screenshot({ fullPage: true });
    expect(shot.length).toBeGreaterThan(20_000);
    await writeFile(join(dir, 'charts.png'), shot);
    expect(problems).toEqual([]);
  }, 60_000);

  it('renders an empty report with "no data" in each chart', async () => {
    const { page, problems, dialogs } = await load(renderHtmlReport(emptyReport()), 'empty.html');
    expect(await page.locator('svg.chart text', { hasText: 'no data' }).count()).toBe(3);
    for (const id of ['chart-scatter', 'chart-ratios', 'chart-distribution']) {
      const box = await page.locator(`#${id}`).boundingBox();
      expect(box?.width ?? 0, id).toBeGreaterThan(100);
    }
    expect(await page.getByText('Gate passed').isVisible()).toBe(true);
    expect(problems).toEqual([]);
    expect(dialogs).toEqual([]);
  }, 60_000);
});
