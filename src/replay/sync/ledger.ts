import type { TargetSession } from '../target.js';
import { quoteLiteral } from './sql-names.js';

/** Our schema in the target: it holds what sync applied, and where each source stopped. */
export const LEDGER_SCHEMA = 'auditreplay';

/**
 * One row per statement sync has dealt with. `status`: `applied`; `skipped` (failed on
 * the secondary under --on-error skip, so a rerun does not try it again); `pending`
 * (a non-transactional statement about to run: after a crash the catalog decides).
 */
const LEDGER_DDL = `
CREATE SCHEMA IF NOT EXISTS ${LEDGER_SCHEMA};
CREATE TABLE IF NOT EXISTS ${LEDGER_SCHEMA}.applied (
  source text NOT NULL,
  id text NOT NULL,
  ts timestamptz NOT NULL,
  fingerprint_id text,
  statement_hash text NOT NULL,
  status text NOT NULL CHECK (status IN ('applied', 'skipped', 'pending')),
  sql_state text,
  error text,
  applied_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  duration_ms double precision,
  run_id text,
  PRIMARY KEY (source, id)
);
CREATE TABLE IF NOT EXISTS ${LEDGER_SCHEMA}.checkpoint (
  source text PRIMARY KEY,
  ts timestamptz NOT NULL,
  id text NOT NULL,
  run_id text,
  updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
REVOKE ALL ON SCHEMA ${LEDGER_SCHEMA} FROM PUBLIC;`;

export type LedgerStatus = 'applied' | 'skipped' | 'pending';

export interface LedgerRow {
  id: string;
  status: LedgerStatus;
  statementHash: string;
}

export interface Checkpoint {
  ts: number;
  id: string;
}

/** Creates the ledger schema and tables when missing (idempotent; callers hold the sync lock). */
export async function ensureLedger(session: TargetSession): Promise<void> {
  await session.exec(LEDGER_DDL);
}

/** Whether the ledger exists in this database, without creating it (for --dry-run). */
export async function ledgerExists(session: TargetSession): Promise<boolean> {
  const res = await session.query<{ ok: boolean }>(`SELECT to_regclass('${LEDGER_SCHEMA}.applied') IS NOT NULL AS ok`);
  return res.rows[0]?.ok === true;
}

/** The ledger rows of these ids (one round trip; ids not in the ledger are absent from the map). */
export async function lookupLedger(session: TargetSession, source: string, ids: readonly string[]): Promise<Map<string, LedgerRow>> {
  const found = new Map<string, LedgerRow>();
  if (ids.length === 0) return found;
  const res = await session.query<{ id: string; status: LedgerStatus; statement_hash: string }>(
    `SELECT id, status, statement_hash FROM ${LEDGER_SCHEMA}.applied WHERE source = $1 AND id = ANY($2::text[])`,
    [source, ids],
  );
  for (const r of res.rows) found.set(r.id, { id: r.id, status: r.status, statementHash: r.statement_hash });
  return found;
}

/** Where the last run of this source stopped, or null on the first run. */
export async function readCheckpoint(session: TargetSession, source: string): Promise<Checkpoint | null> {
  const res = await session.query<{ ms: number | string; id: string }>(
    `SELECT extract(epoch FROM ts) * 1000 AS ms, id FROM ${LEDGER_SCHEMA}.checkpoint WHERE source = $1`,
    [source],
  );
  const row = res.rows[0];
  return row ? { ts: Math.round(Number(row.ms)), id: row.id } : null;
}

export interface LedgerEntry {
  id: string;
  ts: number;
  fingerprintId: string | null;
  statementHash: string;
  status: LedgerStatus;
  sqlState?: string | null;
  error?: string | null;
}

/** A quoted SQL literal or NULL (standard_conforming_strings is on in every supported server). */
function literal(value: string | null | undefined): string {
  return value === null || value === undefined ? 'NULL' : quoteLiteral(value);
}

function tsLiteral(ms: number): string {
  return `to_timestamp(${(ms / 1000).toFixed(6)})`;
}

/**
 * SQL that records an entry, for scripts sent in one round trip. `duration` is an SQL
 * expression (interval) or null. A row already there is overwritten: that is how a
 * `pending` row becomes `applied`.
 */
export function recordSql(source: string, runId: string, e: LedgerEntry, duration: string | null): string {
  const durationMs = duration === null ? 'NULL' : `extract(epoch FROM ${duration}) * 1000`;
  return (
    `INSERT INTO ${LEDGER_SCHEMA}.applied (source, id, ts, fingerprint_id, statement_hash, status, sql_state, error, duration_ms, run_id) VALUES (` +
    `${literal(source)}, ${literal(e.id)}, ${tsLiteral(e.ts)}, ${literal(e.fingerprintId)}, ${literal(e.statementHash)}, ${literal(e.status)}, ` +
    `${literal(e.sqlState)}, ${literal(e.error)}, ${durationMs}, ${literal(runId)}) ` +
    `ON CONFLICT (source, id) DO UPDATE SET status = EXCLUDED.status, sql_state = EXCLUDED.sql_state, error = EXCLUDED.error, ` +
    `applied_at = EXCLUDED.applied_at, duration_ms = EXCLUDED.duration_ms, run_id = EXCLUDED.run_id;`
  );
}

/**
 * SQL that moves the checkpoint forward (never back in time: a rerun of an older window
 * keeps the newer one). Within one millisecond the runner's own order decides.
 */
export function checkpointSql(source: string, runId: string, at: Checkpoint): string {
  return (
    `INSERT INTO ${LEDGER_SCHEMA}.checkpoint AS c (source, ts, id, run_id) VALUES (${literal(source)}, ${tsLiteral(at.ts)}, ${literal(at.id)}, ${literal(runId)}) ` +
    `ON CONFLICT (source) DO UPDATE SET ts = EXCLUDED.ts, id = EXCLUDED.id, run_id = EXCLUDED.run_id, updated_at = clock_timestamp() ` +
    `WHERE c.ts <= EXCLUDED.ts;`
  );
}

/** Removes a `pending` row whose statement failed, so the rerun tries it afresh. */
export function forgetSql(source: string, id: string): string {
  return `DELETE FROM ${LEDGER_SCHEMA}.applied WHERE source = ${literal(source)} AND id = ${literal(id)} AND status = 'pending';`;
}
