const D0 = 48;
const POW10 = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000];

function digits(text: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const d = text.charCodeAt(i) - D0;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

// Records of one second share their date and time, and a log has one zone: the last
// second read (as a number made of its digits) and zone are remembered, so most records
// cost a few character reads and no Date.UTC.
let lastKey = -1;
let lastSecondMs = 0;
let lastZone = '';
let lastZoneMin = 0;

/** Where the fraction fractionAt read ended. */
let fractionEnd = 0;

/** Reads `.ffffff` at pos (at the dot) as ms: 0 when absent, -2 when the dot has no digits. */
function fractionAt(text: string, pos: number, end: number): number {
  if (pos >= end || text.charCodeAt(pos) !== 46) {
    fractionEnd = pos;
    return 0;
  }
  pos++;
  let n = 0;
  let v = 0;
  while (pos < end) {
    const d = text.charCodeAt(pos) - D0;
    if (d < 0 || d > 9) break;
    if (n < 9) {
      v = v * 10 + d;
      n++;
    }
    pos++;
  }
  fractionEnd = pos;
  if (n === 0) return -2;
  return n <= 3 ? v * POW10[3 - n]! : v / POW10[n - 3]!;
}

/**
 * Reads a PostgreSQL log timestamp (`2026-11-20 10:00:00.123 UTC`, the `%m`/`%t` form
 * of every log destination) from `text[start, end)` into epoch ms, or null. The zone must
 * be UTC, GMT, Z or a numeric offset (`+02`, `-0330`, `+05:30`): other abbreviations are
 * ambiguous (CST is three zones), so they are refused rather than guessed. A missing zone
 * reads as UTC unless `requireZone`. Character arithmetic, not a regex: it runs per record.
 */
export function parsePgTime(text: string, start = 0, end = text.length, requireZone = false): number | null {
  if (end - start < 19) return null;
  // Records of a busy server share their millisecond: one string comparison, no parsing.
  const whole = start === 0 && end === text.length ? text : text.slice(start, end);
  if (whole === lastText && requireZone === lastRequireZone) return lastResult;
  const ms = parse(text, start, end, requireZone);
  if (ms !== null) {
    lastText = whole;
    lastRequireZone = requireZone;
    lastResult = ms;
  }
  return ms;
}

let lastText = '';
let lastRequireZone = false;
let lastResult = 0;

function parse(text: string, start: number, end: number, requireZone: boolean): number | null {
  const c10 = text.charCodeAt(start + 10);
  if (
    text.charCodeAt(start + 4) !== 45 ||
    text.charCodeAt(start + 7) !== 45 ||
    (c10 !== 32 && c10 !== 84) ||
    text.charCodeAt(start + 13) !== 58 ||
    text.charCodeAt(start + 16) !== 58
  ) {
    return null;
  }
  const year = digits(text, start, 4);
  const month = digits(text, start + 5, 2);
  const day = digits(text, start + 8, 2);
  const hour = digits(text, start + 11, 2);
  const minute = digits(text, start + 14, 2);
  const second = digits(text, start + 17, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 24 || minute < 0 || minute > 59 || second < 0 || second > 60) {
    return null;
  }
  const key = ((((year * 16 + month) * 32 + day) * 32 + hour) * 64 + minute) * 64 + second;
  let pos = start + 19;
  let fraction = 0;
  if (pos < end && text.charCodeAt(pos) === 46) {
    fraction = fractionAt(text, pos, end);
    if (fraction < 0) return null;
    pos = fractionEnd;
  }
  if (pos < end && text.charCodeAt(pos) === 32) pos++;
  const zoneLen = end - pos;
  let offsetMin: number;
  if (zoneLen === lastZone.length && sameAt(text, pos, lastZone)) {
    if (zoneLen === 0 && requireZone) return null;
    offsetMin = lastZoneMin;
  } else {
    const z = zoneOffset(text, pos, end, requireZone);
    if (z === null) return null;
    offsetMin = z;
    lastZone = text.slice(pos, end);
    lastZoneMin = z;
  }
  if (key !== lastKey) {
    const ms = Date.UTC(year, month - 1, day, hour, minute, second);
    if (Number.isNaN(ms)) return null;
    lastKey = key;
    lastSecondMs = ms;
  }
  return lastSecondMs + fraction - offsetMin * 60_000;
}

function sameAt(text: string, pos: number, s: string): boolean {
  for (let i = 0; i < s.length; i++) if (text.charCodeAt(pos + i) !== s.charCodeAt(i)) return false;
  return true;
}

/** The offset in minutes of the zone in `text[pos, end)`: UTC, GMT, Z or numeric; null otherwise. */
function zoneOffset(text: string, pos: number, end: number, requireZone: boolean): number | null {
  const zoneLen = end - pos;
  if (zoneLen === 0) return requireZone ? null : 0;
  if (zoneLen === 1 && text.charCodeAt(pos) === 90) return 0;
  if (zoneLen === 3 && (text.startsWith('UTC', pos) || text.startsWith('GMT', pos))) return 0;
  const sign = text.charCodeAt(pos);
  if (sign !== 43 && sign !== 45) return null;
  const hh = digits(text, pos + 1, 2);
  if (hh < 0 || zoneLen < 3) return null;
  let mm = 0;
  if (zoneLen === 5) mm = digits(text, pos + 3, 2);
  else if (zoneLen === 6 && text.charCodeAt(pos + 3) === 58) mm = digits(text, pos + 4, 2);
  else if (zoneLen !== 3) return null;
  if (mm < 0) return null;
  return (sign === 45 ? -1 : 1) * (hh * 60 + mm);
}
