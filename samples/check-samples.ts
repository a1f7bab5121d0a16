/**
 * Checks a generated sample tree independently of auditreplay's own readers:
 *
 *   npx tsx samples/check-samples.ts [dir]            structure and counts vs expected.json
 *   npx tsx samples/check-samples.ts [dir] --replay   also replays the PostgreSQL statements
 *
 * `--replay` needs PostgreSQL 15 binaries (initdb, pg_ctl, psql) on PATH or in
 * /usr/lib/postgresql/15/bin. It creates a throw-away cluster, applies every statement in
 * start-time order as the user and search_path of its session, and checks that each
 * succeeds or fails exactly as the log says (same SQLSTATE). When run as root it runs the
 * server as the `postgres` OS user.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

type Rec = Record<string, unknown>;

interface PgStatementSeen {
  start: number;
  order: number;
  session: string;
  user: string;
  db: string;
  sql: string;
  params: string[];
  ok: boolean;
  code: string;
}

const problems: string[] = [];
function problem(message: string): void {
  if (problems.length < 50) console.error(`  ! ${message}`);
  problems.push(message);
}

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(p));
    else out.push(p);
  }
  return out.sort();
}

function readLines(path: string): string[] {
  let buf = readFileSync(path);
  // Compression is recognised by content, not by name, as the readers must do it.
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) buf = gunzipSync(buf);
  const text = buf.toString('utf8');
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function parse(path: string, line: string, n: number): Rec | null {
  try {
    return JSON.parse(line) as Rec;
  } catch {
    problem(`${path}:${n}: not JSON`);
    return null;
  }
}

function pgTime(ts: unknown): number {
  return Date.parse(String(ts).replace(' UTC', 'Z').replace(' ', 'T'));
}

function checkOkera(root: string, expected: Rec | undefined): void {
  const files = listFiles(join(root, 'okera'));
  const starts = new Map<string, Rec>();
  const endings = new Map<string, Rec>();
  let records = 0;
  let ends = 0;
  let startRecords = 0;
  let failed = 0;
  for (const path of files) {
    const rel = relative(root, path);
    const day = /ymd=(\d{4}-\d{2}-\d{2})/.exec(rel)?.[1];
    if (day === undefined) problem(`${rel}: no ymd= partition in path`);
    let last = 0;
    readLines(path).forEach((line, i) => {
      const r = parse(rel, line, i + 1);
      if (r === null) return;
      records++;
      for (const field of ['request_time', 'request_id', 'start_unix_time', 'user', 'statement', 'statement_type']) {
        if (!(field in r)) problem(`${rel}:${i + 1}: missing ${field}`);
      }
      const start = Number(r['start_unix_time']);
      if (String(r['request_time']).slice(0, 23) !== new Date(start).toISOString().replace('T', ' ').slice(0, 23)) {
        problem(`${rel}:${i + 1}: request_time does not match start_unix_time`);
      }
      const written = 'end_unix_time' in r ? Number(r['end_unix_time']) : start;
      if (written + 30 < last) problem(`${rel}:${i + 1}: out of write order`);
      last = Math.max(last, written);
      if (day !== undefined && start < Date.parse(`${day}T00:00:00Z`) - 35 * 60_000) problem(`${rel}:${i + 1}: older than the lookback`);
      const id = String(r['request_id']);
      if (!('end_unix_time' in r)) {
        if ('status' in r) problem(`${rel}:${i + 1}: START record with a status`);
        startRecords++;
        starts.set(id, r);
        return;
      }
      ends++;
      if (r['status'] !== 'ok') failed++;
      if (endings.has(id)) problem(`${rel}:${i + 1}: second END for ${id}`);
      endings.set(id, r);
    });
  }
  // A START may sit in another planner's file, so pairs are matched over the whole tree.
  for (const [id, s] of starts) {
    const e = endings.get(id);
    if (e === undefined) problem(`okera: START ${id} has no END`);
    else if (s['request_time'] !== e['request_time'] || s['start_unix_time'] !== e['start_unix_time']) {
      problem(`okera: START/END disagree for ${id}`);
    }
  }
  console.log(`okera:    ${files.length} files, ${records} records, ${ends} requests, ${startRecords} START, ${failed} failed`);
  if (expected !== undefined) {
    if (expected['records'] !== records) problem(`okera: ${records} records, expected ${String(expected['records'])}`);
    if (expected['requests'] !== ends) problem(`okera: ${ends} requests, expected ${String(expected['requests'])}`);
    if (expected['failed'] !== failed) problem(`okera: ${failed} failed, expected ${String(expected['failed'])}`);
  }
}

const NOISE = /^(connection received|connection authorized|disconnection|checkpoint |AUDIT: )/;

function checkPostgres(root: string, expected: Rec | undefined): PgStatementSeen[] {
  const files = listFiles(join(root, 'postgres'));
  const lineNums = new Map<string, number>();
  const pending = new Map<string, { sql: string; params: string[]; start: number }>();
  const lastBind = new Map<string, { sql: string; params: string[] }>();
  const seen: PgStatementSeen[] = [];
  let records = 0;
  let lastTs = 0;
  const add = (r: Rec, start: number, sql: string, params: string[], ok: boolean, code: string): void => {
    seen.push({ start, order: seen.length, session: String(r['session_id']), user: String(r['user']), db: String(r['dbname']), sql, params, ok, code });
  };
  for (const path of files) {
    const rel = relative(root, path);
    const m = /(\d{4})\/(\d{2})\/(\d{2})\/postgresql-(\d{4}-\d{2}-\d{2})_(\d{2})\.json/.exec(rel);
    if (m === null || `${m[1]}-${m[2]}-${m[3]}` !== m[4]) problem(`${rel}: path does not follow YYYY/MM/DD/postgresql-YYYY-MM-DD_HH.json`);
    const fileStart = m === null ? 0 : Date.parse(`${m[4]}T${m[5]}:00:00Z`);
    readLines(path).forEach((line, i) => {
      const r = parse(rel, line, i + 1);
      if (r === null) return;
      records++;
      const where = `${rel}:${i + 1}`;
      const ts = pgTime(r['timestamp']);
      if (ts < lastTs) problem(`${where}: timestamp goes back`);
      if (ts < fileStart) problem(`${where}: timestamp before the file's rotation time`);
      lastTs = Math.max(lastTs, ts);
      const sid = String(r['session_id']);
      const ln = Number(r['line_num']);
      const prev = lineNums.get(sid);
      if (prev !== undefined && ln !== prev + 1) problem(`${where}: line_num ${ln} after ${prev} in ${sid}`);
      if (prev === undefined && ln !== 1) problem(`${where}: session ${sid} starts at line_num ${ln}`);
      lineNums.set(sid, ln);
      const msg = String(r['message']);
      const params = parseParams(r['detail']);
      if (r['error_severity'] === 'ERROR') {
        const sql = String(r['statement']);
        const p = pending.get(sid);
        const bind = lastBind.get(sid);
        const start = p !== undefined && p.sql === sql ? p.start : ts;
        add(r, start, sql, p?.sql === sql ? p.params : bind?.sql === sql ? bind.params : [], false, String(r['state_code']));
        pending.delete(sid);
        lastBind.delete(sid);
        return;
      }
      if (NOISE.test(msg)) return;
      const parseOrBind = /^duration: ([\d.]+) ms {2}(parse|bind) [^:]+: ([\s\S]*)$/.exec(msg);
      if (parseOrBind !== null) {
        if (parseOrBind[2] === 'bind') lastBind.set(sid, { sql: parseOrBind[3]!, params });
        return;
      }
      const finished = /^duration: ([\d.]+) ms {2}(?:statement|execute [^:]+): ([\s\S]*)$/.exec(msg);
      if (finished !== null) {
        add(r, ts - Number(finished[1]), finished[2]!, params, true, '00000');
        return;
      }
      const started = /^(?:statement|execute [^:]+): ([\s\S]*)$/.exec(msg);
      if (started !== null) {
        if (pending.has(sid)) problem(`${where}: new statement while one is pending in ${sid}`);
        pending.set(sid, { sql: started[1]!, params, start: ts });
        return;
      }
      if (/^duration: ([\d.]+) ms$/.test(msg)) {
        const p = pending.get(sid);
        if (p === undefined) problem(`${where}: duration without a statement in ${sid}`);
        else add(r, p.start, p.sql, p.params, true, '00000');
        pending.delete(sid);
        return;
      }
      problem(`${where}: unexpected message ${msg.slice(0, 60)}`);
    });
  }
  if (pending.size > 0) problem(`postgres: ${pending.size} statements never finished`);
  const failed = seen.filter((s) => !s.ok).length;
  console.log(`postgres: ${files.length} files, ${records} records, ${seen.length} statements, ${failed} failed, ${lineNums.size} sessions`);
  if (expected !== undefined) {
    if (expected['records'] !== records) problem(`postgres: ${records} records, expected ${String(expected['records'])}`);
    if (expected['statements'] !== seen.length) problem(`postgres: ${seen.length} statements, expected ${String(expected['statements'])}`);
    if (expected['failed'] !== failed) problem(`postgres: ${failed} failed, expected ${String(expected['failed'])}`);
  }
  return seen;
}

function parseParams(detail: unknown): string[] {
  if (typeof detail !== 'string' || !detail.startsWith('parameters: ')) return [];
  const out: string[] = [];
  const re = /\$(\d+) = (NULL|'((?:[^']|'')*)')/g;
  for (let m = re.exec(detail); m !== null; m = re.exec(detail)) out[Number(m[1]) - 1] = m[2] === 'NULL' ? 'NULL' : m[2]!;
  return out;
}

function inline(sql: string, params: string[]): string {
  return sql.replace(/\$(\d+)/g, (whole, n: string) => params[Number(n) - 1] ?? whole);
}

function pgBin(name: string): string {
  const local = `/usr/lib/postgresql/15/bin/${name}`;
  return existsSync(local) ? local : name;
}

/** Applies the statements to a fresh cluster; returns the number of mismatches. */
function replay(statements: PgStatementSeen[]): void {
  const asRoot = process.getuid?.() === 0;
  const base = mkdtempSync(join(tmpdir(), 'auditreplay-pgcheck-'));
  const data = join(base, 'data');
  const port = String(54_000 + (process.pid % 1000));
  const run = (cmd: string, args: string[], input?: string): string => {
    const full = asRoot ? ['-u', 'postgres', '--', cmd, ...args] : args;
    return execFileSync(asRoot ? 'runuser' : cmd, full, { input, encoding: 'utf8', cwd: base, stdio: ['pipe', 'pipe', 'pipe'] });
  };
  if (asRoot) chownSync(base, uidOf('postgres'), gidOf('postgres'));
  try {
    run(pgBin('initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
    run(pgBin('pg_ctl'), ['-D', data, '-o', `-p ${port} -k ${base} -c listen_addresses=''`, '-w', '-l', join(base, 'server.log'), 'start']);
    for (const db of ['appdb', 'reporting']) run(pgBin('psql'), ['-h', base, '-p', port, '-U', 'postgres', '-d', 'postgres', '-qc', `CREATE DATABASE ${db}`]);
    const sorted = [...statements].sort((a, b) => a.start - b.start || a.order - b.order);
    const searchPaths = new Map<string, string>();
    let mismatches = 0;
    for (const db of ['appdb', 'reporting']) {
      const mine = sorted.filter((s) => s.db === db);
      const script: string[] = ['\\set ON_ERROR_STOP off', '\\set QUIET on'];
      mine.forEach((s, i) => {
        script.push('RESET ROLE;', `SET search_path TO ${searchPaths.get(s.session) ?? '"$user", public'};`, `SET ROLE ${s.user};`);
        script.push(`${inline(s.sql, s.params).replace(/;\s*$/, '')};`, `\\echo @@ ${i} :SQLSTATE`);
        const sp = /^SET search_path TO (.+)$/i.exec(s.sql);
        if (sp !== null && s.ok) searchPaths.set(s.session, sp[1]!);
      });
      const res = spawnSync(asRoot ? 'runuser' : pgBin('psql'), [...(asRoot ? ['-u', 'postgres', '--', pgBin('psql')] : []), '-h', base, '-p', port, '-U', 'postgres', '-d', db, '-X', '-f', '-'], {
        input: script.join('\n') + '\n',
        encoding: 'utf8',
        cwd: base,
        maxBuffer: 64 * 1024 * 1024,
      });
      const states = new Map<number, string>();
      for (const line of res.stdout.split('\n')) {
        const m = /^@@ (\d+) (\w+)$/.exec(line);
        if (m !== null) states.set(Number(m[1]), m[2]!);
      }
      mine.forEach((s, i) => {
        const got = states.get(i) ?? 'none';
        const want = s.ok ? '00000' : s.code;
        if (got !== want) {
          mismatches++;
          problem(`replay ${db}: ${s.user} got ${got}, log says ${want}: ${s.sql.slice(0, 100).replace(/\n/g, ' ')}`);
        }
      });
      console.log(`replay:   ${db}: ${mine.length} statements applied as logged users, ${mine.filter((s) => !s.ok).length} expected failures`);
    }
    if (mismatches === 0) console.log('replay:   every statement behaved as logged');
  } finally {
    try {
      run(pgBin('pg_ctl'), ['-D', data, '-m', 'immediate', 'stop']);
    } catch {
      // The cluster may not have started; nothing to stop then.
    }
    rmSync(base, { recursive: true, force: true });
  }
}

function uidOf(user: string): number {
  return Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
}

function gidOf(user: string): number {
  return Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
}

function main(): void {
  const args = process.argv.slice(2);
  const here = dirname(fileURLToPath(import.meta.url));
  const root = resolve(args.find((a) => !a.startsWith('--')) ?? join(here, 'logs'));
  if (!existsSync(root) || !statSync(root).isDirectory()) throw new Error(`no such directory: ${root}`);
  const expectedPath = join(here, 'expected.json');
  const expected =
    root === join(here, 'logs') && existsSync(expectedPath) ? (JSON.parse(readFileSync(expectedPath, 'utf8')) as Rec) : undefined;
  console.log(`checking ${root}${expected ? ' against expected.json' : ''}`);
  checkOkera(root, expected?.['okera'] as Rec | undefined);
  const statements = checkPostgres(root, expected?.['postgres'] as Rec | undefined);
  if (args.includes('--replay')) replay(statements);
  if (args.includes('--dump')) writeFileSync(join(tmpdir(), 'auditreplay-pg-statements.json'), JSON.stringify(statements, null, 1));
  console.log(problems.length === 0 ? 'OK' : `${problems.length} problem(s)`);
  process.exitCode = problems.length === 0 ? 0 : 1;
}

main();
