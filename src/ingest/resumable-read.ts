import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelay, DEFAULT_RETRY, isRetryable, withRetry, type RetryOptions } from '../core/retry.js';

/**
 * Reads an object as one stream even when the connection drops midway: on a retryable
 * failure it opens the object again with a ranged read from the first byte not yet
 * passed on, so no byte is repeated or skipped. `open(offset)` must return the bytes
 * from `offset` on (a `Range: bytes=offset-` request). Every reopen counts against the
 * retry policy, the same one listings use.
 */
export function resumableRead(open: (offset: number) => Promise<Readable>, options: RetryOptions & { onResume?: (offset: number, err: unknown) => void } = {}): Readable {
  let delivered = 0;
  let current: Readable | null = null;
  async function* bytes(): AsyncGenerator<Buffer> {
    // Attempts count failures in a row: a read that made progress starts the count again,
    // so a long object on a flaky link is not failed for breaks spread over hours.
    for (let attempt = 1; ; attempt++) {
      const from = delivered;
      current = await withRetry(() => open(delivered), options);
      try {
        for await (const chunk of current) {
          const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
          delivered += b.length;
          yield b;
        }
        return;
      } catch (err) {
        options.signal?.throwIfAborted();
        const policy = options.policy ?? DEFAULT_RETRY;
        if (delivered > from) attempt = 1;
        if (attempt >= policy.attempts || !isRetryable(err)) throw err;
        options.onResume?.(delivered, err);
        await sleep(backoffDelay(policy, attempt - 1), undefined, options.signal ? { signal: options.signal } : {});
      } finally {
        current.destroy();
      }
    }
  }
  return Readable.from(bytes(), { objectMode: false });
}
