import type { Reject, RejectReason } from '../core/audit-event.js';
import { AuditReplayError } from '../core/errors.js';

const MAX_RAW = 64 * 1024;

/** Where rejects are written; the JSONL sink fits, and so does an in-memory array in tests. */
export interface RejectWriter {
  write(batch: Reject[]): Promise<void>;
}

/**
 * Counts rejects by reason, keeps them until the pipeline flushes them to the rejects
 * output, and turns a flood into a clear failure once `maxRejects` is passed.
 */
export class RejectLog {
  readonly byReason: Partial<Record<RejectReason, number>> = {};
  total = 0;
  private buffer: Reject[] = [];

  /**
   * @param writer where rejects go (none: they are only counted and the first ones warned about)
   * @param maxRejects how many are tolerated before the run fails (default: no limit)
   * @param warn called for the first `warnLimit` rejects (default 10) so a person sees them
   */
  constructor(
    private readonly writer: RejectWriter | null,
    private readonly maxRejects = Infinity,
    private readonly warn: (message: string) => void = () => {},
    private readonly warnLimit = 10,
  ) {}

  add(reject: Omit<Reject, 'raw' | 'rawEncoding'>, raw: string | Buffer | null): void {
    this.total++;
    this.byReason[reject.reason] = (this.byReason[reject.reason] ?? 0) + 1;
    if (this.total <= this.warnLimit) {
      this.warn(`reject: ${reject.object}:${reject.line}: ${reject.reason}: ${reject.message}`);
      if (this.total === this.warnLimit) this.warn('reject: further rejects are counted in the summary and written to --rejects');
    }
    if (this.writer) this.buffer.push({ ...reject, ...encodeRaw(raw) });
    if (this.total > this.maxRejects) {
      throw new AuditReplayError(
        'too-many-rejects',
        `more than ${this.maxRejects} rejects (--max-rejects); last: ${reject.object}:${reject.line}: ${reject.message}`,
      );
    }
  }

  /** Writes what was collected since the last flush. */
  async flush(): Promise<void> {
    if (!this.writer || this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    await this.writer.write(batch);
  }
}

function encodeRaw(raw: string | Buffer | null): Pick<Reject, 'raw' | 'rawEncoding'> {
  if (raw === null) return { raw: null };
  if (typeof raw === 'string') return { raw: raw.length > MAX_RAW ? raw.slice(0, MAX_RAW) : raw, rawEncoding: 'utf8' };
  return { raw: raw.subarray(0, MAX_RAW).toString('base64'), rawEncoding: 'base64' };
}
