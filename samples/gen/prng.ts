/**
 * Seeded randomness for the sample generators. Everything random in samples/ goes through
 * this so that one seed always yields byte-identical logs.
 */

export { fnv1a, mulberry32 } from '../../src/core/random.js';
import { fnv1a, mulberry32 } from '../../src/core/random.js';

const HEX = '0123456789abcdef';

/** A seeded random source with the few distributions the generators need. */
export class Rng {
  private readonly next: () => number;
  private spareNormal: number | null = null;

  constructor(readonly seed: number) {
    this.next = mulberry32(seed);
  }

  /**
   * An independent stream for one concern (one format, one plan...). Deriving instead of
   * sharing keeps, say, the Okera output unchanged when the PostgreSQL generator changes.
   */
  fork(label: string): Rng {
    return new Rng((fnv1a(label) ^ Math.imul(this.seed >>> 0, 0x9e3779b1)) >>> 0);
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.next();
  }

  /** Uniform integer in [lo, hi], both inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }

  /** Picks by weight; entries with weight 0 are never chosen. */
  weighted<T>(entries: readonly (readonly [T, number])[]): T {
    let total = 0;
    for (const [, w] of entries) total += w;
    let x = this.next() * total;
    for (const [value, w] of entries) {
      if (w <= 0) continue;
      x -= w;
      if (x < 0) return value;
    }
    const last = entries.findLast(([, w]) => w > 0);
    if (last === undefined) throw new Error('weighted pick with no positive weight');
    return last[0];
  }

  /** Standard normal (Box-Muller, caching the second value). */
  normal(): number {
    if (this.spareNormal !== null) {
      const s = this.spareNormal;
      this.spareNormal = null;
      return s;
    }
    const u = 1 - this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Log-normal with the given median; durations of real workloads look like this. */
  logNormal(median: number, sigma: number, min = 0, max = Number.POSITIVE_INFINITY): number {
    const x = median * Math.exp(sigma * this.normal());
    return Math.min(max, Math.max(min, x));
  }

  /** `len` lowercase hex digits. */
  hex(len: number): string {
    let s = '';
    for (let i = 0; i < len; i++) s += HEX[Math.floor(this.next() * 16)];
    return s;
  }
}
