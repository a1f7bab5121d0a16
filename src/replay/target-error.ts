import { AuditReplayError } from '../core/errors.js';

/** SQLSTATEs that mean the connection, not the statement, failed: class 08 and the shutdown codes. */
const LOST_STATES = /^(08...|57P01|57P02|57P03)$/;
const AUTH_STATES = /^(28...|3D000|42501)$/;
const LOST_MESSAGES = /Connection terminated|connection (was )?(lost|closed)|ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|socket hang up|timeout expired|Client has encountered a connection error/i;

/** The SQLSTATE a driver error carries (pg and PGlite both put it in `code`). */
export function sqlStateOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** True when the error says the connection is gone, so the operation may be retried on a new one. */
export function isConnectionLost(err: unknown): boolean {
  if (err instanceof AuditReplayError) return err.code === 'target-lost';
  const state = sqlStateOf(err);
  if (state) return LOST_STATES.test(state);
  const e = err as { code?: unknown; message?: unknown } | null;
  return (typeof e?.code === 'string' && /^E[A-Z]+$/.test(e.code)) || (typeof e?.message === 'string' && LOST_MESSAGES.test(e.message));
}

/**
 * Wraps a driver error in an AuditReplayError that keeps the SQLSTATE: `target-lost`
 * for dropped connections, `target-auth` when connecting was refused, `target-failed`
 * otherwise. `what` says what was being done ("connecting to db", "running CREATE TABLE").
 */
export function targetError(err: unknown, what: string, connecting = false): AuditReplayError {
  if (err instanceof AuditReplayError) return err;
  const state = sqlStateOf(err);
  const message = (err as Error)?.message ?? String(err);
  if (isConnectionLost(err)) {
    return new AuditReplayError('target-lost', `${what}: connection lost: ${message}`, { cause: err, ...(state ? { sqlState: state } : {}) });
  }
  if (connecting && state && AUTH_STATES.test(state)) {
    return new AuditReplayError('target-auth', `${what}: ${message} (SQLSTATE ${state})`, { cause: err, sqlState: state });
  }
  return new AuditReplayError('target-failed', `${what}: ${message}${state ? ` (SQLSTATE ${state})` : ''}`, {
    cause: err,
    ...(state ? { sqlState: state } : {}),
  });
}
