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

// Records of one second share their date and time, and a log has one zone: both are
// remembered so most records only read their fraction.
let lastSecond = '';
let lastSecondMs = 0;
let lastZone = '';
let lastZoneMin = 0;

/** Where the fraction fractionAt read ended. */
let fractionEnd = 0;

/** Reads `.ffffff` at pos as ms: 0 when absent, -2 when a dot has no digits. */
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
  if (lastSecond !== '' && text.startsWith(lastSecond, start)) {
    // The common case: the second of the record before, `.fff` (as %m writes it), the same zone.
    let pos = start + 19;
    let fraction = 0;
    if (pos < end && text.charCodeAt(pos) === 46) {
      const a = text.charCodeAt(pos + 1) - D0;
      const b = text.charCodeAt(pos + 2) - D0;
      const c = text.charCodeAt(pos + 3) - D0;
      const d = pos + 4 < end ? text.charCodeAt(pos + 4) - D0 : -1;
      if (a < 0 || a > 9 || b < 0 || b > 9 || c < 0 || c > 9 || (d >= 0 && d <= 9)) return parseFully(text, start, end, requireZone);
      fraction = a * 100 + b * 10 + c;
      pos += 4;
    }
    if (pos < end && text.charCodeAt(pos) === 32) pos++;
    if (end - pos === lastZone.length && (lastZone === '' ? !requireZone : text.startsWith(lastZone, pos))) {
      return lastSecondMs + fraction - lastZoneMin * 60_000;
    }
  }
  return parseFully(text, start, end, requireZone);
}

function parseFully(text: string, start: number, end: number, requireZone: boolean): number | null {
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
  const fraction = fractionAt(text, start + 19, end);
  if (fraction < 0) return null;
  let pos = fractionEnd;
  let offsetMin = 0;
  if (pos < end && text.charCodeAt(pos) === 32) pos++;
  const zoneFrom = pos;
  const zoneLen = end - pos;
  if (zoneLen === 0) {
    if (requireZone) return null;
  } else if (zoneLen === 1 && text.charCodeAt(pos) === 90) {
    // Z
  } else if (zoneLen === 3 && (text.startsWith('UTC', pos) || text.startsWith('GMT', pos))) {
    // UTC
  } else {
    const sign = text.charCodeAt(pos);
    if (sign !== 43 && sign !== 45) return null;
    const hh = digits(text, pos + 1, 2);
    if (hh < 0 || zoneLen < 3) return null;
    let mm = 0;
    if (zoneLen === 5) mm = digits(text, pos + 3, 2);
    else if (zoneLen === 6 && text.charCodeAt(pos + 3) === 58) mm = digits(text, pos + 4, 2);
    else if (zoneLen !== 3) return null;
    if (mm < 0) return null;
    offsetMin = (sign === 45 ? -1 : 1) * (hh * 60 + mm);
  }
  const secondMs = Date.UTC(year, month - 1, day, hour, minute, second);
  if (Number.isNaN(secondMs)) return null;
  lastSecond = text.slice(start, start + 19);
  lastSecondMs = secondMs;
  lastZone = text.slice(zoneFrom, end);
  lastZoneMin = offsetMin;
  return secondMs + fraction - offsetMin * 60_000;
}
