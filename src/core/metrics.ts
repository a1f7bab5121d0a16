import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { AuditReplayError } from './errors.js';

/**
 * What a run's metrics show, read at scrape time from the command's own stats objects:
 * nothing is counted twice and nothing is added to the paths records and statements take.
 */
export interface MetricsSource {
  /** Records read from the audit logs. */
  records(): number;
  /** Statements sync applied or replay executed. */
  statementsApplied(): number;
  /** Sync: now minus the primary's time of the last committed statement; replay: the schedule lag now. Null while unknown (shown as 0). */
  lagSeconds(): number | null;
  /** Errors by code: the SQLSTATE of target errors, the reject reason of bad input. */
  errors(): Record<string, number>;
  rejects(): number;
}

/** A source that reports nothing yet (before a command has its stats). */
export const EMPTY_METRICS: MetricsSource = {
  records: () => 0,
  statementsApplied: () => 0,
  lagSeconds: () => null,
  errors: () => ({}),
  rejects: () => 0,
};

/**
 * One run's Prometheus metrics in a registry of its own (not prom-client's global one),
 * every series labelled with `command` and `run_id`: `auditreplay_records_total`,
 * `auditreplay_statements_applied_total`, `auditreplay_lag_seconds`,
 * `auditreplay_errors_total{code}`, `auditreplay_rejects_total`, and prom-client's
 * default process metrics.
 */
export class RunMetrics {
  readonly registry = new Registry();
  private source: MetricsSource;

  constructor(labels: { command: string; runId: string }, source: MetricsSource = EMPTY_METRICS) {
    this.source = source;
    this.registry.setDefaultLabels({ command: labels.command, run_id: labels.runId });
    const read = (): MetricsSource => this.source;
    const registers = [this.registry];
    new Counter({
      name: 'auditreplay_records_total',
      help: 'Records read from the audit logs.',
      registers,
      collect() {
        setCounter(this, read().records());
      },
    });
    new Counter({
      name: 'auditreplay_statements_applied_total',
      help: 'Statements applied to the target (sync) or executed on it (replay, warm-up passes included).',
      registers,
      collect() {
        setCounter(this, read().statementsApplied());
      },
    });
    new Gauge({
      name: 'auditreplay_lag_seconds',
      help: "Sync: now minus the primary's time of the last committed statement. Replay: how late the last statement started against its schedule. 0 before the first.",
      registers,
      collect() {
        // Not NaN: prom-client writes it as 'Nan', and alert rules compare numbers.
        this.set(read().lagSeconds() ?? 0);
      },
    });
    new Counter({
      name: 'auditreplay_errors_total',
      help: 'Errors by code: the SQLSTATE of statements that failed on the target, the reject reason of bad input.',
      labelNames: ['code'] as const,
      registers,
      collect() {
        this.reset();
        for (const [code, n] of Object.entries(read().errors())) if (n > 0) this.inc({ code }, n);
      },
    });
    new Counter({
      name: 'auditreplay_rejects_total',
      help: 'Records and statements rejected (bad input, refused, failed under --on-error skip).',
      registers,
      collect() {
        setCounter(this, read().rejects());
      },
    });
    collectDefaultMetrics({ register: this.registry });
  }

  /** Where the values come from from now on (a command knows its stats objects only once it runs). */
  setSource(source: MetricsSource): void {
    this.source = source;
  }

  /** The Prometheus text exposition (version 0.0.4). */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

function setCounter(counter: Counter, value: number): void {
  counter.reset();
  if (Number.isFinite(value) && value > 0) counter.inc(value);
}

export interface MetricsServer {
  /** The port it listens on (the one picked when 0 was asked for). */
  readonly port: number;
  /** Stops listening and drops open connections (a scraper's keep-alive must not hold the process). */
  close(): Promise<void>;
}

/**
 * Serves `GET /metrics` (Prometheus text) and `GET /healthz` on `port` (0: any free
 * port), on every interface (default host) so a Prometheus in the cluster can scrape the pod.
 */
export async function serveMetrics(metrics: RunMetrics, port: number, host?: string): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('ok\n');
      return;
    }
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: try /metrics or /healthz\n');
      return;
    }
    metrics.text().then(
      (body) => res.writeHead(200, { 'content-type': metrics.contentType }).end(req.method === 'HEAD' ? undefined : body),
      (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`${(err as Error).message}\n`),
    );
  });
  // A scrape must never keep a finished run alive.
  server.unref();
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new AuditReplayError('usage', `--metrics-port ${port}: cannot listen: ${err.message}`, { cause: err })));
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
