import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PeerCertificate } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditReplayError } from '../../src/core/errors.js';
import { pgpassLookup } from '../../src/replay/targets/postgres/pgpass.js';
import { postgresClientConfig, postgresSettings, redactUrl, sslAttempts } from '../../src/replay/targets/postgres/postgres-url.js';

const SECRET = 'S3cret-pw-x9';
let dir: string;
let rootCert: string;
/** An environment with no PG* variables and a home without ~/.postgresql or ~/.pgpass. */
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'auditreplay-pgurl-'));
  rootCert = join(dir, 'root.crt');
  await writeFile(rootCert, '-----BEGIN CERTIFICATE-----\nnot checked here\n-----END CERTIFICATE-----\n');
  env = { HOME: dir, USER: 'osuser' };
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function usageError(fn: () => unknown): AuditReplayError {
  try {
    fn();
  } catch (err) {
    expect((err as AuditReplayError).code).toBe('usage');
    return err as AuditReplayError;
  }
  throw new Error('expected a usage error');
}

/** A certificate as Node hands it to checkServerIdentity, naming only `dns`. */
const certFor = (dns: string): PeerCertificate => ({ subject: { CN: dns }, subjectaltname: `DNS:${dns}` }) as unknown as PeerCertificate;

describe('redactUrl', () => {
  it('removes the password from the user part and keeps the rest', () => {
    expect(redactUrl(`postgres://alice:${SECRET}@db.example.com:5433/app?sslmode=require`)).toBe('postgres://alice@db.example.com:5433/app?sslmode=require');
  });

  it('removes a password that holds @, / and : unescaped', () => {
    const out = redactUrl('postgres://alice:p@ss/w:rd@db:5432/app');
    expect(out).toBe('postgres://alice@db:5432/app');
  });

  it('removes password= and sslpassword= parameters and keeps the others in order', () => {
    expect(redactUrl(`postgres://alice@db/app?sslmode=verify-full&password=${SECRET}&application_name=x&sslpassword=${SECRET}`)).toBe(
      'postgres://alice@db/app?sslmode=verify-full&application_name=x',
    );
    expect(redactUrl(`postgresql://db/app?password=${SECRET}`)).toBe('postgresql://db/app');
  });

  it('leaves a URL without secrets as it is, fragment included', () => {
    expect(redactUrl('postgres://alice@db/app#audit.events')).toBe('postgres://alice@db/app#audit.events');
  });
});

describe('postgresSettings', () => {
  it('takes host, port, user and database from the URL, query parameters overriding them', () => {
    const s = postgresSettings('postgres://alice@db.example.com:5433/app', {}, env);
    expect([s.host, s.port, s.user, s.database]).toEqual(['db.example.com', 5433, 'alice', 'app']);
    const q = postgresSettings('postgres://alice@db.example.com:5433/app?host=other&port=6000&dbname=reports&user=bob', {}, env);
    expect([q.host, q.port, q.user, q.database]).toEqual(['other', 6000, 'bob', 'reports']);
  });

  it('falls back to PGHOST, PGPORT, PGUSER and PGDATABASE, then to localhost, 5432, the OS user and a database named after the user', () => {
    const s = postgresSettings('postgres://', {}, { ...env, PGHOST: 'envhost', PGPORT: '7000', PGUSER: 'envuser', PGDATABASE: 'envdb' });
    expect([s.host, s.port, s.user, s.database]).toEqual(['envhost', 7000, 'envuser', 'envdb']);
    const d = postgresSettings('postgres://', {}, env);
    expect([d.host, d.port]).toEqual(['localhost', 5432]);
    expect(d.database).toBe(d.user);
  });

  it('reads a Unix socket directory from an escaped host', () => {
    expect(postgresSettings('postgres://%2Fvar%2Frun%2Fpostgresql/app', {}, env).host).toBe('/var/run/postgresql');
  });

  it('names application_name auditreplay unless the options or, winning over both, the URL say otherwise', () => {
    expect(postgresClientConfig('postgres://db/app', {}, env).application_name).toBe('auditreplay');
    expect(postgresClientConfig('postgres://db/app', { applicationName: 'nightly' }, env).application_name).toBe('nightly');
    expect(postgresClientConfig('postgres://db/app?application_name=mine', { applicationName: 'nightly' }, env).application_name).toBe('mine');
  });

  it('turns connect_timeout seconds into a connection timeout, 10 s by default', () => {
    expect(postgresClientConfig('postgres://db/app', {}, env).connectionTimeoutMillis).toBe(10_000);
    expect(postgresClientConfig('postgres://db/app?connect_timeout=5', {}, env).connectionTimeoutMillis).toBe(5000);
    expect(postgresClientConfig('postgres://db/app', { connectTimeoutMs: 1500 }, env).connectionTimeoutMillis).toBe(1500);
  });

  it('refuses an unknown parameter, so a misspelt sslmode cannot silently weaken TLS', () => {
    const err = usageError(() => postgresSettings(`postgres://u:${SECRET}@db/app?sslmod=verify-full`, {}, env));
    expect(err.message).toContain("'sslmod'");
    expect(err.message).not.toContain(SECRET);
  });

  it('refuses a URL of another scheme and a bad port', () => {
    usageError(() => postgresSettings('mysql://db/app', {}, env));
    usageError(() => postgresSettings('postgres://db:99999/app', {}, env));
  });
});

describe('the password', () => {
  it('comes from the URL first, then from PGPASSWORD', () => {
    expect(postgresClientConfig(`postgres://u:${SECRET}@db/app`, {}, { ...env, PGPASSWORD: 'from-env' }).password).toBe(SECRET);
    expect(postgresClientConfig(`postgres://u@db/app?password=${SECRET}`, {}, env).password).toBe(SECRET);
    expect(postgresClientConfig('postgres://u@db/app', {}, { ...env, PGPASSWORD: 'from-env' }).password).toBe('from-env');
  });

  it('comes last from the password file PGPASSFILE names, read when the server asks', async () => {
    const file = join(dir, 'pgpass-late');
    const password = postgresClientConfig('postgres://u@db:5432/app', {}, { ...env, PGPASSFILE: file }).password as () => string | undefined;
    expect(typeof password).toBe('function');
    expect(password()).toBeUndefined();
    await writeFile(file, 'db:5432:app:u:late\n', { mode: 0o600 });
    await chmod(file, 0o600);
    expect(password()).toBe('late');
  });

  it('comes from ~/.pgpass when PGPASSFILE is not set', async () => {
    const home = await mkdtemp(join(dir, 'home-'));
    await writeFile(join(home, '.pgpass'), '*:*:*:u:home-pw\n', { mode: 0o600 });
    const password = postgresClientConfig('postgres://u@db/app', {}, { HOME: home }).password as () => string | undefined;
    expect(password()).toBe('home-pw');
  });
});

describe('pgpassLookup', () => {
  const key = { host: 'db', port: 5432, database: 'app', user: 'alice' };

  it('takes the first line that matches, with * as a wildcard and \\ escaping : and \\', async () => {
    const file = join(dir, 'pgpass');
    await writeFile(
      file,
      ['# comment', 'other:5432:app:alice:nope', 'db:5433:*:alice:wrong-port', 'db:*:app:alice:pa\\:ss\\\\word:tail', '*:*:*:*:fallback', ''].join('\n'),
      { mode: 0o600 },
    );
    await chmod(file, 0o600);
    expect(pgpassLookup(key, file)).toBe('pa:ss\\word:tail');
    expect(pgpassLookup({ ...key, user: 'bob' }, file)).toBe('fallback');
  });

  it('matches a Unix socket directory as localhost', async () => {
    const file = join(dir, 'pgpass-socket');
    await writeFile(file, 'localhost:5432:*:alice:socket-pw\n', { mode: 0o600 });
    await chmod(file, 0o600);
    expect(pgpassLookup({ ...key, host: '/var/run/postgresql' }, file)).toBe('socket-pw');
  });

  it('ignores a file that group or others may read, as libpq does, and a file that is missing', async () => {
    const file = join(dir, 'pgpass-open');
    await writeFile(file, '*:*:*:*:pw\n');
    await chmod(file, 0o640);
    expect(pgpassLookup(key, file)).toBeUndefined();
    expect(pgpassLookup(key, join(dir, 'missing'))).toBeUndefined();
  });
});

describe('sslmode', () => {
  const tls = (query: string, e: NodeJS.ProcessEnv = env) => postgresSettings(`postgres://u@db.example.com/app?${query}`, {}, e);

  it('defaults to prefer: TLS without certificate checks first, then a plain connection', () => {
    const s = tls('');
    expect(s.sslMode).toBe('prefer');
    expect(sslAttempts(s)).toEqual([{ rejectUnauthorized: false }, false]);
  });

  it('takes PGSSLMODE when the URL names none', () => {
    expect(tls('', { ...env, PGSSLMODE: 'disable' }).sslMode).toBe('disable');
    expect(tls('sslmode=require', { ...env, PGSSLMODE: 'disable' }).sslMode).toBe('require');
  });

  it('disable connects plain only and allow tries plain before TLS', () => {
    expect(sslAttempts(tls('sslmode=disable'))).toEqual([false]);
    expect(tls('sslmode=disable').tls).toBeNull();
    expect(sslAttempts(tls('sslmode=allow'))).toEqual([false, { rejectUnauthorized: false }]);
  });

  it('require encrypts without checking the certificate, and checks the chain but not the name once a root certificate is given', () => {
    expect(sslAttempts(tls('sslmode=require'))).toEqual([{ rejectUnauthorized: false }]);
    const withRoot = tls(`sslmode=require&sslrootcert=${rootCert}`).tls!;
    expect(withRoot.rejectUnauthorized).toBe(true);
    expect(withRoot.ca).toContain('BEGIN CERTIFICATE');
    expect(withRoot.checkServerIdentity!('db.example.com', certFor('elsewhere.example.com'))).toBeUndefined();
  });

  it('require takes ~/.postgresql/root.crt as its root certificate when it exists, as libpq does', async () => {
    const home = await mkdtemp(join(dir, 'home-'));
    await mkdir(join(home, '.postgresql'));
    await writeFile(join(home, '.postgresql', 'root.crt'), 'home root');
    expect(tls('sslmode=require', { HOME: home }).tls).toMatchObject({ ca: 'home root', rejectUnauthorized: true });
  });

  it('verify-ca checks the chain and not the host name', () => {
    const t = tls(`sslmode=verify-ca&sslrootcert=${rootCert}`).tls!;
    expect(t.rejectUnauthorized).toBe(true);
    expect(t.checkServerIdentity!('db.example.com', certFor('elsewhere.example.com'))).toBeUndefined();
  });

  it('verify-full checks the chain and the URL host name', () => {
    const t = tls(`sslmode=verify-full&sslrootcert=${rootCert}`).tls!;
    expect(t.rejectUnauthorized).toBe(true);
    expect(t.checkServerIdentity!('db.example.com', certFor('db.example.com'))).toBeUndefined();
    expect(t.checkServerIdentity!('db.example.com', certFor('elsewhere.example.com'))).toBeInstanceOf(Error);
    // hostaddr says where to connect; the name checked stays the URL's host.
    const viaAddr = postgresSettings(`postgres://u@db.example.com/app?hostaddr=10.0.0.5&sslmode=verify-full&sslrootcert=${rootCert}`, {}, env);
    expect(viaAddr.base.host).toBe('10.0.0.5');
    expect(viaAddr.tls!.checkServerIdentity!('10.0.0.5', certFor('db.example.com'))).toBeUndefined();
  });

  it('verify-ca and verify-full need a root certificate, and sslrootcert=system only goes with verify-full', () => {
    expect(usageError(() => tls('sslmode=verify-full')).message).toContain('sslrootcert');
    usageError(() => tls('sslmode=verify-ca'));
    usageError(() => tls('sslmode=require&sslrootcert=system'));
    const system = tls('sslmode=verify-full&sslrootcert=system').tls!;
    expect(system.ca).toBeUndefined();
    expect(system.rejectUnauthorized).not.toBe(false);
  });

  it('reads a client certificate and key, and refuses one without the other', async () => {
    const cert = join(dir, 'client.crt');
    const key = join(dir, 'client.key');
    await writeFile(cert, 'client cert');
    await writeFile(key, 'client key');
    expect(tls(`sslmode=require&sslcert=${cert}&sslkey=${key}&sslpassword=${SECRET}`).tls).toMatchObject({ cert: 'client cert', key: 'client key', passphrase: SECRET });
    usageError(() => tls(`sslmode=require&sslcert=${cert}`));
  });

  it('refuses an unknown mode and a certificate file that cannot be read, naming them but not the password', () => {
    const bad = usageError(() => postgresSettings(`postgres://u:${SECRET}@db/app?sslmode=on`, {}, env));
    expect(bad.message).toContain("'on'");
    expect(bad.message).not.toContain(SECRET);
    const missing = usageError(() => postgresSettings(`postgres://u:${SECRET}@db/app?sslmode=verify-full&sslrootcert=${join(dir, 'nope.crt')}`, {}, env));
    expect(missing.message).toContain('nope.crt');
    expect(missing.message).toContain('ENOENT');
    expect(missing.message).not.toContain(SECRET);
  });
});
