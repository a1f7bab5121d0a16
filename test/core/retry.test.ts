import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { resumableRead } from '../../src/ingest/resumable-read.js';
import { backoffDelay, isRetryable, withRetry, type RetryPolicy } from '../../src/core/retry.js';

const FAST: RetryPolicy = { attempts: 4, baseDelayMs: 1, maxDelayMs: 5 };
const status = (code: number, name = 'Error') => Object.assign(new Error(`HTTP ${code}`), { name, $metadata: { httpStatusCode: code } });

describe('retry policy', () => {
  it('retries throttling, server errors and dropped connections', () => {
    expect(isRetryable(status(503, 'SlowDown'))).toBe(true);
    expect(isRetryable(status(429))).toBe(true);
    expect(isRetryable(Object.assign(new Error('x'), { statusCode: 500 }))).toBe(true); // Azure RestError
    expect(isRetryable(Object.assign(new Error('x'), { code: 503 }))).toBe(true); // GCS ApiError
    expect(isRetryable(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isRetryable(new Error('socket hang up'))).toBe(true);
    expect(isRetryable(new Error('wrapped', { cause: Object.assign(new Error('t'), { code: 'ETIMEDOUT' }) }))).toBe(true);
  });

  it('gives up at once on authentication, permission, not-found and cancellation', () => {
    for (const code of [400, 401, 403, 404, 412]) expect(isRetryable(status(code))).toBe(false);
    expect(isRetryable(Object.assign(new Error('stop'), { name: 'AbortError' }))).toBe(false);
    expect(isRetryable(new Error('bad things'))).toBe(false);
    expect(isRetryable('a string')).toBe(false);
  });

  it('backs off with full jitter under a growing ceiling', () => {
    const policy: RetryPolicy = { attempts: 6, baseDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffDelay(policy, 0, () => 0.999)).toBe(99);
    expect(backoffDelay(policy, 3, () => 0.5)).toBe(400);
    expect(backoffDelay(policy, 10, () => 0.999)).toBe(999);
    expect(backoffDelay(policy, 2, () => 0)).toBe(0);
  });

  it('tries until the operation passes, counting each retry', async () => {
    const retries: number[] = [];
    let calls = 0;
    const result = await withRetry(
      async () => {
        if (++calls < 3) throw status(503, 'SlowDown');
        return 'ok';
      },
      { policy: FAST, onRetry: (_e, n) => retries.push(n) },
    );
    expect(result).toBe('ok');
    expect(retries).toEqual([1, 2]);
  });

  it('stops after the last attempt and throws the last error', async () => {
    let calls = 0;
    await expect(
      withRetry(async () => {
        calls++;
        throw status(503);
      }, { policy: FAST }),
    ).rejects.toThrow('HTTP 503');
    expect(calls).toBe(4);
  });

  it('does not retry a final error', async () => {
    let calls = 0;
    await expect(
      withRetry(async () => {
        calls++;
        throw status(403);
      }, { policy: FAST }),
    ).rejects.toThrow('HTTP 403');
    expect(calls).toBe(1);
  });
});

describe('resumableRead', () => {
  const data = Buffer.from(Array.from({ length: 10_000 }, (_, i) => `line ${i}\n`).join(''));

  /** A stream of `data` from `offset` that fails with ECONNRESET after `cutAfter` bytes. */
  function cutting(offset: number, cutAfter: number): Readable {
    const bytes = data.subarray(offset);
    return Readable.from(
      (async function* () {
        for (let i = 0; i < bytes.length; i += 1000) {
          if (i >= cutAfter) throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
          yield bytes.subarray(i, Math.min(i + 1000, bytes.length));
        }
      })(),
    );
  }

  async function readAll(r: Readable): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const c of r) parts.push(c as Buffer);
    return Buffer.concat(parts);
  }

  it('resumes from the first byte not yet passed on, so no byte is repeated or lost', async () => {
    const offsets: number[] = [];
    const out = await readAll(
      resumableRead(
        async (offset) => {
          offsets.push(offset);
          return cutting(offset, offsets.length < 3 ? 25_000 : Infinity);
        },
        { policy: FAST },
      ),
    );
    expect(out.equals(data)).toBe(true);
    expect(offsets).toEqual([0, 25_000, 50_000]);
  });

  it('starts counting again after a read that made progress, so breaks spread over a long object are survived', async () => {
    let opens = 0;
    const out = await readAll(
      resumableRead(
        async (offset) => {
          opens++;
          return cutting(offset, offset + 10_000 < data.length ? 10_000 : Infinity);
        },
        { policy: FAST },
      ),
    );
    expect(out.equals(data)).toBe(true);
    expect(opens).toBeGreaterThan(FAST.attempts);
  });

  it('fails with the last error when the object keeps breaking', async () => {
    await expect(readAll(resumableRead(async (offset) => cutting(offset, 0), { policy: FAST }))).rejects.toThrow('ECONNRESET');
  });

  it('does not retry an error that is final', async () => {
    let opens = 0;
    await expect(
      readAll(
        resumableRead(async () => {
          opens++;
          throw status(403, 'AccessDenied');
        }, { policy: FAST }),
      ),
    ).rejects.toThrow('HTTP 403');
    expect(opens).toBe(1);
  });
});
