import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The one place that decides whether a failed call is worth trying again: storage calls
 * of every cloud (the SDKs' own retries are switched off so that this policy alone counts
 * attempts, backs off and gives up) and target connections that dropped.
 */
export interface RetryPolicy {
  /** Tries in all, the first included (default 6). */
  attempts: number;
  /** First backoff ceiling (default 200 ms); doubles each try. */
  baseDelayMs: number;
  /** Largest backoff ceiling (default 10 s). */
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseDelayMs: 200, maxDelayMs: 10_000 };

const RETRY_STATUS = new Set([408, 429, 500, 502, 503, 504]);
const RETRY_NAMES = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'RequestTimeout',
  'RequestTimeoutException',
  'InternalError',
  'ServiceUnavailable',
  'ServerBusy',
  'OperationTimedOut',
  'TimeoutError',
]);
const RETRY_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'ECONNABORTED',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'ServerBusy',
  'OperationTimedOut',
  'ResourceUnavailable',
]);

/** The HTTP status an SDK error carries, whichever SDK made it. */
export function httpStatus(err: unknown): number | null {
  const e = err as { $metadata?: { httpStatusCode?: number }; statusCode?: number; status?: number; code?: unknown; response?: { status?: number } };
  const status = e?.$metadata?.httpStatusCode ?? e?.statusCode ?? e?.status ?? e?.response?.status ?? (typeof e?.code === 'number' ? e.code : undefined);
  return typeof status === 'number' ? status : null;
}

/**
 * True for failures that may pass: throttling (429, 503 SlowDown), server errors (5xx),
 * timeouts and dropped connections. Authentication, permission and not-found errors,
 * and cancellation, are final.
 */
export function isRetryable(err: unknown): boolean {
  if (err === null || typeof err !== 'object') return false;
  const e = err as { name?: string; code?: unknown; message?: string; $retryable?: unknown; cause?: unknown };
  if (e.name === 'AbortError') return false;
  // A target's dropped connection may pass on a new one, and the ledger makes the retry safe.
  // Any other target error is the statement's own (even one whose message says "aborted").
  if (e.name === 'AuditReplayError' && typeof e.code === 'string' && e.code.startsWith('target-')) return e.code === 'target-lost';
  const status = httpStatus(err);
  if (status !== null) return RETRY_STATUS.has(status);
  if (typeof e.name === 'string' && RETRY_NAMES.has(e.name)) return true;
  if (typeof e.code === 'string' && RETRY_CODES.has(e.code)) return true;
  if (e.$retryable) return true;
  if (typeof e.message === 'string' && /socket hang up|premature close|aborted|other side closed/i.test(e.message)) return true;
  return e.cause !== undefined && e.cause !== err ? isRetryable(e.cause) : false;
}

/** A backoff with full jitter: uniform in [0, min(max, base · 2^retry)). */
export function backoffDelay(policy: RetryPolicy, retry: number, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry));
}

export interface RetryOptions {
  policy?: RetryPolicy;
  signal?: AbortSignal;
  /** Told of each retry, e.g. to count it in the summary. */
  onRetry?: (err: unknown, retry: number, delayMs: number) => void;
}

/**
 * Runs `op`, trying again on retryable failures (see `isRetryable`) with jittered
 * exponential backoff, up to `policy.attempts` tries (default 6). The last error is thrown.
 */
export async function withRetry<T>(op: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const policy = options.policy ?? DEFAULT_RETRY;
  for (let attempt = 1; ; attempt++) {
    try {
      return await op(attempt);
    } catch (err) {
      options.signal?.throwIfAborted();
      if (attempt >= policy.attempts || !isRetryable(err)) throw err;
      const delayMs = backoffDelay(policy, attempt - 1);
      options.onRetry?.(err, attempt, delayMs);
      await sleep(delayMs, undefined, options.signal ? { signal: options.signal } : {});
    }
  }
}
