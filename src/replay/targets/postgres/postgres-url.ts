import { existsSync, readFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { checkServerIdentity, type ConnectionOptions } from 'node:tls';
import type { ClientConfig } from 'pg';
import { parse } from 'pg-connection-string';
import { AuditReplayError } from '../../../core/errors.js';
import type { TargetOptions } from '../../target.js';
import { pgpassLookup, pgpassPath } from './pgpass.js';

/** libpq's `sslmode` values, weakest first. */
export const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

/** Query parameters a target URL may carry (libpq's names); any other is a usage error, so a typo cannot silently weaken TLS. */
const KNOWN_PARAMS = new Set([
  'host',
  'hostaddr',
  'port',
  'dbname',
  'user',
  'password',
  'application_name',
  'fallback_application_name',
  'options',
  'connect_timeout',
  'keepalives',
  'keepalives_idle',
  'sslmode',
  'sslrootcert',
  'sslcert',
  'sslkey',
  'sslpassword',
]);

/** Everything needed to connect, resolved once from the URL, the environment and the options. */
export interface PostgresSettings {
  host: string;
  port: number;
  user: string;
  database: string;
  sslMode: SslMode;
  /** TLS options for an encrypted attempt; null with `sslmode=disable`. */
  tls: ConnectionOptions | null;
  /** node-postgres settings without `ssl`: each connection attempt adds its own. */
  base: ClientConfig;
}

/**
 * The URL with its password, any `password=` or `sslpassword=` parameter removed: safe
 * to print. A URL that does not parse keeps only its scheme and host part after `@`.
 */
export function redactUrl(url: string): string {
  const [beforeHash = '', ...hash] = url.split('#');
  const q = beforeHash.indexOf('?');
  const head = q < 0 ? beforeHash : beforeHash.slice(0, q);
  const query = q < 0 ? null : beforeHash.slice(q + 1);
  // The user-info ends at the last '@' before the path: a password may hold '@' or '/' unescaped.
  const m = /^([a-z][a-z0-9+.-]*:\/\/)([^?#]*)$/i.exec(head);
  let safeHead: string;
  if (m) {
    const rest = m[2]!;
    const slash = rest.indexOf('/', rest.lastIndexOf('@') + 1);
    const authority = slash < 0 ? rest : rest.slice(0, slash);
    const path = slash < 0 ? '' : rest.slice(slash);
    const at = authority.lastIndexOf('@');
    const userinfo = at < 0 ? null : authority.slice(0, at);
    const user = userinfo === null ? null : userinfo.split(':')[0]!;
    safeHead = `${m[1]}${user === null ? '' : `${user}@`}${at < 0 ? authority : authority.slice(at + 1)}${path}`;
  } else {
    safeHead = head.replace(/\/\/[^/]*@/, '//***@');
  }
  let safeQuery = '';
  if (query !== null) {
    const kept = query.split('&').filter((p) => !/^(ssl)?password=/i.test(p));
    safeQuery = kept.length > 0 && kept.some((p) => p !== '') ? `?${kept.join('&')}` : '';
  }
  return `${safeHead}${safeQuery}${hash.length > 0 ? `#${hash.join('#')}` : ''}`;
}

function usage(url: string, message: string, cause?: unknown): AuditReplayError {
  return new AuditReplayError('usage', `${message} (in ${redactUrl(url)})`, cause === undefined ? {} : { cause });
}

function readPem(url: string, param: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw usage(url, `cannot read ${param} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, err);
  }
}

/**
 * Resolves a `postgres://` URL as libpq would: query parameters override the URL's
 * parts, then PG* environment variables (PGHOST, PGPORT, PGUSER, PGDATABASE, PGSSLMODE,
 * PGSSLROOTCERT, PGSSLCERT, PGSSLKEY, PGAPPNAME, PGCONNECT_TIMEOUT), then defaults
 * (host localhost, port 5432, the OS user, database = user, sslmode prefer,
 * application_name `auditreplay`, connect timeout 10 s). The password comes from the
 * URL, else PGPASSWORD, else the password file (PGPASSFILE or ~/.pgpass), read only
 * when the server asks. TLS follows libpq: `require` encrypts without checking the
 * certificate unless a root certificate is given (then as `verify-ca`), `verify-ca`
 * checks the chain, `verify-full` the chain and the host name; `sslrootcert=system`
 * uses the system's CAs and needs `verify-full`.
 */
export function postgresSettings(url: string, options: TargetOptions = {}, env: NodeJS.ProcessEnv = process.env): PostgresSettings {
  if (!/^postgres(ql)?:\/\//i.test(url)) throw usage(url, 'not a PostgreSQL URL: use postgres://user@host:port/database');
  const noHash = url.split('#')[0]!;
  const q = noHash.indexOf('?');
  const params = new URLSearchParams(q < 0 ? '' : noHash.slice(q + 1));
  for (const key of params.keys()) {
    if (!KNOWN_PARAMS.has(key)) throw usage(url, `unknown connection parameter '${key}' (known: ${[...KNOWN_PARAMS].join(', ')})`);
  }
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(q < 0 ? noHash : noHash.slice(0, q));
  } catch (err) {
    throw usage(url, 'not a valid PostgreSQL URL', err);
  }
  const param = (name: string): string | undefined => {
    const v = params.get(name);
    return v === null || v === '' ? undefined : v;
  };
  const envOf = (name: string): string | undefined => (env[name] === '' ? undefined : env[name]);

  const host = param('host') ?? (parsed.host || undefined) ?? envOf('PGHOST') ?? 'localhost';
  const portText = param('port') ?? (parsed.port || undefined) ?? envOf('PGPORT') ?? '5432';
  const port = Number(portText);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw usage(url, `bad port '${portText}'`);
  const user = param('user') ?? (parsed.user || undefined) ?? envOf('PGUSER') ?? osUser();
  const database = param('dbname') ?? (parsed.database || undefined) ?? envOf('PGDATABASE') ?? user;
  const timeoutText = param('connect_timeout') ?? envOf('PGCONNECT_TIMEOUT');
  let connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  if (timeoutText !== undefined) {
    const seconds = Number(timeoutText);
    if (!Number.isFinite(seconds) || seconds < 0) throw usage(url, `bad connect_timeout '${timeoutText}'`);
    // libpq: 0 means wait forever, and anything below 2 s counts as 2 s.
    connectTimeoutMs = seconds === 0 ? 0 : Math.max(2, Math.floor(seconds)) * 1000;
  }

  const urlPassword = param('password') ?? (parsed.password || undefined);
  const envPassword = envOf('PGPASSWORD');
  const passFile = pgpassPath(env);
  // Read only if the server asks; undefined (no line matches) makes pg report that no password was given.
  const password: ClientConfig['password'] =
    urlPassword ?? envPassword ?? (() => pgpassLookup({ host, port, database, user }, passFile) as string);

  const keepalives = param('keepalives');
  const keepalivesIdle = param('keepalives_idle');
  const base: ClientConfig = {
    host: param('hostaddr') ?? host,
    port,
    user,
    database,
    password,
    application_name: param('application_name') ?? options.applicationName ?? envOf('PGAPPNAME') ?? param('fallback_application_name') ?? 'auditreplay',
    connectionTimeoutMillis: connectTimeoutMs,
    keepAlive: keepalives !== '0',
    keepAliveInitialDelayMillis: keepalivesIdle !== undefined && Number(keepalivesIdle) > 0 ? Number(keepalivesIdle) * 1000 : 30_000,
  };
  const pgOptions = param('options');
  if (pgOptions !== undefined) base.options = pgOptions;

  const modeText = param('sslmode') ?? envOf('PGSSLMODE') ?? 'prefer';
  if (!(SSL_MODES as readonly string[]).includes(modeText)) throw usage(url, `unknown sslmode '${modeText}' (use one of ${SSL_MODES.join(', ')})`);
  const sslMode = modeText as SslMode;
  const tls = sslMode === 'disable' ? null : tlsOptions(url, sslMode, param, envOf, host);
  return { host, port, user, database, sslMode, tls, base };
}

function tlsOptions(
  url: string,
  sslMode: SslMode,
  param: (name: string) => string | undefined,
  envOf: (name: string) => string | undefined,
  host: string,
): ConnectionOptions {
  const home = envOf('HOME') ?? homedir();
  const defaultFile = (name: string): string | undefined => {
    const path = join(home, '.postgresql', name);
    return existsSync(path) ? path : undefined;
  };
  const rootCert = param('sslrootcert') ?? envOf('PGSSLROOTCERT') ?? defaultFile('root.crt');
  const cert = param('sslcert') ?? envOf('PGSSLCERT') ?? defaultFile('postgresql.crt');
  const key = param('sslkey') ?? envOf('PGSSLKEY') ?? defaultFile('postgresql.key');
  const tls: ConnectionOptions = {};
  if (cert !== undefined || key !== undefined) {
    if (cert === undefined || key === undefined) throw usage(url, 'sslcert and sslkey go together: give both or neither');
    tls.cert = readPem(url, 'sslcert', cert);
    tls.key = readPem(url, 'sslkey', key);
    const passphrase = param('sslpassword');
    if (passphrase !== undefined) tls.passphrase = passphrase;
  }
  const verifying = sslMode === 'verify-ca' || sslMode === 'verify-full';
  if (rootCert === 'system') {
    // As libpq 16: the system's CAs vouch for any host they know, so only the host-name check makes them safe.
    if (sslMode !== 'verify-full') throw usage(url, `sslrootcert=system needs sslmode=verify-full, not ${sslMode}`);
    return { ...tls, checkServerIdentity: (_connectedTo, peer) => checkServerIdentity(host, peer) };
  }
  if (rootCert === undefined) {
    if (verifying) {
      throw usage(url, `sslmode=${sslMode} needs the server's root certificate: give sslrootcert=FILE (or sslrootcert=system for the system's CAs)`);
    }
    return { ...tls, rejectUnauthorized: false };
  }
  if (sslMode === 'allow' || sslMode === 'prefer') return { ...tls, rejectUnauthorized: false };
  tls.ca = readPem(url, 'sslrootcert', rootCert);
  tls.rejectUnauthorized = true;
  // require with a root certificate checks the chain like verify-ca; only verify-full checks the name.
  if (sslMode !== 'verify-full') tls.checkServerIdentity = () => undefined;
  // The name to check is the URL's host even when hostaddr says where to connect.
  else tls.checkServerIdentity = (_connectedTo, peer) => checkServerIdentity(host, peer);
  return tls;
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'postgres';
  }
}

/**
 * The order of TLS attempts libpq makes for a mode: `allow` tries plain first and TLS
 * when the server refuses, `prefer` the other way round, `disable` only plain, stronger
 * modes only TLS. `false` is a plain attempt.
 */
export function sslAttempts(settings: Pick<PostgresSettings, 'sslMode' | 'tls'>): Array<false | ConnectionOptions> {
  const tls = settings.tls;
  switch (settings.sslMode) {
    case 'disable':
      return [false];
    case 'allow':
      return [false, tls!];
    case 'prefer':
      return [tls!, false];
    default:
      return [tls!];
  }
}

/**
 * node-postgres settings for a `postgres://` URL, for the first connection attempt its
 * sslmode makes (see {@link postgresSettings} for the defaults).
 */
export function postgresClientConfig(url: string, options: TargetOptions = {}, env: NodeJS.ProcessEnv = process.env): ClientConfig {
  const settings = postgresSettings(url, options, env);
  return { ...settings.base, ssl: sslAttempts(settings)[0]! };
}
