import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chown, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The PostgreSQL major version the helper installs and runs. */
export const PG_VERSION = 15;
/** Debian's binaries for that version (not on PATH: /usr/bin holds version-picking wrappers). */
export const PG_BIN = `/usr/lib/postgresql/${PG_VERSION}/bin`;
const PGAUDIT_LIB = `/usr/lib/postgresql/${PG_VERSION}/lib/pgaudit.so`;

/** A setting value as postgresql.conf takes it; strings are quoted by the helper. */
export type PgSetting = string | number | boolean;

export interface StartPostgresOptions {
  /** postgresql.conf settings on top of the helper's own (port, sockets, logging collector, no fsync). */
  settings?: Record<string, PgSetting>;
  /** Debian packages needed besides postgresql-15 (default `postgresql-15-pgaudit` when pgaudit is preloaded). */
  packages?: string[];
  /**
   * pg_hba.conf lines put before initdb's trust lines (first match wins), e.g.
   * `host all alice 127.0.0.1/32 scram-sha-256` to make one user need a password.
   */
  hbaLines?: string[];
  /**
   * Files written into the data directory before the server starts, owned by the
   * server's OS user with mode 0600 (as a TLS key must be): name -> content, e.g.
   * `{'server.key': key, 'server.crt': cert}` with settings `ssl_cert_file: 'server.crt'`.
   */
  dataFiles?: Record<string, string>;
}

export interface PsqlOptions {
  database?: string;
  user?: string;
  /** Shown as application_name in the logs, so a test can tell its sessions apart. */
  applicationName?: string;
  /** Stop at the first error (default false: psql goes on, as a workload with failing statements needs). */
  onErrorStop?: boolean;
}

export interface PsqlResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface PostgresCluster {
  host: '127.0.0.1';
  port: number;
  /** The cluster's data directory (owned by the `postgres` OS user when run as root). */
  dataDir: string;
  /** Where the logging collector writes (`log_directory`). */
  logDir: string;
  /** `postgres://postgres@127.0.0.1:PORT/DATABASE` (trust authentication on loopback). */
  url(database?: string): string;
  /** Runs a script through psql (`-X -f -`), one session; resolves with its exit code and output. */
  psql(sql: string, options?: PsqlOptions): Promise<PsqlResult>;
  /** Runs a script and fails with psql's output unless it exits 0. */
  sql(sql: string, options?: PsqlOptions): Promise<string>;
  /** The log files written so far, full paths, sorted. */
  logFiles(): Promise<string[]>;
  /** Stops the server (fast shutdown) and waits for the logging collector to write out the logs; the files stay. Idempotent. */
  stop(): Promise<void>;
  /** Stops the server and removes every file of the cluster. */
  destroy(): Promise<void>;
}

let aptUpdated = false;

/**
 * Installs PostgreSQL 15 and the given Debian packages when they are missing
 * (`apt-get update` once per process, then `apt-get install -y`). Needs root; without it
 * a missing package is an error that says what to install.
 */
export function ensurePostgres(packages: readonly string[] = ['postgresql-15-pgaudit']): void {
  const missing = [`postgresql-${PG_VERSION}`, ...packages].filter((p) => !debianPackageInstalled(p));
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`PostgreSQL test needs Debian packages ${missing.join(' ')}; install them (apt-get install -y ${missing.join(' ')}) or run as root`);
  }
  aptInstall(missing);
}

/** Installs Debian packages with apt-get (update once per process). */
export function aptInstall(packages: readonly string[]): void {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Another process installing at the same time holds dpkg's lock: wait for it rather than fail.
  const wait = ['-o', 'DPkg::Lock::Timeout=600'];
  if (!aptUpdated) {
    execFileSync('apt-get', [...wait, 'update'], { stdio: ['ignore', 'ignore', 'inherit'], env });
    aptUpdated = true;
  }
  execFileSync('apt-get', [...wait, 'install', '-y', '--no-install-recommends', ...packages], { stdio: ['ignore', 'ignore', 'inherit'], env });
}

/** True when dpkg lists the package as installed. */
export function debianPackageInstalled(name: string): boolean {
  if (name === `postgresql-${PG_VERSION}`) return existsSync(join(PG_BIN, 'initdb'));
  if (name === `postgresql-${PG_VERSION}-pgaudit`) return existsSync(PGAUDIT_LIB);
  try {
    const status = execFileSync('dpkg-query', ['-W', '-f=${Status}', name], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    return status.includes('install ok installed');
  } catch {
    return false;
  }
}

/** A port nobody listens on right now, on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function quoteSetting(value: PgSetting): string {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  return `'${value.replace(/'/g, "''")}'`;
}

/** Runs a PostgreSQL server binary as the `postgres` OS user when we are root (initdb and postgres refuse root). */
function asPostgres(command: string, args: string[]): { file: string; args: string[] } {
  if (process.getuid?.() !== 0) return { file: command, args };
  return { file: 'runuser', args: ['-u', 'postgres', '--', command, ...args] };
}

function run(file: string, args: string[], options: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<PsqlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: { ...process.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'], cwd: options.cwd ?? tmpdir() });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    // A program that exits without reading its input (pg_ctl on an error) closes the pipe: its exit code says what happened.
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });
}

/** The pids of the postmaster's children whose command line says `logger` (the logging collector). */
async function loggerPids(dataDir: string): Promise<number[]> {
  const postmaster = Number((await readFile(join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      // The command name is in parentheses and may hold spaces: the parent pid is the second field after it.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== postmaster) continue;
      const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes('logger')) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

async function waitForExit(pids: number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const pid of pids) {
    while (existsSync(`/proc/${pid}`)) {
      if (Date.now() > deadline) throw new Error(`the logging collector (pid ${pid}) did not exit within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

async function runChecked(file: string, args: string[], what: string): Promise<void> {
  const r = await run(file, args);
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}): ${r.stderr || r.stdout}`);
}

/**
 * Starts a throwaway PostgreSQL 15 cluster (initdb + pg_ctl) on a free loopback port,
 * installing the packages first if they are missing. The helper sets the port, a private
 * socket directory, `logging_collector=on` with `log_directory` in the cluster's temp dir
 * and `log_filename='postgresql.log'` (so csvlog and jsonlog go to `postgresql.csv` and
 * `postgresql.json`), trust authentication on loopback, and no fsync; `settings` add to
 * or override these. Run as root, the cluster runs as the `postgres` OS user.
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresCluster> {
  const settings = options.settings ?? {};
  const preload = String(settings.shared_preload_libraries ?? '');
  ensurePostgres(options.packages ?? (preload.includes('pgaudit') ? [`postgresql-${PG_VERSION}-pgaudit`] : []));

  const root = await mkdtemp(join(tmpdir(), 'auditreplay-pg-'));
  const dataDir = join(root, 'data');
  const logDir = join(root, 'log');
  const socketDir = join(root, 'socket');
  await mkdir(logDir);
  await mkdir(socketDir);
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    for (const dir of [root, logDir, socketDir]) await chown(dir, uid, gid);
  }
  const initdb = asPostgres(join(PG_BIN, 'initdb'), ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  try {
    await runChecked(initdb.file, initdb.args, 'initdb');
  } catch (err) {
    await rm(root, { recursive: true, force: true });
    throw err;
  }

  if (options.hbaLines?.length) {
    const hba = join(dataDir, 'pg_hba.conf');
    await writeFile(hba, `${options.hbaLines.join('\n')}\n${await readFile(hba, 'utf8')}`);
  }
  for (const [name, content] of Object.entries(options.dataFiles ?? {})) {
    const file = join(dataDir, name);
    await writeFile(file, content, { mode: 0o600 });
    if (process.getuid?.() === 0) {
      await chown(file, Number(execFileSync('id', ['-u', 'postgres']).toString().trim()), Number(execFileSync('id', ['-g', 'postgres']).toString().trim()));
    }
  }

  const port = await freePort();
  const conf: Record<string, PgSetting> = {
    port,
    listen_addresses: '127.0.0.1',
    unix_socket_directories: socketDir,
    logging_collector: true,
    log_directory: logDir,
    log_filename: 'postgresql.log',
    log_rotation_age: 0,
    log_rotation_size: 0,
    fsync: false,
    synchronous_commit: false,
    full_page_writes: false,
    ...settings,
  };
  const lines = Object.entries(conf).map(([k, v]) => `${k} = ${quoteSetting(v)}`);
  await writeFile(join(dataDir, 'postgresql.auto.conf'), `${lines.join('\n')}\n`);

  const pgCtl = (args: string[]) => asPostgres(join(PG_BIN, 'pg_ctl'), ['-D', dataDir, ...args]);
  const start = pgCtl(['-w', '-t', '60', '-l', join(root, 'pg_ctl.log'), 'start']);
  try {
    await runChecked(start.file, start.args, `pg_ctl start (see ${join(root, 'pg_ctl.log')} and ${logDir})`);
  } catch (err) {
    await rm(root, { recursive: true, force: true });
    throw err;
  }

  let running = true;
  const psql = (sql: string, o: PsqlOptions = {}): Promise<PsqlResult> =>
    run(
      join(PG_BIN, 'psql'),
      ['-X', '-q', '-h', '127.0.0.1', '-p', String(port), '-U', o.user ?? 'postgres', '-d', o.database ?? 'postgres', '-v', `ON_ERROR_STOP=${o.onErrorStop ? 1 : 0}`, '-f', '-'],
      { input: sql, env: { PGAPPNAME: o.applicationName ?? 'psql', PGCONNECT_TIMEOUT: '10' } },
    );
  const stop = async (): Promise<void> => {
    if (!running) return;
    running = false;
    // pg_ctl returns once the postmaster is gone, but the logging collector writes what is
    // still in its pipe after that: wait for it too, or the last records may be missing.
    const loggers = await loggerPids(dataDir).catch(() => []);
    const c = pgCtl(['-m', 'fast', '-w', '-t', '60', 'stop']);
    await runChecked(c.file, c.args, 'pg_ctl stop');
    await waitForExit(loggers, 30_000);
  };
  return {
    host: '127.0.0.1',
    port,
    dataDir,
    logDir,
    url: (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`,
    psql,
    async sql(text, o) {
      const r = await psql(text, { ...o, onErrorStop: true });
      if (r.code !== 0) throw new Error(`psql failed (exit ${r.code}): ${r.stderr}`);
      return r.stdout;
    },
    async logFiles() {
      return (await readdir(logDir)).sort().map((f) => join(logDir, f));
    },
    stop,
    async destroy() {
      try {
        await stop();
      } finally {
        await rm(root, { recursive: true, force: true });
      }
    },
  };
}

export interface ToolResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a PostgreSQL client tool of PG_BIN (pgbench, psql, pg_dump, ...) as `postgres` over TCP loopback. */
export function runPgTool(cluster: Pick<PostgresCluster, 'host' | 'port'>, tool: string, args: readonly string[]): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(PG_BIN, tool), ['-h', cluster.host, '-p', String(cluster.port), '-U', 'postgres', ...args], {
      cwd: tmpdir(),
      env: { ...process.env, PGCONNECT_TIMEOUT: '10' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
