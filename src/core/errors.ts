/**
 * The one error type of auditreplay. `code` is stable and machine-readable; `cause`
 * keeps the underlying error; `sqlState` carries the target's SQLSTATE when there is one.
 */
export class AuditReplayError extends Error {
  readonly code: ErrorCode;
  readonly sqlState: string | undefined;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; sqlState?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AuditReplayError';
    this.code = code;
    this.sqlState = options.sqlState;
  }
}

export type ErrorCode =
  | 'usage'
  | 'bad-time'
  | 'source-not-found'
  | 'source-unsupported'
  /** Credentials missing, wrong or not allowed: not retried. */
  | 'source-auth'
  /** Storage kept failing after the retries the policy allows. */
  | 'source-failed'
  | 'format-unknown'
  | 'too-many-rejects'
  | 'sink-failed'
  /** An output to read back is not there. */
  | 'sink-not-found'
  /** The target refused the credentials or the user may not connect: not retried. */
  | 'target-auth'
  /** The target could not be reached, or the connection dropped mid-operation: retryable. */
  | 'target-lost'
  /** A statement failed on the target; `sqlState` says why. */
  | 'target-failed'
  /** The target cannot do what was asked (e.g. a second database on PGlite). */
  | 'target-unsupported'
  /** Another sync holds the target's lock. */
  | 'target-busy'
  /** Sync stopped at a statement that failed on the target (`--on-error stop`). */
  | 'sync-halted'
  /** `verify` found the two catalogs different. */
  | 'drift'
  | 'aborted'
  | 'internal';

/** Exit codes of the CLI; the README documents them in one table. */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  tooManyRejects: 3,
  /** Credentials missing, wrong or not allowed: retrying will not help. */
  auth: 4,
  /** Another sync is running against the same target. */
  busy: 5,
  /** compare's gate failed: a regression, result mismatches or candidate-only errors, as the --fail-on flags ask. */
  gateFailed: 6,
  /** Stopped by SIGINT (Ctrl-C): 128 + 2. */
  interrupted: 130,
  /** Stopped by SIGTERM (Kubernetes stopping the pod): 128 + 15, after the graceful stop. */
  terminated: 143,
} as const;
