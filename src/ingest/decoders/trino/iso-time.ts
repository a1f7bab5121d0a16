const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * Reads an ISO 8601 time (`2026-11-20T01:02:03.456Z`, an offset, or the space-separated
 * form) into epoch ms, keeping digits below the millisecond as a fraction. A time
 * without a zone is read as UTC; callers whose format writes local times say so.
 */
export function parseIsoTime(text: string): number | null {
  const m = ISO_TIME.exec(text);
  if (!m) return null;
  if (!isValidDateTime(+m[1]!, +m[2]!, +m[3]!, +m[4]!, +m[5]!, m[6] ? +m[6] : 0)) return null;
  let ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, m[6] ? +m[6] : 0);
  if (m[7]) ms += Number(`0.${m[7]}`) * 1000;
  const zone = m[8];
  if (zone !== undefined && (zone[0] === '+' || zone[0] === '-')) {
    const digits = zone.slice(1).replace(':', '');
    const offsetMin = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || 0);
    ms -= (zone[0] === '-' ? -1 : 1) * offsetMin * 60_000;
  }
  return ms;
}

/**
 * An instant as JSON serialisers write it: an ISO string, or a number of epoch seconds
 * (Jackson's timestamps, with nanosecond decimals) or epoch milliseconds (above 10^11,
 * which as seconds would lie past the year 5000).
 */
export function parseInstant(value: unknown): number | null {
  if (typeof value === 'string') return parseIsoTime(value);
  // Seconds as a double resolve about a microsecond at today's epoch: round there, not to binary noise.
  if (typeof value === 'number' && Number.isFinite(value)) return value > 1e11 ? value : Math.round(value * 1e6) / 1e3;
  return null;
}

/**
 * Whether the fields name a real time (month 1-12, a day the month has, hour 0-23, a
 * leap second allowed). Date.UTC would roll 31 November or hour 25 into the next day:
 * a time out of range is unreadable, not shifted.
 */
export function isValidDateTime(year: number, month: number, day: number, hour: number, minute: number, second: number): boolean {
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 60) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 2 ? (leap ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
  return day <= days;
}
