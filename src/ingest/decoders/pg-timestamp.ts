const PG_TS = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(?:\s*(UTC|GMT|Z|[+-]\d{2}(?::?\d{2})?))?$/;

/**
 * Reads a PostgreSQL log timestamp (`%m` form: `2026-11-20 10:00:00.123 UTC`) into
 * epoch ms. Zone names other than UTC/GMT are ambiguous abbreviations (CST is three
 * zones), so they are refused rather than guessed: run the server with log_timezone=UTC.
 */
export function parsePgTimestamp(text: string): number | null {
  const m = PG_TS.exec(text);
  if (!m) return null;
  let ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  if (m[7]) ms += Number(`0.${m[7]}`) * 1000;
  const zone = m[8];
  if (zone && zone[0] !== 'U' && zone[0] !== 'G' && zone !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const offsetMin = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || 0);
    ms -= sign * offsetMin * 60_000;
  }
  return Number.isNaN(ms) ? null : ms;
}
