import { hash } from 'node:crypto';
import type { ResultField } from '../target.js';

export type ChecksumMode = 'none' | 'rows' | 'full';

const MASK32 = 0xffffffff;

/**
 * An order-insensitive digest of a result: each row is hashed (SHA-1 of its values in the
 * server's text form, length-prefixed so `('ab','c')` and `('a','bc')` differ, NULL apart
 * from the empty string) and the row hashes are added modulo 2^64, so any order of the
 * same multiset of rows gives the same digest, and a repeated row counts twice (XOR
 * would cancel it). `full` also hashes the column names and type OIDs.
 */
export class ResultChecksum {
  private hi = 0;
  private lo = 0;

  constructor(private readonly mode: ChecksumMode) {}

  /** Adds a batch of rows. */
  add(rows: readonly (readonly (string | null)[])[]): void {
    if (this.mode === 'none') return;
    for (const row of rows) {
      let text = '';
      for (const v of row) text += v === null ? '~' : `${v.length}:${v}`;
      const h = hash('sha1', text, 'buffer');
      this.lo += h.readUInt32BE(4);
      this.hi = (this.hi + h.readUInt32BE(0) + Math.floor(this.lo / 2 ** 32)) & MASK32;
      this.lo = this.lo >>> 0;
    }
  }

  /** 16 hex digits (`full`: then `-` and 8 for the columns), or null with `none`. */
  digest(fields: readonly ResultField[]): string | null {
    if (this.mode === 'none') return null;
    const rows = (this.hi >>> 0).toString(16).padStart(8, '0') + this.lo.toString(16).padStart(8, '0');
    if (this.mode === 'rows') return rows;
    return `${rows}-${hash('sha1', fields.map((f) => `${f.name.length}:${f.name}:${f.typeId}`).join(','), 'hex').slice(0, 8)}`;
  }
}
