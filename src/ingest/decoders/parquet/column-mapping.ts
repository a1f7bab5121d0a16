import { AuditReplayError } from '../../../core/errors.js';
import type { LeafColumn } from './parquet-footer.js';

/** The event fields a column can fill; `--columns field=column,...` names them. */
export const FIELDS = ['id', 'statement', 'ts', 'end', 'durationMs', 'user', 'database', 'session', 'client', 'ok', 'error'] as const;
export type Field = (typeof FIELDS)[number];

/** Other names `--columns` accepts for a field. */
const ALIASES: Readonly<Record<string, Field>> = { status: 'ok', duration: 'durationMs', start: 'ts', db: 'database' };

/** The columns of a known audit table, used when a file has its signature columns. */
export interface ColumnSet {
  name: string;
  /** Columns whose presence identifies the table. */
  signature: readonly string[];
  /** Candidate columns per field: the first one the file has is read, the next when a row's value is empty. */
  fields: Readonly<Partial<Record<Field, readonly string[]>>>;
  /** Columns kept in `extra` (lower-cased) when present. */
  extra: readonly string[];
  /** A column holding the start time with more digits; it wins where it agrees with the start time to the millisecond. */
  precise?: string;
}

/**
 * An export of Okera's `okera_system.audit_logs`: the same columns as its JSON audit
 * log, read as the okera decoder reads them: `start_unix_time` (epoch ms), refined by
 * `request_time` (GMT text with ns digits) where the two agree and replaced by it where
 * it is empty; `status` is `ok` or the error.
 */
export const OKERA_COLUMNS: ColumnSet = {
  name: 'okera',
  signature: ['request_id', 'statement'],
  fields: {
    id: ['request_id'],
    statement: ['statement'],
    ts: ['start_unix_time', 'request_time'],
    end: ['end_unix_time'],
    ok: ['status'],
    user: ['user'],
    database: ['default_db'],
    session: ['session_id'],
    client: ['client_application'],
  },
  extra: ['connected_user', 'statement_type', 'ae_database', 'ae_table', 'ae_view', 'ae_role', 'auth_failure', 'client_network_address'],
  precise: 'request_time',
};

/**
 * A dump of Snowflake's `ACCOUNT_USAGE.QUERY_HISTORY` (or the INFORMATION_SCHEMA
 * function): `EXECUTION_STATUS` is SUCCESS, FAIL or INCIDENT (RUNNING and QUEUED for
 * statements not ended), `TOTAL_ELAPSED_TIME` is in ms, `SCHEMA_NAME` goes to `extra`.
 */
export const SNOWFLAKE_COLUMNS: ColumnSet = {
  name: 'snowflake',
  signature: ['QUERY_ID', 'QUERY_TEXT'],
  fields: {
    id: ['QUERY_ID'],
    statement: ['QUERY_TEXT'],
    ts: ['START_TIME'],
    end: ['END_TIME'],
    durationMs: ['TOTAL_ELAPSED_TIME'],
    ok: ['EXECUTION_STATUS'],
    error: ['ERROR_MESSAGE'],
    user: ['USER_NAME'],
    database: ['DATABASE_NAME'],
    session: ['SESSION_ID'],
  },
  extra: ['SCHEMA_NAME', 'QUERY_TYPE', 'ROLE_NAME', 'WAREHOUSE_NAME', 'QUERY_TAG', 'ERROR_CODE', 'ROWS_PRODUCED', 'BYTES_SCANNED'],
};

export const COLUMN_SETS: readonly ColumnSet[] = [OKERA_COLUMNS, SNOWFLAKE_COLUMNS];

/**
 * Reads `--columns` (field → column) into fields; field names are case-insensitive and
 * `status` stands for `ok`. An unknown field is a usage error, not a per-object reject:
 * it would fail every object alike.
 */
export function fieldMapping(columns: Readonly<Record<string, string>> | undefined): Partial<Record<Field, string>> {
  const out: Partial<Record<Field, string>> = {};
  for (const [key, column] of Object.entries(columns ?? {})) {
    const lower = key.trim().toLowerCase();
    const field = FIELDS.find((f) => f.toLowerCase() === lower) ?? ALIASES[lower];
    if (!field) throw new AuditReplayError('usage', `--columns: unknown field '${key}'; fields: ${FIELDS.join(', ')} (status stands for ok)`);
    out[field] = column;
  }
  return out;
}

/** Which columns fill which fields in one file. */
export interface Mapping {
  /** The known table recognised, or null when `--columns` alone maps the file. */
  set: string | null;
  fields: Partial<Record<Field, LeafColumn[]>>;
  extra: LeafColumn[];
  /** The known table's more precise start time column, unless --columns maps ts. */
  precise: LeafColumn | null;
  /** Every column to read, each once. */
  needed: LeafColumn[];
}

/**
 * Maps a file's columns to fields: the known table whose signature the file has
 * (matched case-insensitively), overridden field by field by `--columns`. A file
 * must yield a statement and a start time; without an id column the id is made from
 * the object and row.
 */
export function resolveMapping(columns: readonly LeafColumn[], user: Partial<Record<Field, string>>): Mapping | { problem: string } {
  const exact = new Map<string, LeafColumn>();
  const folded = new Map<string, LeafColumn>();
  for (const c of columns) {
    exact.set(c.name, c);
    if (!folded.has(c.name.toLowerCase())) folded.set(c.name.toLowerCase(), c);
  }
  const find = (name: string) => exact.get(name) ?? folded.get(name.toLowerCase());
  const set = COLUMN_SETS.find((s) => s.signature.every((name) => find(name) !== undefined)) ?? null;
  const fields: Partial<Record<Field, LeafColumn[]>> = {};
  for (const field of FIELDS) {
    const named = user[field];
    if (named !== undefined) {
      const column = find(named);
      if (!column) return { problem: `--columns maps ${field} to '${named}', which this file lacks; ${listColumns(columns)}` };
      if (column.nested) return { problem: `--columns maps ${field} to '${named}', a column inside a group or list; map a top-level column` };
      fields[field] = [column];
      continue;
    }
    const found = (set?.fields[field] ?? []).map(find).filter((c): c is LeafColumn => c !== undefined && !c.nested);
    if (found.length > 0) fields[field] = found;
  }
  const missing = (['statement', 'ts'] as const).filter((f) => !fields[f]);
  if (missing.length > 0) {
    const known = COLUMN_SETS.map((s) => `${s.name} (${s.signature.join(', ')})`).join(' or ');
    return {
      problem:
        `no column holds the ${missing.join(' and ')}: the file is no known audit table (${known}) and --columns does not map ` +
        `${missing.map((f) => `${f}=<column>`).join(',')}; ${listColumns(columns)}`,
    };
  }
  const extra = (set?.extra ?? []).map(find).filter((c): c is LeafColumn => c !== undefined && !c.nested);
  const preciseColumn = user.ts === undefined && set?.precise !== undefined ? find(set.precise) : undefined;
  const precise = preciseColumn && !preciseColumn.nested ? preciseColumn : null;
  const needed = [...new Set([...Object.values(fields).flat(), ...extra, ...(precise ? [precise] : [])])];
  return { set: set?.name ?? null, fields, extra, precise, needed };
}

function listColumns(columns: readonly LeafColumn[]): string {
  const names = columns.slice(0, 40).map((c) => c.name);
  return `its columns: ${names.join(', ')}${columns.length > names.length ? `, … (${columns.length} in all)` : ''}`;
}
