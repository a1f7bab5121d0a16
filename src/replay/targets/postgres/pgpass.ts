import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** What a password file line is matched against. */
export interface PgpassKey {
  host: string;
  port: number;
  database: string;
  user: string;
}

/** The password file libpq would read: PGPASSFILE, else `~/.pgpass`. */
export function pgpassPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.PGPASSFILE || join(env.HOME || homedir(), '.pgpass');
}

/**
 * The password of the first line of a libpq password file that matches `key`
 * (`host:port:database:user:password`, `*` matches anything, `\` escapes `:` and `\`).
 * As libpq does, a file that others may read (mode beyond 0600) is ignored, and a
 * socket directory matches the host `localhost`. Undefined when nothing matches.
 */
export function pgpassLookup(key: PgpassKey, path: string): string | undefined {
  let text: string;
  try {
    const st = statSync(path);
    if (!st.isFile() || (st.mode & 0o077) !== 0) return undefined;
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  const host = key.host.startsWith('/') ? 'localhost' : key.host;
  const wanted = [host, String(key.port), key.database, key.user];
  for (const line of text.split(/\r?\n/)) {
    if (line === '' || line.startsWith('#')) continue;
    const fields = splitPgpassLine(line);
    if (fields.length < 5) continue;
    if (wanted.every((w, i) => fields[i] === '*' || fields[i] === w)) return fields.slice(4).join(':');
  }
  return undefined;
}

function splitPgpassLine(line: string): string[] {
  const fields: string[] = [];
  let current = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '\\' && i + 1 < line.length) {
      current += line[++i];
    } else if (c === ':' && fields.length < 4) {
      fields.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  fields.push(current);
  return fields;
}
