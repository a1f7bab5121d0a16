import { logger } from '../core/logger.js';
import type { ExtractStats } from '../extract/extract-pipeline.js';

export type ProgressMode = 'auto' | 'tty' | 'json' | 'none';

/** What a command shows of its progress, given the time since it started. */
export interface ProgressReport {
  /** The live line on a terminal. */
  line(elapsedMs: number): string;
  /** The fields of a progress log line (`type: 'progress'` and `elapsedMs` are added). */
  fields(elapsedMs: number): Record<string, unknown>;
}

const MB = 1024 * 1024;

/**
 * Reports progress on stderr: a live line on a terminal, a log line (`msg: 'progress'`,
 * with the running command's run id and stage) every few seconds otherwise, so logs of
 * nightly jobs stay parseable; nothing with `none`.
 */
export class Progress {
  private timer: NodeJS.Timeout | null = null;
  private readonly started = Date.now();
  private readonly mode: Exclude<ProgressMode, 'auto'>;

  /**
   * @param intervalMs between progress log lines (default 5 s; the live line redraws 4 times a second)
   * @param stream where the live line goes, and whose being a terminal `auto` asks (default stderr)
   */
  constructor(
    private readonly report: ProgressReport,
    mode: ProgressMode,
    private readonly intervalMs = 5_000,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.mode = mode === 'auto' ? (stream.isTTY ? 'tty' : 'json') : mode;
  }

  start(): void {
    if (this.mode === 'none') return;
    this.timer = setInterval(() => this.tick(), this.mode === 'tty' ? 250 : this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.mode === 'tty') this.stream.write('\r\x1b[2K');
  }

  get isTty(): boolean {
    return this.mode === 'tty';
  }

  private tick(): void {
    const elapsedMs = Date.now() - this.started;
    if (this.mode === 'tty') this.stream.write(`\r\x1b[2K${this.report.line(elapsedMs)}`);
    else logger().info({ type: 'progress', elapsedMs, ...this.report.fields(elapsedMs) }, 'progress');
  }
}

/** Extract's progress: objects, records, bytes, rate. */
export function extractProgress(stats: ExtractStats): ProgressReport {
  const rate = (elapsedMs: number): number => (elapsedMs > 0 ? Math.round((stats.ingest.records * 1000) / elapsedMs) : 0);
  return {
    line: (elapsedMs) => {
      const s = stats.ingest;
      return `objects ${s.objectsDone}/${s.objectsListed}  records ${s.records}  ${(s.bytesDecoded / MB).toFixed(1)} MB  ${rate(elapsedMs)} records/s`;
    },
    fields: (elapsedMs) => {
      const s = stats.ingest;
      return {
        objects: s.objectsDone,
        objectsListed: s.objectsListed,
        records: s.records,
        bytesRead: s.bytesRead,
        bytesDecoded: s.bytesDecoded,
        recordsPerSec: rate(elapsedMs),
        selected: stats.classify.selected,
      };
    },
  };
}
