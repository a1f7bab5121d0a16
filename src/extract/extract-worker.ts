/**
 * The worker-thread side of `extractInWorker`: runs extract and posts its batches, with
 * its rejects and counters, to the parent, no further ahead than the parent's credits.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Reject } from '../core/audit-event.js';
import { RejectLog } from '../ingest/reject-log.js';
import { extract, type ExtractOptions } from './extract-pipeline.js';
import type { WorkerMessage, ParentMessage } from './extract-in-worker.js';

const port = parentPort!;
const controller = new AbortController();
let credits = 0;
let wake: (() => void) | null = null;
port.on('message', (m: ParentMessage) => {
  if (m.type === 'credit') credits += m.n;
  else controller.abort();
  wake?.();
});

const post = (m: WorkerMessage): void => port.postMessage(m);
// The parent's reject log counts, warns and enforces --max-rejects; this one only passes rejects on.
const rejects = new RejectLog({ write: async (batch: Reject[]) => post({ type: 'rejects', batch }) });
const { events, stats } = extract({ ...(workerData as Omit<ExtractOptions, 'rejects' | 'signal'>), rejects, signal: controller.signal });

try {
  for await (const batch of events) {
    while (credits === 0 && !controller.signal.aborted) await new Promise<void>((resolve) => (wake = resolve));
    if (controller.signal.aborted) break;
    credits--;
    await rejects.flush();
    post({ type: 'batch', batch, stats });
  }
  await rejects.flush();
  post({ type: 'end', stats });
} catch (err) {
  const e = err as { code?: unknown; message?: unknown; name?: unknown; sqlState?: unknown };
  post({ type: 'error', code: typeof e?.code === 'string' ? e.code : null, name: String(e?.name ?? 'Error'), message: String(e?.message ?? err) });
}
