import { AuditReplayError } from '../core/errors.js';

/**
 * SQLSTATEs that mean the connection, not the statement, failed: class 08, the shutdown
 * codes, and too_many_connections (a later attempt may find a free slot).
 */
const LOST_STATES = /^(08...|57P01|57P02|57P03|53300)$/;
const AUTH_STATES = /^(28...|3D000|42501)$/;
const LOST_MESSAGES =
  /Connection terminated|connection (was )?(lost|closed)|ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|socket hang up|timeout expired|Client has encountered a connection error|Client was closed and is not queryable|PGlite is closed/i;
/** What node-postgres says when the server wants a password and none was given. */
const NO_PASSWORD = /client password must be a string|password must be a string|no password (was )?(supplied|given)/i;
/** Node's codes for a server certificate that failed the check sslmode asked for. */
const TLS_REJECTED = /^(ERR_TLS_CERT_ALTNAME_INVALID|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|CERT_[A-Z_]+|ERR_SSL_[A-Z_]+)$/;

/** The SQLSTATE a driver error carries (pg and PGlite both put it in `code`). */
export function sqlStateOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** True for an AbortSignal's own error (a DOMException or Error named AbortError). */
export function isAbortError(err: unknown): boolean {
  return (err as { name?: unknown } | null)?.name === 'AbortError';
}

/**
 * The error for an aborted operation: the signal's reason when it already is an
 * AuditReplayError (the CLI aborts with one), else an `aborted` one that keeps it as cause.
 */
export function abortedError(reason: unknown, what: string): AuditReplayError {
  // "cancelled", not "aborted": the retry policy reads "aborted" in a message as a dropped transfer.
  return reason instanceof AuditReplayError ? reason : new AuditReplayError('aborted', `${what}: cancelled`, { cause: reason });
}

/** True when the error says the connection is gone, so the operation may be retried on a new one. */
export function isConnectionLost(err: unknown): boolean {
  if (err instanceof AuditReplayError) return err.code === 'target-lost';
  const state = sqlStateOf(err);
  if (state) return LOST_STATES.test(state);
  const e = err as { code?: unknown; message?: unknown } | null;
  return (typeof e?.code === 'string' && /^E[A-Z]+$/.test(e.code)) || (typeof e?.message === 'string' && LOST_MESSAGES.test(e.message));
}

/** True when a TLS handshake failed because the server's certificate did not pass the check. */
export function isTlsRejection(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && TLS_REJECTED.test(code);
}

/**
 * Wraps a driver error in an AuditReplayError that keeps the SQLSTATE: `aborted` for
 * an AbortSignal, `target-lost` for dropped connections, `target-auth` when connecting
 * was refused (credentials, missing password, a server certificate that failed the
 * check), `target-failed` otherwise. `what` says what was being done ("connecting to
 * db", "running CREATE TABLE"); `connecting` (default false) says the connection was
 * being opened.
 */
export function targetError(err: unknown, what: string, connecting = false): AuditReplayError {
  if (err instanceof AuditReplayError) return err;
  const state = sqlStateOf(err);
  const message = (err as Error | null)?.message ?? String(err);
  if (isAbortError(err)) return abortedError(err, what);
  if (isTlsRejection(err)) {
    return new AuditReplayError('target-auth', `${what}: the server's TLS certificate was rejected: ${message}`, { cause: err });
  }
  if (isConnectionLost(err)) {
    return new AuditReplayError('target-lost', `${what}: connection lost: ${message}`, { cause: err, ...(state ? { sqlState: state } : {}) });
  }
  if (connecting && state && AUTH_STATES.test(state)) {
    return new AuditReplayError('target-auth', `${what}: ${message} (SQLSTATE ${state})`, { cause: err, sqlState: state });
  }
  if (connecting && NO_PASSWORD.test(message)) {
    return new AuditReplayError(
      'target-auth',
      `${what}: the server asks for a password and none was given (put it in the URL, PGPASSWORD or the password file: PGPASSFILE, else ~/.pgpass, mode 0600)`,
      { cause: err },
    );
  }
  return new AuditReplayError('target-failed', `${what}: ${message}${state ? ` (SQLSTATE ${state})` : ''}`, {
    cause: err,
    ...(state ? { sqlState: state } : {}),
  });
}
