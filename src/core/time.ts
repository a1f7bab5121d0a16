import { AuditReplayError } from './errors.js';

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** Parses a duration such as `90s`, `30m`, `1h`, `7d` or `250ms` into milliseconds. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$/i.exec(text);
  if (!m) {
    throw new AuditReplayError('bad-time', `cannot read duration '${text}': use a number and a unit, e.g. 90s, 30m, 1h, 7d`);
  }
  return Number(m[1]) * UNIT_MS[m[2]!.toLowerCase()]!;
}

/**
 * Parses a point in time: ISO 8601 (`2026-11-20T10:00:00Z`; no zone means UTC), a date
 * (`2026-11-20`, midnight UTC), or a relative time (`24h`, `7d`: that long before `now`).
 * Returns epoch milliseconds.
 */
export function parseTime(text: string, now: number = Date.now()): number {
  const t = text.trim();
  if (/^\d+(?:\.\d+)?\s*(ms|s|m|h|d|w)$/i.test(t)) return now - parseDuration(t);
  if (t === 'now') return now;
  const date = /^(\d{4})-(\d{2})-(\d{2})$/.exec(t);
  if (date) return checkedUtc(t, Number(date[1]), Number(date[2]), Number(date[3]));
  // Audit logs are written in UTC; a local-time reading of a zone-less timestamp would shift windows by the host's zone.
  const hasZone = /(?:Z|[+-]\d{2}(?::?\d{2})?)$/i.test(t);
  const iso = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?/.test(t) ? (hasZone ? t : `${t}Z`) : null;
  const ms = iso === null ? Number.NaN : Date.parse(iso.replace(' ', 'T'));
  if (Number.isNaN(ms)) {
    throw new AuditReplayError(
      'bad-time',
      `cannot read time '${text}': use ISO 8601 (2026-11-20T10:00:00Z), a date (2026-11-20) or a relative time (24h, 7d)`,
    );
  }
  return ms;
}

function checkedUtc(text: string, year: number, month: number, day: number): number {
  const ms = Date.UTC(year, month - 1, day);
  const d = new Date(ms);
  if (d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) {
    throw new AuditReplayError('bad-time', `'${text}' is not a calendar date`);
  }
  return ms;
}

/** A half-open time window `[from, to)` in epoch ms. */
export interface TimeWindow {
  from: number;
  to: number;
}

export function formatTime(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms);
}

/** Milliseconds since the epoch, with sub-millisecond precision (the monotonic clock, anchored once). */
export const epochNow = (): number => performance.timeOrigin + performance.now();
