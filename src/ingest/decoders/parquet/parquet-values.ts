import type { CellValue } from './parquet-column.js';
import type { LeafColumn } from './parquet-footer.js';

/**
 * Turns cells into event fields. Each converter is chosen once per column from its
 * type, so the per-row work is one call without type tests beyond the value's own.
 */

export type Converter<T> = (value: CellValue) => T;

const TWO_64 = 1n << 64n;
const JULIAN_UNIX_EPOCH = 2_440_588;
const DAY_MS = 86_400_000;

/** Text of a cell: ids, statements, names. Integers are printed exactly, however large; '' counts as missing. */
export function textOf(column: LeafColumn): Converter<string | null> {
  const scale = column.decimalScale;
  if (column.physical === 'INT96') {
    const time = timeOf(column);
    return (v) => {
      const ms = time(v);
      return ms === null ? null : new Date(ms).toISOString();
    };
  }
  return (v) => {
    if (v === null) return null;
    if (typeof v === 'string') return v === '' ? null : v;
    if (typeof v === 'bigint') return scale !== null ? formatDecimal(v, scale) : String(column.unsigned && v < 0n ? v + TWO_64 : v);
    if (typeof v === 'number') {
      if (scale !== null && Number.isInteger(v)) return formatDecimal(BigInt(v), scale);
      return String(column.unsigned && v < 0 ? v + 2 ** 32 : v);
    }
    if (typeof v === 'boolean') return String(v);
    return scale !== null ? formatDecimal(bytesToBigInt(v), scale) : v.length === 0 ? null : v.toString('hex');
  };
}

/**
 * A point in time in epoch ms, or null when the cell is empty or unreadable. Typed
 * timestamps (TIMESTAMP millis/micros/nanos, INT96, DATE) are exact; plain integers
 * and numeric text are epoch seconds, ms, µs or ns by magnitude; other text is ISO 8601
 * or `YYYY-MM-DD hh:mm:ss[.fffffffff][ zone]`, UTC when it names no zone.
 */
export function timeOf(column: LeafColumn): Converter<number | null> {
  const read = rawTimeOf(column);
  return (v) => {
    const t = read(v);
    return t !== null && Number.isFinite(t) ? t : null;
  };
}

function rawTimeOf(column: LeafColumn): Converter<number | null> {
  switch (column.time) {
    case 'ms':
      return (v) => (typeof v === 'bigint' || typeof v === 'number' ? Number(v) : null);
    case 'us':
      return (v) => (typeof v === 'bigint' || typeof v === 'number' ? Number(v) / 1000 : null);
    case 'ns':
      return (v) => (typeof v === 'bigint' ? Number(v / 1000n) / 1000 : typeof v === 'number' ? v / 1e6 : null);
    case 'int96':
      return (v) => (Buffer.isBuffer(v) && v.length === 12 ? int96ToMs(v) : null);
    case 'date':
      return (v) => (typeof v === 'number' ? v * DAY_MS : null);
    default: {
      const number = numberOf(column);
      return (v) => {
        if (typeof v === 'string') return parseTimeText(v);
        const n = number(v);
        return n === null ? null : epochToMs(n);
      };
    }
  }
}

/** A number (durations, counts): integers, decimals, floats, numeric text; else null. */
export function numberOf(column: LeafColumn): Converter<number | null> {
  const scale = column.decimalScale;
  return (v) => {
    if (v === null || typeof v === 'boolean') return null;
    if (typeof v === 'number') return scale ? v / 10 ** scale : v;
    if (typeof v === 'bigint') return scale ? Number(formatDecimal(v, scale)) : Number(v);
    if (typeof v === 'string') {
      const n = v.trim() === '' ? Number.NaN : Number(v);
      return Number.isFinite(n) ? n : null;
    }
    if (scale !== null) return Number(formatDecimal(bytesToBigInt(v), scale));
    return null;
  };
}

const OK_WORDS = new Set(['ok', 'success', 'succeeded', 'successful', 'finished', 'completed', 'complete', 'true', 'passed']);
// States of a statement that has not ended yet (Snowflake's INFORMATION_SCHEMA lists these).
const PENDING_WORDS = new Set(['running', 'queued', 'blocked', 'resuming_warehouse', 'started', 'pending', 'created']);

/**
 * Whether the statement succeeded: a boolean column as it is; a status text is a
 * success word (Okera's `ok`, Snowflake's `SUCCESS`), a state of a statement still
 * running (null), or anything else, which is a failure (Okera writes the error there;
 * Snowflake `FAIL`, `INCIDENT`, `FAILED_WITH_ERROR`). Numbers give null.
 */
export function statusOf(column: LeafColumn): Converter<boolean | null> {
  const text = textOf(column);
  return (v) => {
    if (typeof v === 'boolean') return v;
    // A number says nothing certain (is 0 an exit code or "false"?), so it leaves the outcome open.
    if (typeof v !== 'string') return null;
    const t = text(v);
    if (t === null) return null;
    const word = t.trim().toLowerCase();
    if (OK_WORDS.has(word)) return true;
    if (word === '' || PENDING_WORDS.has(word)) return null;
    return false;
  };
}

/** A cell as a JSON value for `extra`; undefined for what is not worth keeping (null, '', false). */
export function jsonOf(column: LeafColumn): Converter<unknown> {
  if (column.time !== null) {
    const time = timeOf(column);
    return (v) => time(v) ?? undefined;
  }
  const text = textOf(column);
  return (v) => {
    if (v === null || v === false || v === '') return undefined;
    if (typeof v === 'boolean' || (typeof v === 'number' && column.decimalScale === null)) return v;
    if (typeof v === 'bigint' && column.decimalScale === null) {
      const n = Number(v);
      return Number.isSafeInteger(n) ? n : String(v);
    }
    return text(v) ?? undefined;
  };
}

/** Impala/Hive/Spark INT96: nanoseconds of the day, then the Julian day, both little-endian. */
export function int96ToMs(v: Buffer): number {
  const nanos = v.readBigUInt64LE(0);
  const day = v.readUInt32LE(8);
  return (day - JULIAN_UNIX_EPOCH) * DAY_MS + Number(nanos / 1000n) / 1000;
}

/**
 * An epoch number in ms, its unit told by its size: below 1e11 it is seconds (1e11 s
 * is the year 5138, 1e11 ms is 1973), below 1e14 ms, below 1e17 µs, else ns.
 */
export function epochToMs(n: number): number {
  const a = Math.abs(n);
  if (a < 1e11) return n * 1000;
  if (a < 1e14) return n;
  if (a < 1e17) return n / 1000;
  return n / 1e6;
}

const TIME_TEXT = /^\s*(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9})\d*)?)?)?\s*(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?\s*$/i;
const NUMBER_TEXT = /^\s*-?\d+(?:\.\d+)?\s*$/;

/** Reads a timestamp written as text (see timeOf); null when it is not one. */
export function parseTimeText(text: string): number | null {
  const m = TIME_TEXT.exec(text);
  if (!m) return NUMBER_TEXT.test(text) ? epochToMs(Number(text)) : null;
  const month = +m[2]!;
  const day = +m[3]!;
  const hour = m[4] === undefined ? 0 : +m[4];
  const minute = m[5] === undefined ? 0 : +m[5];
  const second = m[6] === undefined ? 0 : +m[6];
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return null;
  let ms = Date.UTC(+m[1]!, month - 1, day, hour, minute, second);
  if (m[7] !== undefined) ms += Number(`0.${m[7]}`) * 1000;
  const zone = m[8];
  if (zone !== undefined && (zone[0] === '+' || zone[0] === '-')) {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    ms -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0')) * 60_000;
  }
  return ms;
}

/** Two's complement big-endian bytes (DECIMAL in fixed or variable bytes) as a bigint. */
export function bytesToBigInt(bytes: Buffer): bigint {
  if (bytes.length === 0) return 0n;
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  if (bytes[0]! & 0x80) v -= 1n << BigInt(bytes.length * 8);
  return v;
}

/** An unscaled decimal as exact text: (12345, 2) is `123.45`. */
export function formatDecimal(unscaled: bigint, scale: number): string {
  if (scale <= 0) return String(scale === 0 ? unscaled : unscaled * 10n ** BigInt(-scale));
  const negative = unscaled < 0n;
  const digits = String(negative ? -unscaled : unscaled).padStart(scale + 1, '0');
  return `${negative ? '-' : ''}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}
