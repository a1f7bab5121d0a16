/** Time helpers shared by the generators. All times are UTC epoch milliseconds. */
import type { Rng } from './prng.js';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** Parses `YYYY-MM-DD` as UTC midnight; throws on anything else. */
export function parseDay(day: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  const ms = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : Number.NaN;
  if (!m || Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== day) {
    throw new Error(`not a YYYY-MM-DD day: ${day}`);
  }
  return ms;
}

const dayStrings = new Map<number, string>();

/** `YYYY-MM-DD` of the UTC day holding `ms`. */
export function dayString(ms: number): string {
  // Called several times per generated record, for a handful of distinct days.
  const day = Math.floor(ms / DAY_MS);
  let s = dayStrings.get(day);
  if (s === undefined) {
    s = new Date(day * DAY_MS).toISOString().slice(0, 10);
    if (dayStrings.size > 10_000) dayStrings.clear();
    dayStrings.set(day, s);
  }
  return s;
}

/** `YYYY-MM-DD HH:MM:SS.mmm` in UTC. */
export function sqlTimestamp(ms: number): string {
  const iso = new Date(Math.floor(ms)).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
}

/**
 * Diurnal load per UTC hour: quiet nights, a busy working day and an evening tail. Both
 * generators share it so that the two formats look like the same company.
 */
const HOURLY_LOAD = [
  0.28, 0.22, 0.16, 0.13, 0.14, 0.2, 0.35, 0.6, 0.9, 1.0, 1.0, 0.95, 0.85, 0.95, 1.0, 1.0, 0.9, 0.75, 0.55,
  0.45, 0.4, 0.38, 0.35, 0.32,
];
const LOAD_CUM: number[] = [0];
for (const w of HOURLY_LOAD) LOAD_CUM.push(LOAD_CUM[LOAD_CUM.length - 1]! + w);
const LOAD_TOTAL = LOAD_CUM[24]!;

/** Relative load at a time of day in [0, 1]. */
export function loadAt(ms: number): number {
  const hour = Math.floor((((ms % DAY_MS) + DAY_MS) % DAY_MS) / HOUR_MS);
  return HOURLY_LOAD[hour] ?? 0;
}

/** Maps a quantile in [0, 1) of the daily load to an offset into the day. */
function loadQuantileToOffset(q: number): number {
  const target = q * LOAD_TOTAL;
  let h = 0;
  while (h < 23 && LOAD_CUM[h + 1]! <= target) h++;
  const within = (target - LOAD_CUM[h]!) / HOURLY_LOAD[h]!;
  return Math.min(DAY_MS - 1, (h + Math.min(within, 1)) * HOUR_MS);
}

/**
 * Yields exactly `count` ascending arrival times within one day, distributed by the daily
 * load. It draws sorted uniforms one at a time (the minimum of the m remaining uniforms),
 * so millions of arrivals need no array and no sort.
 */
export class DailyArrivals {
  private remaining: number;
  private q = 0;

  constructor(
    private readonly rng: Rng,
    private readonly dayStart: number,
    count: number,
  ) {
    this.remaining = count;
  }

  get left(): number {
    return this.remaining;
  }

  next(): number | undefined {
    if (this.remaining <= 0) return undefined;
    const u = 1 - this.rng.float();
    this.q += (1 - this.q) * (1 - Math.pow(u, 1 / this.remaining));
    this.remaining--;
    return this.dayStart + loadQuantileToOffset(Math.min(this.q, 1 - 1e-12));
  }
}
