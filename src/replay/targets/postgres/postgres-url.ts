import type { ClientConfig } from 'pg';
import { parse } from 'pg-connection-string';
import { AuditReplayError } from '../../../core/errors.js';
import type { TargetOptions } from '../../target.js';

/** The URL with its password (and any `password=` parameter) removed: safe to print. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '';
    u.searchParams.delete('password');
    return u.toString().replace(/:@/, '@');
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}

/**
 * node-postgres settings for a `postgres://` URL. Without a password in the URL, pg
 * falls back to PGPASSWORD and then ~/.pgpass. `application_name` defaults to `auditreplay`.
 */
export function postgresClientConfig(url: string, options: TargetOptions = {}): ClientConfig {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(url);
  } catch (err) {
    throw new AuditReplayError('usage', `not a PostgreSQL URL: ${redactUrl(url)}`, { cause: err });
  }
  const config: ClientConfig = {
    ...(parsed.host ? { host: parsed.host } : {}),
    ...(parsed.port ? { port: Number(parsed.port) } : {}),
    ...(parsed.user ? { user: decodeURIComponent(parsed.user) } : {}),
    ...(parsed.password ? { password: parsed.password } : {}),
    ...(parsed.database ? { database: decodeURIComponent(parsed.database) } : {}),
    application_name: parsed.application_name ?? options.applicationName ?? 'auditreplay',
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
  };
  if (parsed.ssl !== undefined && parsed.ssl !== false) config.ssl = parsed.ssl as ClientConfig['ssl'];
  return config;
}
