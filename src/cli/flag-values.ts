import { AuditReplayError } from '../core/errors.js';

/** A comma-separated flag value as a list; undefined when absent or empty. */
export function list(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const items = value.split(',').map((x) => x.trim()).filter(Boolean);
  return items.length ? items : undefined;
}

/** A whole number flag value of at least `min` (default 1), or a usage error naming the flag. */
export function positiveInt(value: string, flag: string, min = 1): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new AuditReplayError('usage', `${flag} takes a whole number >= ${min}, not '${value}'`);
  return n;
}

/** Lists that came from a config file or the environment: a flag given on the command line replaces them. */
const REPLACEABLE = new WeakSet<string[]>();

/** Marks a list so that the first repeatable flag on the command line replaces it rather than adds to it. */
export function replaceable(values: string[]): string[] {
  REPLACEABLE.add(values);
  return values;
}

/** Commander's collector for repeatable flags (`--map-schema a=b --map-schema c=d`). */
export function collect(value: string, previous: string[] = []): string[] {
  return REPLACEABLE.has(previous) ? [value] : [...previous, value];
}

/** Reads `field=column,field=column` into a map; a pair without `=` is a usage error. */
export function parsePairs(value: string, flag: string): Record<string, string> {
  const map: Record<string, string> = {};
  for (const pair of value.split(',').map((x) => x.trim()).filter(Boolean)) {
    const eq = pair.indexOf('=');
    if (eq <= 0 || eq === pair.length - 1) throw new AuditReplayError('usage', `${flag}: '${pair}' is not name=value`);
    map[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return map;
}
