import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditReplayError } from '../../src/core/errors.js';
import type { Target } from '../../src/replay/target.js';
import { openTarget } from '../../src/replay/target-registry.js';
import { freePort, startPostgres, type PostgresCluster } from '../helpers/postgres-server.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { targetContract } from './target-contract.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const LONG = 600_000;

async function rejection(p: Promise<unknown>): Promise<AuditReplayError> {
  try {
    await p;
  } catch (err) {
    return err as AuditReplayError;
  }
  throw new Error('expected a rejection, but it resolved');
}

/** Runs `fn` with environment variables set (undefined removes one), restoring them after. */
async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const apply = (v: Record<string, string | undefined>): void => {
    for (const [k, val] of Object.entries(v)) {
      if (val === undefined) Reflect.deleteProperty(process.env, k);
      else process.env[k] = val;
    }
  };
  apply(vars);
  try {
    return await fn();
  } finally {
    apply(saved);
  }
}

/** Polls until `check` holds, failing after `ms`. */
async function eventually(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const SCRAM_USER = 'scram_user';
const SCRAM_PASSWORD = 'Pw-s3cret-7f9q';
let plain: PostgresCluster;
let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'auditreplay-targets-'));
  // The scram line comes before initdb's trust lines: only this user needs a password.
  plain = await startPostgres({ hbaLines: [`host all ${SCRAM_USER} 127.0.0.1/32 scram-sha-256`] });
  await plain.sql(`CREATE ROLE ${SCRAM_USER} LOGIN PASSWORD '${SCRAM_PASSWORD}'`);
}, LONG);

afterAll(async () => {
  await plain?.destroy();
  await rm(scratch, { recursive: true, force: true });
});

targetContract('PostgreSQL 15', async () => ({ target: await openTarget(plain.url()), cleanup: async () => {} }));
targetContract('PGlite in memory', async () => ({ target: await openTarget('pglite://memory'), cleanup: async () => {} }));
targetContract('PGlite on disk', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'auditreplay-pglite-'));
  return { target: await openTarget(`pglite://${dir}`), cleanup: () => rm(dir, { recursive: true, force: true }) };
});

describe('a PostgreSQL target', () => {
  it('shows application_name auditreplay in pg_stat_activity unless the URL names another', async () => {
    const appName = async (target: Target): Promise<string> => {
      const s = await target.connect();
      try {
        return (await s.query<{ a: string }>('SELECT application_name AS a FROM pg_stat_activity WHERE pid = pg_backend_pid()')).rows[0]!.a;
      } finally {
        await target.close();
      }
    };
    expect(await appName(await openTarget(plain.url()))).toBe('auditreplay');
    expect(await appName(await openTarget(plain.url(), { applicationName: 'nightly-sync' }))).toBe('nightly-sync');
    expect(await appName(await openTarget(`${plain.url()}?application_name=from-url`, { applicationName: 'nightly-sync' }))).toBe('from-url');
  });

  it('fails fast with target-lost when nothing listens on the port', async () => {
    const port = await freePort();
    const target = await openTarget(`postgres://postgres:${SCRAM_PASSWORD}@127.0.0.1:${port}/postgres`);
    const started = Date.now();
    const err = await rejection(target.connect());
    expect(Date.now() - started).toBeLessThan(5000);
    expect(err.code).toBe('target-lost');
    expect(target.url).not.toContain(SCRAM_PASSWORD);
    expect(err.message).not.toContain(SCRAM_PASSWORD);
    expect(err.stack).not.toContain(SCRAM_PASSWORD);
  });

  it('reports a database that does not exist as target-auth with SQLSTATE 3D000', async () => {
    const target = await openTarget(plain.url('no_such_db'));
    const err = await rejection(target.connect());
    expect([err.code, err.sqlState]).toEqual(['target-auth', '3D000']);
  });

  describe('with a user that needs a scram-sha-256 password', () => {
    const url = (password?: string): string =>
      `postgres://${SCRAM_USER}${password === undefined ? '' : `:${encodeURIComponent(password)}`}@127.0.0.1:${plain.port}/postgres`;
    const noPasswordEnv = () => ({ PGPASSWORD: undefined, PGPASSFILE: join(scratch, 'absent.pgpass') });

    async function whoAmI(target: Target): Promise<string> {
      const s = await target.connect();
      try {
        return (await s.query<{ u: string }>('SELECT current_user AS u')).rows[0]!.u;
      } finally {
        await target.close();
      }
    }

    it('connects with the password from the URL and keeps it out of target.url', async () => {
      await withEnv(noPasswordEnv(), async () => {
        const target = await openTarget(url(SCRAM_PASSWORD));
        expect(target.url).toBe(`postgres://${SCRAM_USER}@127.0.0.1:${plain.port}/postgres`);
        expect(await whoAmI(target)).toBe(SCRAM_USER);
      });
    });

    it('connects with the password from a password= parameter and keeps it out of target.url', async () => {
      await withEnv(noPasswordEnv(), async () => {
        const target = await openTarget(`${url()}?password=${SCRAM_PASSWORD}&sslmode=disable`);
        expect(target.url).not.toContain(SCRAM_PASSWORD);
        expect(await whoAmI(target)).toBe(SCRAM_USER);
      });
    });

    it('connects with the password from PGPASSWORD', async () => {
      await withEnv({ ...noPasswordEnv(), PGPASSWORD: SCRAM_PASSWORD }, async () => {
        expect(await whoAmI(await openTarget(url()))).toBe(SCRAM_USER);
      });
    });

    it('connects with the password from the file PGPASSFILE names, and ignores that file when others may read it', async () => {
      const file = join(scratch, 'pgpass');
      await writeFile(file, `# host:port:db:user:password\n127.0.0.1:${plain.port}:*:someone_else:wrong\n*:${plain.port}:postgres:${SCRAM_USER}:${SCRAM_PASSWORD.replace(/:/g, '\\:')}\n`, {
        mode: 0o600,
      });
      await chmod(file, 0o600);
      await withEnv({ PGPASSWORD: undefined, PGPASSFILE: file }, async () => {
        expect(await whoAmI(await openTarget(url()))).toBe(SCRAM_USER);
        await chmod(file, 0o644);
        const err = await rejection(whoAmI(await openTarget(url())));
        expect(err.code).toBe('target-auth');
      });
    });

    it('reports a wrong password as target-auth without showing the password', async () => {
      await withEnv(noPasswordEnv(), async () => {
        const wrong = 'Not-the-Pw-91x';
        const target = await openTarget(url(wrong));
        const err = await rejection(target.connect());
        expect([err.code, err.sqlState]).toEqual(['target-auth', '28P01']);
        expect(err.message).toContain('password authentication failed');
        for (const text of [err.message, err.stack ?? '', String((err.cause as Error)?.stack)]) {
          expect(text).not.toContain(wrong);
          expect(text).not.toContain(SCRAM_PASSWORD);
        }
      });
    });

    it('reports a missing password as target-auth saying where a password may come from', async () => {
      await withEnv(noPasswordEnv(), async () => {
        const err = await rejection((await openTarget(url())).connect());
        expect(err.code).toBe('target-auth');
        expect(err.message).toMatch(/none was given.*PGPASSWORD.*PGPASSFILE/);
      });
    });
  });

  describe('when the connection dies', () => {
    let proxy: TcpProxy;
    let target: Target;

    beforeAll(async () => {
      proxy = await startTcpProxy(plain.port);
      target = await openTarget(`postgres://postgres@127.0.0.1:${proxy.port}/postgres?sslmode=disable`);
    });

    afterAll(async () => {
      await target?.close();
      await proxy?.close();
    });

    it('reports a connection cut between statements as target-lost, and the session as not alive', async () => {
      const s = await target.connect();
      expect((await s.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      proxy.dropAll();
      await eventually(() => !s.alive);
      const err = await rejection(s.query('SELECT 1'));
      expect(err.code).toBe('target-lost');
      await s.close();
    });

    it('reports a connection cut during a statement as target-lost', async () => {
      const s = await target.connect();
      const running = rejection(s.query('SELECT pg_sleep(20)'));
      await new Promise((r) => setTimeout(r, 200));
      proxy.dropAll();
      const err = await running;
      expect(err.code).toBe('target-lost');
      expect(s.alive).toBe(false);
      await s.close();
    });

    it('reports a connection cut in the middle of a stream as target-lost', async () => {
      const s = await target.connect();
      let batches = 0;
      const err = await rejection(
        (async () => {
          for await (const _batch of s.stream('SELECT g FROM generate_series(1, 1000000) g', [], { batchSize: 500 })) {
            if (++batches === 2) proxy.dropAll();
          }
        })(),
      );
      expect(err.code).toBe('target-lost');
      expect(batches).toBe(2);
      expect(s.alive).toBe(false);
      await s.close();
    });

    it('reports a connection cut while the startup message is sent as target-lost', async () => {
      const cut = await startTcpProxy(plain.port);
      try {
        cut.cutAfterBytes(20);
        const err = await rejection((await openTarget(`postgres://postgres@127.0.0.1:${cut.port}/postgres?sslmode=disable`)).connect());
        expect(err.code).toBe('target-lost');
      } finally {
        await cut.close();
      }
    });

    it('reports a backend ended by pg_terminate_backend as target-lost', async () => {
      const victim = await target.connect();
      const pid = (await victim.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      const killer = await openTarget(plain.url());
      try {
        const k = await killer.connect();
        await k.query('SELECT pg_terminate_backend($1)', [pid]);
      } finally {
        await killer.close();
      }
      const err = await rejection(victim.query('SELECT 1'));
      expect(err.code).toBe('target-lost');
      expect(victim.alive).toBe(false);
    });
  });

  it('cancels a running statement on the server when its AbortSignal fires', async () => {
    const target = await openTarget(plain.url());
    try {
      const s = await target.connect();
      const controller = new AbortController();
      const started = Date.now();
      setTimeout(() => controller.abort(), 300);
      const err = await rejection(s.query('SELECT pg_sleep(30)', [], { signal: controller.signal }));
      expect(err.code).toBe('aborted');
      expect(Date.now() - started).toBeLessThan(10_000);
      expect((await s.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await target.close();
    }
  });

  it('keeps the settings of the startup packet as the session defaults that RESET ALL and DISCARD ALL return to', async () => {
    const target = await openTarget(plain.url());
    try {
      const s = await target.connect({ settings: { default_transaction_read_only: 'on', lock_timeout: '1500ms' } });
      const ro = async (): Promise<unknown> => (await s.query("SELECT current_setting('default_transaction_read_only') AS ro, current_setting('lock_timeout') AS lt")).rows[0];
      await s.exec('SET default_transaction_read_only = off; SET lock_timeout = 0; RESET ALL');
      expect(await ro()).toEqual({ ro: 'on', lt: '1500ms' });
      await s.exec('SET default_transaction_read_only = off');
      await s.exec('DISCARD ALL');
      expect(await ro()).toEqual({ ro: 'on', lt: '1500ms' });
    } finally {
      await target.close();
    }
  });

  it('streams a 300 MB result through execute in constant memory', async () => {
    const target = await openTarget(plain.url());
    try {
      const s = await target.connect();
      global.gc?.();
      const before = process.memoryUsage().rss;
      let peak = before;
      let rows = 0;
      let bytes = 0;
      const res = await s.execute("SELECT g, repeat('x', 1000) AS pad FROM generate_series(1, 300000) g", {
        onRows: (batch) => {
          rows += batch.length;
          for (const r of batch) bytes += r[1]!.length;
          peak = Math.max(peak, process.memoryUsage().rss);
        },
      });
      expect([res.rowCount, rows, bytes]).toEqual([300_000, 300_000, 300_000_000]);
      // Buffered, the result would need 300 MB of strings and more for the rows around them.
      expect(peak - before).toBeLessThan(120 * 1024 * 1024);
    } finally {
      await target.close();
    }
  }, 120_000);

  it('reports sslmode=require against a server without TLS as target-unsupported, and prefer falls back to a plain connection', async () => {
    const err = await rejection((await openTarget(`${plain.url()}?sslmode=require`)).connect());
    expect(err.code).toBe('target-unsupported');
    const target = await openTarget(plain.url());
    try {
      const s = await target.connect();
      expect((await s.query('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()')).rows).toEqual([{ ssl: false }]);
    } finally {
      await target.close();
    }
  });
});

describe('a PostgreSQL target over TLS', () => {
  let tlsCluster: PostgresCluster;
  let serverCa: string;
  let otherCa: string;

  /** A self-signed certificate for CN=localhost with SAN DNS:localhost only: checking the name of 127.0.0.1 fails. */
  function selfSigned(name: string): { key: string; cert: string; certFile: string } {
    const keyFile = join(scratch, `${name}.key`);
    const certFile = join(scratch, `${name}.crt`);
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'], {
      stdio: 'ignore',
    });
    return { key: execFileSync('cat', [keyFile]).toString(), cert: execFileSync('cat', [certFile]).toString(), certFile };
  }

  beforeAll(async () => {
    // Precondition: openssl on PATH makes the certificates.
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    const server = selfSigned('server');
    serverCa = server.certFile;
    otherCa = selfSigned('other').certFile;
    tlsCluster = await startPostgres({
      dataFiles: { 'server.key': server.key, 'server.crt': server.cert },
      settings: { ssl: true, ssl_cert_file: 'server.crt', ssl_key_file: 'server.key' },
    });
  }, LONG);

  afterAll(async () => {
    await tlsCluster?.destroy();
  });

  async function sslOf(url: string): Promise<boolean> {
    const target = await openTarget(url);
    try {
      const s = await target.connect();
      return (await s.query<{ ssl: boolean }>('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()')).rows[0]!.ssl;
    } finally {
      await target.close();
    }
  }

  const at = (host: string, query: string): string => `postgres://postgres@${host}:${tlsCluster.port}/postgres?${query}`;

  it('encrypts with sslmode=require without checking the certificate', async () => {
    expect(await sslOf(at('127.0.0.1', 'sslmode=require'))).toBe(true);
  });

  it('encrypts by default (prefer) and not with sslmode=disable', async () => {
    expect(await sslOf(at('127.0.0.1', ''))).toBe(true);
    expect(await sslOf(at('127.0.0.1', 'sslmode=disable'))).toBe(false);
  });

  it('connects with verify-full when the root certificate and the host name match', async () => {
    expect(await sslOf(at('localhost', `sslmode=verify-full&sslrootcert=${encodeURIComponent(serverCa)}`))).toBe(true);
  });

  it('connects with verify-ca to a host the certificate does not name, and verify-full refuses it', async () => {
    expect(await sslOf(at('127.0.0.1', `sslmode=verify-ca&sslrootcert=${encodeURIComponent(serverCa)}`))).toBe(true);
    const err = await rejection(sslOf(at('127.0.0.1', `sslmode=verify-full&sslrootcert=${encodeURIComponent(serverCa)}`)));
    expect(err.code).toBe('target-auth');
    expect(err.message).toMatch(/certificate was rejected.*127\.0\.0\.1/);
  });

  it('refuses a server whose certificate another CA signed, with a clear error', async () => {
    for (const mode of ['verify-full', 'verify-ca', 'require']) {
      const err = await rejection(sslOf(at('localhost', `sslmode=${mode}&sslrootcert=${encodeURIComponent(otherCa)}`)));
      expect(err.code).toBe('target-auth');
      expect(err.message).toMatch(/TLS certificate was rejected: self[- ]signed certificate/);
    }
  });
});

describe('a PGlite target on disk', () => {
  // One test, as each engine start costs seconds: persistence, and the lock seen from this process and from another.
  it('keeps its data across close and open, and is busy to a second opener until the holder closes it or dies', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'auditreplay-pglite-'));
    const url = `pglite://${dir}`;
    let child: ChildProcess | undefined;
    try {
      const first = await openTarget(url);
      const s = await first.connect();
      await s.exec("CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')");
      const sameProcess = await rejection(openTarget(url));
      expect(sameProcess.code).toBe('target-busy');
      expect(sameProcess.message).toContain('this process');
      await first.close();
      await expect(readFile(`${dir}.lock`, 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });

      // Another process takes the lock as PgliteTarget.open does (from the dist/ the global setup built): a second engine would only slow the test.
      const lockModule = join(ROOT, 'dist/replay/targets/pglite/lock-file.js');
      const holder = `const { acquireLockFile } = await import(${JSON.stringify(lockModule)}); await acquireLockFile(process.argv[1] + '.lock', process.argv[1]); process.stdout.write('locked\\n'); setInterval(() => {}, 1000);`;
      child = spawn(process.execPath, ['--input-type=module', '-e', holder, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve, reject) => {
        child!.stdout!.on('data', (d: Buffer) => d.toString().includes('locked') && resolve());
        child!.once('exit', (code) => reject(new Error(`the lock holder exited early (${code})`)));
      });
      const busy = await rejection(openTarget(url));
      expect(busy.code).toBe('target-busy');
      expect(busy.message).toContain(`process ${child.pid}`);

      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGKILL');
      await exited;
      // The killed holder left its lock behind: stale, so it is taken over.
      expect(JSON.parse(await readFile(`${dir}.lock`, 'utf8'))).toMatchObject({ pid: child.pid });
      const second = await openTarget(url);
      try {
        const s2 = await second.connect();
        expect((await s2.query('SELECT v FROM kept')).rows).toEqual([{ v: 'still here' }]);
      } finally {
        await second.close();
      }
      await expect(readFile(`${dir}.lock`, 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      child?.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
      await rm(`${dir}.lock`, { force: true });
    }
  });
});

describe('a target URL', () => {
  it('with an unknown scheme is a usage error', async () => {
    const err = await rejection(openTarget('mysql://root@localhost/db'));
    expect(err.code).toBe('usage');
  });

  it('with a TLS file that does not exist is a usage error naming the file and not the password', async () => {
    const err = await rejection(openTarget(`postgres://u:${SCRAM_PASSWORD}@127.0.0.1/db?sslmode=verify-full&sslrootcert=/nonexistent/root.crt`));
    expect(err.code).toBe('usage');
    expect(err.message).toContain('/nonexistent/root.crt');
    expect(err.message).not.toContain(SCRAM_PASSWORD);
  });
});
