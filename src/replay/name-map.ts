import type { AuditEvent } from '../core/audit-event.js';
import { AuditReplayError } from '../core/errors.js';

/**
 * Renames from the primary's names to the secondary's: `--map-schema a=b`,
 * `--map-role a=b`, `--map-database a=b`. Names compare as PostgreSQL folds them:
 * unquoted names are lower-cased, so `Sales=archive` maps `sales` and `SALES`.
 */
export interface NameMaps {
  schema: ReadonlyMap<string, string>;
  role: ReadonlyMap<string, string>;
  database: ReadonlyMap<string, string>;
}

export const NO_MAPS: NameMaps = { schema: new Map(), role: new Map(), database: new Map() };

/** Reads repeated or comma-separated `from=to` pairs of one flag; a malformed pair is a usage error. */
export function parseNameMap(values: readonly string[] | string | undefined, flag: string): Map<string, string> {
  const map = new Map<string, string>();
  const list = values === undefined ? [] : typeof values === 'string' ? [values] : values;
  for (const pair of list.flatMap((v) => v.split(',')).map((x) => x.trim()).filter(Boolean)) {
    const eq = pair.indexOf('=');
    const from = pair.slice(0, eq).trim();
    const to = pair.slice(eq + 1).trim();
    if (eq <= 0 || !from || !to) throw new AuditReplayError('usage', `${flag}: '${pair}' is not from=to`);
    map.set(from.toLowerCase(), to);
  }
  return map;
}

/** The secondary's name for `name` (as stored in the catalog), or `name` itself. */
export function mapName(map: ReadonlyMap<string, string>, name: string): string {
  return map.get(name.toLowerCase()) ?? name;
}

/** Log formats whose `database` is a PostgreSQL database (elsewhere it is a default schema). */
const POSTGRES_FORMATS = /^(pg-|redshift)/;

/**
 * The secondary's database for a statement: the one its record names (mapped) when
 * `route` is on and the log is PostgreSQL's, else `fallback` (the target URL's).
 */
export function databaseOf(event: AuditEvent, route: boolean, map: ReadonlyMap<string, string>, fallback: string): string {
  if (!route || event.database === null || !POSTGRES_FORMATS.test(event.source.format)) return fallback;
  return mapName(map, event.database);
}
