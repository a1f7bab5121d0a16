const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const AIRLIFT = /^(\d+(?:\.\d+)?)\s*(ns|us|ms|s|m|h|d)$/;
const ISO = /^PT(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(-?\d+(?:\.\d+)?)S)?$/;

/**
 * A Trino duration in ms, as the event listeners write one: a number of seconds (Jackson
 * writes java.time.Duration as `1.234000000`), an ISO 8601 duration (`PT1.234S`, from a
 * mapper that writes durations as text), or airlift's `1.23s` / `150.00ms` form. Null
 * when absent or unreadable.
 */
export function parseTrinoDuration(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? nanoRound(value * 1000) : null;
  if (typeof value !== 'string') return null;
  const a = AIRLIFT.exec(value);
  if (a) return nanoRound(Number(a[1]) * UNIT_MS[a[2]!]!);
  const iso = ISO.exec(value);
  if (iso && value !== 'PT') {
    return nanoRound(Number(iso[1] ?? 0) * 3_600_000 + Number(iso[2] ?? 0) * 60_000 + Number(iso[3] ?? 0) * 1000);
  }
  return null;
}

/** Drops binary noise (1.1 s is 1100.0000000000002 ms) below the nanosecond the sources resolve. */
function nanoRound(ms: number): number {
  return Math.round(ms * 1e6) / 1e6;
}
