import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunMetrics, serveMetrics, type MetricsSource } from '../../src/core/metrics.js';
import { ensurePostgres, startPostgres, type PostgresCluster } from '../helpers/postgres-server.js';
import { ROOT, runCli } from '../helpers/run-cli.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * Reads Prometheus text exposition 0.0.4 strictly: every line is a HELP, a TYPE or a
 * sample of a declared family, names and labels well formed, values numbers, NaN or Inf
 * (in any case, as Prometheus reads them: prom-client writes NaN as 'Nan'). No parser is
 * installed, and prom-client has none.
 */
function parseExposition(text: string): { samples: Sample[]; types: Map<string, string> } {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
  const sampleLine = new RegExp(`^(${NAME})(?:\\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*",?)*)\\})? (-?[0-9]+(?:\\.[0-9]+)?(?:e[+-]?[0-9]+)?|[Nn][Aa][Nn]|[+-]Inf)(?: -?[0-9]+)?$`);
  expect(text.endsWith('\n'), 'the exposition ends with a newline').toBe(true);
  for (const line of text.slice(0, -1).split('\n')) {
    if (line === '') continue;
    let m = new RegExp(`^# HELP (${NAME}) .*$`).exec(line);
    if (m) continue;
    m = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`).exec(line);
    if (m) {
      expect(types.has(m[1]!), `TYPE of ${m[1]} declared twice`).toBe(false);
      types.set(m[1]!, m[2]!);
      continue;
    }
    m = sampleLine.exec(line);
    if (!m) throw new Error(`not a valid exposition line: ${line}`);
    const name = m[1]!;
    const family = [name, name.replace(/_(bucket|sum|count|total|created)$/, '')].find((n) => types.has(n));
    expect(family, `sample ${name} without a TYPE`).toBeDefined();
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name, labels, value: /^nan$/i.test(m[3]!) ? Number.NaN : Number(m[3]!.replace('Inf', 'Infinity')) });
  }
  return { samples, types };
}

const value = (samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined =>
  samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

describe('run metrics', () => {
  it('exposes the named series with command and run_id labels, read from the stats at scrape time', async () => {
    const stats = { records: 10, applied: 2, lag: 1.5 as number | null, errors: { '42P01': 1 } as Record<string, number>, rejects: 1 };
    const source: MetricsSource = {
      records: () => stats.records,
      statementsApplied: () => stats.applied,
      lagSeconds: () => stats.lag,
      errors: () => stats.errors,
      rejects: () => stats.rejects,
    };
    const metrics = new RunMetrics({ command: 'sync', runId: 'run-1' }, source);
    const first = parseExposition(await metrics.text());
    const run = { command: 'sync', run_id: 'run-1' };
    expect(first.types.get('auditreplay_records_total')).toBe('counter');
    expect(first.types.get('auditreplay_statements_applied_total')).toBe('counter');
    expect(first.types.get('auditreplay_lag_seconds')).toBe('gauge');
    expect(first.types.get('auditreplay_errors_total')).toBe('counter');
    expect(first.types.get('auditreplay_rejects_total')).toBe('counter');
    expect(value(first.samples, 'auditreplay_records_total', run)).toBe(10);
    expect(value(first.samples, 'auditreplay_statements_applied_total', run)).toBe(2);
    expect(value(first.samples, 'auditreplay_lag_seconds', run)).toBe(1.5);
    expect(value(first.samples, 'auditreplay_errors_total', { ...run, code: '42P01' })).toBe(1);
    expect(value(first.samples, 'auditreplay_rejects_total', run)).toBe(1);
    // prom-client's process metrics, in the same registry and with the same labels.
    expect(value(first.samples, 'process_resident_memory_bytes', run)).toBeGreaterThan(0);
    expect(first.samples.every((s) => s.labels.command === 'sync' && s.labels.run_id === 'run-1')).toBe(true);

    Object.assign(stats, { records: 25, applied: 9, lag: null, errors: { '42P01': 1, 'malformed-line': 4 }, rejects: 5 });
    const second = parseExposition(await metrics.text());
    expect(value(second.samples, 'auditreplay_records_total', run)).toBe(25);
    expect(value(second.samples, 'auditreplay_statements_applied_total', run)).toBe(9);
    expect(value(second.samples, 'auditreplay_lag_seconds', run), 'an unknown lag').toBe(0);
    expect(value(second.samples, 'auditreplay_errors_total', { ...run, code: 'malformed-line' })).toBe(4);
    expect(value(second.samples, 'auditreplay_rejects_total', run)).toBe(5);
  });

  it('serves /metrics as Prometheus text 0.0.4 and /healthz, nothing else, and stops serving when closed', async () => {
    const server = await serveMetrics(new RunMetrics({ command: 'replay', runId: 'r' }), 0);
    const base = `http://127.0.0.1:${server.port}`;
    try {
      const metrics = await fetch(`${base}/metrics`);
      expect(metrics.status).toBe(200);
      expect(metrics.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      expect(value(parseExposition(await metrics.text()).samples, 'auditreplay_statements_applied_total')).toBe(0);
      const health = await fetch(`${base}/healthz`);
      expect([health.status, await health.text()]).toEqual([200, 'ok\n']);
      expect((await fetch(`${base}/other`)).status).toBe(404);
      expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(405);
    } finally {
      await server.close();
    }
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });

  it('refuses a port in use with a usage error', async () => {
    const holder = createServer();
    await new Promise<void>((r) => holder.listen(0, r));
    const port = (holder.address() as { port: number }).port;
    try {
      await expect(serveMetrics(new RunMetrics({ command: 'sync', runId: 'r' }), port)).rejects.toThrow(new RegExp(`--metrics-port ${port}: cannot listen`));
    } finally {
      holder.close();
    }
  });
});

describe('metrics of commands on a real PostgreSQL 15', () => {
  let server: PostgresCluster | null = null;
  let work: string | null = null;
  beforeAll(async () => {
    ensurePostgres([]);
    server = await startPostgres();
    work = await mkdtemp(join(tmpdir(), 'auditreplay-metrics-'));
  }, 300_000);
  afterAll(async () => {
    await server?.destroy();
    if (work) await rm(work, { recursive: true, force: true });
  }, 60_000);

  const pgServer = (): PostgresCluster => server!;
  const workDir = (): string => work!;

  it('replay --metrics-port serves the counters while the run lasts, rising as statements run, and closes with the run', async () => {
    const server = pgServer();
    const work = workDir();
    // Two sessions, a query every 150 ms each for 3 s of log time; one of them fails (42P01) each time.
    const day = Date.UTC(2026, 10, 20, 10, 0, 0);
    const lines: string[] = [];
    for (let i = 0; i < 20; i++) {
      for (let s = 0; s < 2; s++) {
        const sql = s === 1 && i % 5 === 0 ? 'SELECT * FROM no_such_table' : `SELECT ${i} AS step`;
        const ts = new Date(day + 1000 + i * 150 + s * 20).toISOString().replace('T', ' ').replace('Z', ' UTC');
        lines.push(JSON.stringify({ timestamp: ts, user: 'postgres', dbname: 'postgres', pid: 10 + s, session_id: `m.${s}`, line_num: i + 1, error_severity: 'LOG', state_code: '00000', message: `duration: 1.000 ms  statement: ${sql}` }));
      }
    }
    await mkdir(join(work, 'logs'));
    await writeFile(join(work, 'logs', 'postgresql.json'), lines.join('\n') + '\n');
    const metricsFile = join(work, 'summary.json');
    const child = spawn(
      process.execPath,
      ['bin/auditreplay.js', 'replay', '--source', join(work, 'logs'), '--layout', 'flat', '--from', '2026-11-20', '--to', '2026-11-21', '--target', server.url('postgres'), '--speed', '1', '--out', join(work, 'results.jsonl'), '--run-id', 'metrics-run', '--metrics-port', '0', '--metrics-file', metricsFile, '--progress', 'none'],
      { cwd: ROOT },
    );
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const port = await new Promise<number>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        const m = /"metricsPort":(\d+)/.exec(stderr);
        if (m) resolve(Number(m[1]));
      });
      void exited.then(() => reject(new Error(`exited before serving metrics: ${stderr}`)));
    });
    const base = `http://127.0.0.1:${port}`;
    const run = { command: 'replay', run_id: 'metrics-run' };
    const scrape = async (): Promise<Sample[]> => {
      const res = await fetch(`${base}/metrics`);
      expect(res.headers.get('content-type')).toContain('text/plain; version=0.0.4');
      return parseExposition(await res.text()).samples;
    };
    const first = await scrape();
    for (const name of ['auditreplay_records_total', 'auditreplay_statements_applied_total', 'auditreplay_lag_seconds', 'auditreplay_rejects_total']) {
      expect(value(first, name, run), name).toBeDefined();
    }
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const applied0 = value(first, 'auditreplay_statements_applied_total', run)!;
    // While it runs the counters rise: statements executed, records read, errors by SQLSTATE.
    let later = first;
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      later = await scrape();
      if (value(later, 'auditreplay_statements_applied_total', run)! > applied0 && (value(later, 'auditreplay_errors_total', { ...run, code: '42P01' }) ?? 0) > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(value(later, 'auditreplay_statements_applied_total', run)).toBeGreaterThan(applied0);
    expect(value(later, 'auditreplay_records_total', run)).toBeGreaterThan(0);
    expect(value(later, 'auditreplay_errors_total', { ...run, code: '42P01' })).toBeGreaterThan(0);
    expect(value(later, 'auditreplay_lag_seconds', run)).toBeGreaterThanOrEqual(0);
    const stillRunning = child.exitCode === null;
    expect(stillRunning, 'the run lasted past the scrapes').toBe(true);

    expect(await exited, stderr).toBe(0);
    await expect(fetch(`${base}/healthz`), 'the endpoint closes with the run').rejects.toThrow();
    const summary = JSON.parse(await readFile(metricsFile, 'utf8')) as Record<string, unknown>;
    expect(summary).toMatchObject({ type: 'summary', command: 'replay', runId: 'metrics-run', complete: true, executed: 40, failed: 4, errorsBySqlState: { '42P01': 4 } });
  }, 120_000);

  it('gives verify a --metrics-file summary while its stderr stays empty', async () => {
    const server = pgServer();
    const metricsFile = join(workDir(), 'verify-summary.json');
    const res = await runCli(['verify', '--primary', server.url('postgres'), '--secondary', server.url('postgres'), '--metrics-file', metricsFile]);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.stderr).toBe('');
    const summary = JSON.parse(await readFile(metricsFile, 'utf8')) as Record<string, unknown>;
    expect(summary).toMatchObject({ type: 'summary', command: 'verify', equal: true, drift: 0, runId: expect.any(String), counts: expect.any(Object) });
  }, 60_000);
});
