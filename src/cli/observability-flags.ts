import type { Command } from 'commander';
import { AuditReplayError } from '../core/errors.js';
import { configureLogging, logger, parseLogFormat, parseLogLevel, type Logger, type LogStage } from '../core/logger.js';
import { RunMetrics, serveMetrics, type MetricsServer, type MetricsSource } from '../core/metrics.js';
import type { StorageOptions } from '../sinks/storage.js';
import { writeTextObject } from '../sinks/storage/write-text.js';

/** The flags every command has for its logs and summary; `metricsPort` only on the long-running ones. */
export interface ObservabilityFlags {
  logFormat: string;
  logLevel: string;
  metricsFile?: string;
  metricsPort?: string;
}

/**
 * Adds `--log-format`, `--log-level` and `--metrics-file` to a command, and
 * `--metrics-port` with `{ metricsPort: true }` (extract, sync, replay: the runs long
 * enough to scrape).
 */
export function addObservabilityFlags(command: Command, options: { metricsPort?: boolean } = {}): Command {
  command
    .option('--log-format <format>', 'stderr lines: json (one JSON object per line), text (for people), auto (text on a terminal, else json: pipes, files, Kubernetes)', 'auto')
    .option('--log-level <level>', 'least severe log lines shown: fatal, error, warn, info, debug, trace, silent', 'info')
    .option('--metrics-file <path>', 'also write the final summary JSON to this file or object URL (for a sidecar or CI)');
  if (options.metricsPort) {
    command.option('--metrics-port <port>', 'serve Prometheus metrics (GET /metrics) and GET /healthz on this port while the run lasts; 0 picks a free port, logged');
  }
  return command;
}

/**
 * A command's logs, metrics endpoint and summary, set up from its flags: logging carries
 * the run id and the command's stage; `--metrics-port` starts the endpoint (read from the
 * source given to `watch`); `summary` writes `--metrics-file` and logs the summary as the
 * last line. `close` in a `finally`.
 */
export class Observability {
  private constructor(
    readonly log: Logger,
    private readonly metrics: RunMetrics | null,
    private readonly server: MetricsServer | null,
    private readonly metricsFile: string | undefined,
    private readonly runId: string,
    private readonly storage: StorageOptions,
  ) {}

  /** @param run.storage where `--metrics-file` may go besides local paths (the command's endpoints; default none) */
  static async start(flags: ObservabilityFlags, run: { command: LogStage; runId: string; storage?: StorageOptions }): Promise<Observability> {
    const format = parseLogFormat(flags.logFormat ?? 'auto');
    const level = parseLogLevel(flags.logLevel ?? 'info');
    const port = flags.metricsPort === undefined ? null : parsePort(flags.metricsPort);
    configureLogging({ format, level, runId: run.runId, command: run.command });
    const log = logger(run.command);
    let metrics: RunMetrics | null = null;
    let server: MetricsServer | null = null;
    if (port !== null) {
      metrics = new RunMetrics({ command: run.command, runId: run.runId });
      server = await serveMetrics(metrics, port);
      log.info({ metricsPort: server.port }, `metrics on http://0.0.0.0:${server.port}/metrics (health: /healthz)`);
    }
    return new Observability(log, metrics, server, flags.metricsFile, run.runId, run.storage ?? {});
  }

  /** Where the metrics read their values from once the command has its stats objects. */
  watch(source: MetricsSource): void {
    this.metrics?.setSource(source);
  }

  /**
   * The run's final summary: written to `--metrics-file` (pretty JSON) and logged as one
   * line with `message` (the human sentence) as `msg`. Log it last: tests and jobs read
   * the last stderr line.
   */
  async summary(message: string, summary: { type: 'summary' } & Record<string, unknown>): Promise<void> {
    await this.summaryFile(summary);
    // The line carries the run id already: the same key twice would make a JSON object with duplicate keys.
    const { runId, ...rest } = summary;
    this.log.info(runId === undefined || runId === this.runId ? rest : summary, message);
  }

  /** Writes the summary to `--metrics-file`, if given, atomically (pretty JSON). */
  async summaryFile(summary: { type: 'summary' } & Record<string, unknown>): Promise<void> {
    if (this.metricsFile !== undefined) await writeTextObject(this.metricsFile, JSON.stringify(summary, null, 2) + '\n', this.storage);
  }

  /** Stops the metrics endpoint. */
  async close(): Promise<void> {
    await this.server?.close();
  }
}

function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new AuditReplayError('usage', `--metrics-port takes a port number 0..65535 (0: any free port), not '${value}'`);
  return n;
}
