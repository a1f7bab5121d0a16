import type { ExtractStats } from '../extract/extract-pipeline.js';

export type ProgressMode = 'auto' | 'tty' | 'json' | 'none';

const MB = 1024 * 1024;

/**
 * Reports progress on stderr: a live line on a terminal, a JSON line every few seconds
 * otherwise (so logs of nightly jobs stay parseable), nothing with `none`.
 */
export class Progress {
  private timer: NodeJS.Timeout | null = null;
  private readonly started = Date.now();
  private readonly mode: Exclude<ProgressMode, 'auto'>;

  /** @param intervalMs between JSON lines (default 5 s; the live line redraws 4 times a second) */
  constructor(
    private readonly stats: ExtractStats,
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
    const s = this.stats.ingest;
    const elapsed = (Date.now() - this.started) / 1000;
    if (this.mode === 'tty') {
      const rate = elapsed > 0 ? Math.round(s.records / elapsed) : 0;
      this.stream.write(
        `\r\x1b[2Kobjects ${s.objectsDone}/${s.objectsListed}  records ${s.records}  ${(s.bytesDecoded / MB).toFixed(1)} MB  ${rate} records/s`,
      );
    } else {
      this.stream.write(
        JSON.stringify({
          type: 'progress',
          elapsedMs: Date.now() - this.started,
          objects: s.objectsDone,
          objectsListed: s.objectsListed,
          records: s.records,
          bytesRead: s.bytesRead,
          bytesDecoded: s.bytesDecoded,
          recordsPerSec: elapsed > 0 ? Math.round(s.records / elapsed) : 0,
          selected: this.stats.classify.selected,
        }) + '\n',
      );
    }
  }
}
