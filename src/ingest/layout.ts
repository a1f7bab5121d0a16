import { AuditReplayError } from '../core/errors.js';

/** Date fields read from the folders above an object, most significant first. */
export interface DateParts {
  year?: number;
  month?: number;
  day?: number;
  hour?: number;
}

/**
 * How dates are written in object paths. `matchSegment` reads one path segment (a
 * folder name) at a given depth below the source root, knowing what the folders above
 * it said, and returns the date fields it adds, or null when it holds no date.
 */
export interface Layout {
  readonly name: string;
  matchSegment(segment: string, depth: number, known: DateParts): DateParts | null;
}

const HIVE_DATE = /^(?:ymd|dt|date|ds|day)=(\d{4})-?(\d{2})-?(\d{2})$/i;
const HIVE_PART = /^(year|yyyy|month|mm|day|dd|hour|hh)=(\d{1,4})$/i;

/** Hive style: `ymd=2026-11-20`, `dt=20261120`, `date=…`, `year=/month=/day=`, `hour=`/`hh=`. */
export const hiveLayout: Layout = {
  name: 'hive',
  matchSegment(segment) {
    const d = HIVE_DATE.exec(segment);
    if (d) return { year: Number(d[1]), month: Number(d[2]), day: Number(d[3]) };
    const p = HIVE_PART.exec(segment);
    if (!p) return null;
    const value = Number(p[2]);
    switch (p[1]!.toLowerCase()) {
      case 'year':
      case 'yyyy':
        return { year: value };
      case 'month':
      case 'mm':
        return { month: value };
      case 'day':
      case 'dd':
        return { day: value };
      default:
        return { hour: value };
    }
  },
};

/** Path style: `YYYY/MM/DD[/HH]`, as in Redshift's `AWSLogs/<acct>/redshift/<region>/YYYY/MM/DD/`. */
export const pathLayout: Layout = {
  name: 'path',
  matchSegment(segment, _depth, known) {
    if (known.year === undefined) return /^\d{4}$/.test(segment) ? { year: Number(segment) } : null;
    if (!/^\d{2}$/.test(segment)) return null;
    if (known.month === undefined) return { month: Number(segment) };
    if (known.day === undefined) return { day: Number(segment) };
    if (known.hour === undefined) return { hour: Number(segment) };
    return null;
  },
};

/** The default: Hive style or path style, whichever a folder name matches. Flat trees simply match nothing. */
export const autoLayout: Layout = {
  name: 'auto',
  matchSegment(segment, depth, known) {
    return hiveLayout.matchSegment(segment, depth, known) ?? pathLayout.matchSegment(segment, depth, known);
  },
};

const TEMPLATE_FIELDS: Record<string, { key: keyof DateParts; digits: number }> = {
  yyyy: { key: 'year', digits: 4 },
  MM: { key: 'month', digits: 2 },
  dd: { key: 'day', digits: 2 },
  HH: { key: 'hour', digits: 2 },
};

/**
 * A layout from a template such as `{yyyy}/{MM}/{dd}` or `logs/dt={yyyy}{MM}{dd}/{HH}`:
 * each `/`-separated part of the template matches the folder at the same depth.
 */
export function templateLayout(template: string): Layout {
  const segments = template.replace(/^\/+|\/+$/g, '').split('/');
  const compiled = segments.map((segment) => {
    const keys: (keyof DateParts)[] = [];
    let pattern = '';
    let rest = segment;
    for (let m = /\{([A-Za-z]+)\}/.exec(rest); m; m = /\{([A-Za-z]+)\}/.exec(rest)) {
      const field = TEMPLATE_FIELDS[m[1]!];
      if (!field) {
        throw new AuditReplayError('usage', `--layout '${template}': unknown field {${m[1]}}; use {yyyy}, {MM}, {dd}, {HH}`);
      }
      pattern += escapeRegExp(rest.slice(0, m.index)) + `(\\d{${field.digits}})`;
      keys.push(field.key);
      rest = rest.slice(m.index + m[0].length);
    }
    pattern += escapeRegExp(rest);
    return { regex: new RegExp(`^${pattern}$`), keys };
  });
  return {
    name: `template:${template}`,
    matchSegment(segment, depth) {
      const c = compiled[depth];
      if (!c) return null;
      const m = c.regex.exec(segment);
      if (!m) return null;
      const parts: DateParts = {};
      c.keys.forEach((key, i) => (parts[key] = Number(m[i + 1])));
      return parts;
    },
  };
}

/** Picks a layout from the `--layout` option: `auto` (default), `hive`, `path`, `flat`, or a template. */
export function layoutFromOption(option: string | undefined): Layout {
  switch (option ?? 'auto') {
    case 'auto':
      return autoLayout;
    case 'hive':
      return hiveLayout;
    case 'path':
      return pathLayout;
    case 'flat':
      return { name: 'flat', matchSegment: () => null };
    default:
      return templateLayout(option!);
  }
}

/**
 * The time range `[start, end)` a partition covers, from the date fields known so far:
 * a year alone covers the year, year and month the month, and so on. Null when no
 * year is known, because then the path says nothing usable about time.
 */
export function partitionRange(parts: DateParts): { start: number; end: number } | null {
  const { year, month, day, hour } = parts;
  if (year === undefined) return null;
  if (month === undefined) return { start: Date.UTC(year, 0, 1), end: Date.UTC(year + 1, 0, 1) };
  if (day === undefined) return { start: Date.UTC(year, month - 1, 1), end: Date.UTC(year, month, 1) };
  if (hour === undefined) return { start: Date.UTC(year, month - 1, day), end: Date.UTC(year, month - 1, day + 1) };
  return { start: Date.UTC(year, month - 1, day, hour), end: Date.UTC(year, month - 1, day, hour + 1) };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
