import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { AuditEvent, Reject } from '../core/audit-event.js';
import { AuditReplayError, type ErrorCode } from '../core/errors.js';
import { extract, newExtractStats, type ExtractOptions, type ExtractStats } from './extract-pipeline.js';

/** Parent to worker. */
export type ParentMessage = { type: 'credit'; n: number } | { type: 'stop' };
/** Worker to parent. */
export type WorkerMessage =
  | { type: 'batch'; batch: AuditEvent[]; stats: ExtractStats }
  | { type: 'rejects'; batch: Reject[] }
  | { type: 'end'; stats: ExtractStats }
  | { type: 'error'; code: string | null; name: string; message: string };

const WORKER = new URL('./extract-worker.js', import.meta.url);

/**
 * `extract` on a worker thread, for a consumer whose own work is latency-bound (replay
 * answers four connections from one thread): decoding, ordering, classifying and
 * fingerprinting run beside it instead of between its round trips. Same events, same
 * counters (updated with each batch), rejects passed on to `options.rejects`. At most
 * `ahead` batches (default 4) wait in flight, so memory stays bounded. The source must
 * be a URL (options cross threads by copy; `onRetry` is not called). Where the compiled
 * worker is not there (running from the TypeScript sources), it runs in this thread.
 */
export function extractInWorker(options: ExtractOptions & { source: string }, ahead = 4): { events: AsyncIterable<AuditEvent[]>; stats: ExtractStats } {
  if (!WORKER.pathname.endsWith('.js') || !existsSync(fileURLToPath(WORKER))) return extract(options);
  const { rejects, signal, sourceOptions, ...rest } = options;
  const shared = { ...rest, ...(sourceOptions ? { sourceOptions: { ...sourceOptions, onRetry: undefined } } : {}) };
  const stats = newExtractStats();

  async function* run(): AsyncGenerator<AuditEvent[]> {
    signal?.throwIfAborted();
    const worker = new Worker(WORKER, { workerData: shared });
    const queue: WorkerMessage[] = [];
    let failure: unknown = null;
    let ended = false;
    let wake: (() => void) | null = null;
    const notify = (): void => {
      wake?.();
      wake = null;
    };
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'rejects') {
        try {
          for (const r of m.batch) rejects.addReject(r);
        } catch (err) {
          failure ??= err;
        }
      } else queue.push(m);
      notify();
    });
    worker.on('error', (err) => {
      failure ??= err;
      notify();
    });
    worker.on('exit', () => {
      ended = true;
      notify();
    });
    const onAbort = (): void => {
      failure ??= signal!.reason;
      notify();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.postMessage({ type: 'credit', n: ahead } satisfies ParentMessage);
    try {
      for (;;) {
        if (failure !== null) throw failure;
        const m = queue.shift();
        if (!m) {
          if (ended) throw new AuditReplayError('internal', 'the extract worker stopped without finishing');
          await new Promise<void>((resolve) => (wake = resolve));
          continue;
        }
        if (m.type === 'error') {
          throw new AuditReplayError((m.code ?? 'internal') as ErrorCode, m.message);
        }
        if (m.type === 'rejects') continue;
        copyStats(stats, m.stats);
        await rejects.flush();
        if (m.type === 'end') return;
        worker.postMessage({ type: 'credit', n: 1 } satisfies ParentMessage);
        yield m.batch;
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      worker.postMessage({ type: 'stop' } satisfies ParentMessage);
      await worker.terminate();
    }
  }
  return { events: run(), stats };
}

function copyStats(to: ExtractStats, from: ExtractStats): void {
  Object.assign(to.ingest, from.ingest);
  Object.assign(to.classify, from.classify);
  to.duplicates = from.duplicates;
  to.late = from.late;
}
