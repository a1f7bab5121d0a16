import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';

/** Files to create: path → content; content passed through gzip when `gzip` is set. */
export type TreeSpec = Record<string, string | Buffer | { gzip: string | Buffer }>;

/** Makes a temporary folder holding `spec`; `cleanup` removes it. */
export async function makeTree(spec: TreeSpec): Promise<{ root: string; cleanup: () => Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), 'auditreplay-test-'));
  for (const [path, content] of Object.entries(spec)) {
    const full = join(root, path);
    await mkdir(dirname(full), { recursive: true });
    const bytes = typeof content === 'string' || Buffer.isBuffer(content) ? content : gzipSync(content.gzip);
    await writeFile(full, bytes);
  }
  return { root, cleanup: () => rm(root, { recursive: true, force: true }) };
}

/** One Okera audit record as a JSON line; fields override the defaults. */
export function okeraLine(fields: Record<string, unknown>): string {
  const start = (fields.start_unix_time as number | undefined) ?? Date.UTC(2026, 10, 20, 10, 0, 0);
  return JSON.stringify({
    request_time: new Date(start).toISOString().replace('T', ' ').replace('Z', '000000'),
    request_id: `req-${start}`,
    start_unix_time: start,
    end_unix_time: start + 25,
    auth_failure: false,
    status: 'ok',
    user: 'alice',
    connected_user: 'alice',
    client_application: 'okera-execute-ddl',
    statement_type: 'QUERY',
    default_db: 'sales',
    statement: 'SELECT 1',
    ...fields,
  });
}

/** One PostgreSQL jsonlog record as a JSON line. */
export function pgJsonLine(fields: Record<string, unknown>): string {
  return JSON.stringify({
    timestamp: '2026-11-20 10:00:00.000 UTC',
    user: 'app',
    dbname: 'appdb',
    pid: 4242,
    session_id: '6736a1b2.1092',
    line_num: 1,
    error_severity: 'LOG',
    message: 'statement: SELECT 1',
    application_name: 'psql',
    backend_type: 'client backend',
    ...fields,
  });
}

/** Collects every item of a batched async iterable. */
export async function collect<T>(batches: AsyncIterable<T[]>): Promise<T[]> {
  const all: T[] = [];
  for await (const b of batches) all.push(...b);
  return all;
}
