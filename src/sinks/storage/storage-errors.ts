import { AuditReplayError } from '../../core/errors.js';
import { httpStatus } from '../../core/retry.js';

/** A source's error as the sink reports it: a missing object is `sink-not-found`, anything else `sink-failed`. */
export function asSinkError(err: unknown): unknown {
  if (!(err instanceof AuditReplayError) || !err.code.startsWith('source-')) return err;
  return new AuditReplayError(err.code === 'source-not-found' ? 'sink-not-found' : 'sink-failed', err.message, { cause: err });
}

/** False for a clear refusal (a 4xx answer other than 408/429), after which nothing was committed. */
export function mayHaveTakenEffect(err: unknown): boolean {
  const status = httpStatus(err instanceof AuditReplayError ? err.cause : err);
  return status === null || status >= 500 || status === 408 || status === 429;
}
