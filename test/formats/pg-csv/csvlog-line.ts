/** The csvlog columns of PostgreSQL 14 to 17, in order. */
export const CSVLOG_COLUMNS = [
  'log_time',
  'user_name',
  'database_name',
  'process_id',
  'connection_from',
  'session_id',
  'session_line_num',
  'command_tag',
  'session_start_time',
  'virtual_transaction_id',
  'transaction_id',
  'error_severity',
  'sql_state_code',
  'message',
  'detail',
  'hint',
  'internal_query',
  'internal_query_pos',
  'context',
  'query',
  'query_pos',
  'location',
  'application_name',
  'backend_type',
  'leader_pid',
  'query_id',
] as const;

export type CsvlogColumn = (typeof CSVLOG_COLUMNS)[number];

/** Columns PostgreSQL writes as quoted CSV literals when they have a value. */
const QUOTED = new Set<string>([
  'user_name',
  'database_name',
  'connection_from',
  'command_tag',
  'message',
  'detail',
  'hint',
  'internal_query',
  'context',
  'query',
  'location',
  'application_name',
  'backend_type',
]);

/**
 * One csvlog record as PostgreSQL 15 writes it (text quoted with `""` escapes, numbers and
 * times bare, absent values empty); fields override the defaults. A message with
 * newlines makes a record of several lines.
 */
export function csvlogRecord(fields: Partial<Record<CsvlogColumn, string | number | null>>): string {
  const values: Record<string, string | number | null> = {
    log_time: '2026-11-20 10:00:00.000 UTC',
    user_name: 'app',
    database_name: 'appdb',
    process_id: 4242,
    connection_from: '10.0.0.7:51234',
    session_id: '6736a1b2.1092',
    session_line_num: 1,
    command_tag: 'idle',
    session_start_time: '2026-11-20 09:59:58 UTC',
    virtual_transaction_id: '3/42',
    transaction_id: 0,
    error_severity: 'LOG',
    sql_state_code: '00000',
    message: 'statement: SELECT 1',
    detail: null,
    hint: null,
    internal_query: null,
    internal_query_pos: null,
    context: null,
    query: null,
    query_pos: null,
    location: null,
    application_name: 'psql',
    backend_type: 'client backend',
    leader_pid: null,
    query_id: 0,
    ...fields,
  };
  return CSVLOG_COLUMNS.map((c) => {
    const v = values[c];
    if (v === null || v === undefined) return '';
    return QUOTED.has(c) ? `"${String(v).replace(/"/g, '""')}"` : String(v);
  }).join(',');
}

/** Records as the lines of a file (a multi-line record gives several). */
export function csvlogLines(...records: string[]): string[] {
  return records.join('\n').split('\n');
}
