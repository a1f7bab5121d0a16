import { AuditReplayError } from '../../../core/errors.js';

/** PostgreSQL's own default `log_line_prefix` (13 and later). */
export const DEFAULT_PG_PREFIX = '%m [%p] ';

/** Values a prefix can hold; `PrefixMatch.start/end` are indexed by these. */
export const V_TIME = 0; // %m %t
export const V_EPOCH = 1; // %n
export const V_USER = 2; // %u
export const V_DATABASE = 3; // %d
export const V_SESSION = 4; // %c
export const V_PID = 5; // %p
export const V_LINE = 6; // %l
export const V_APP = 7; // %a
export const V_HOST = 8; // %h
export const V_HOST_PORT = 9; // %r
export const V_SQLSTATE = 10; // %e
const VALUES = 11;
const V_IGNORED = -1; // %x %v %i %b %s %Q %P: read over, not kept

// Token kinds.
const LITERAL = 0;
/** `YYYY-MM-DD HH:MM:SS[.fff] ZONE` (%m, %t, %s). */
const TIMESTAMP = 1;
/** Digits with an optional fraction (%n) or sign (%Q). */
const NUMBER = 2;
/** Hex digits and dots (%c). */
const HEXDOT = 3;
/** Digits and slashes (%v). */
const VXID = 4;
/** Five characters (%e). */
const SQLSTATE = 5;
/** Free text ending where what follows it in the prefix begins (%u %d %a %h %r %i %b). */
const TEXT = 6;
/** %q: the rest of the prefix is left out for processes without a session. */
const STOP = 7;

interface Token {
  kind: number;
  /** The value slot (V_*) or V_IGNORED; the literal text for LITERAL. */
  value: number;
  literal: string;
  /** A width was given: `%10p` pads with spaces before the value (1), `%-10u` after it (-1); 0 without. */
  padded: number;
}

const ESCAPES: Record<string, [kind: number, value: number]> = {
  m: [TIMESTAMP, V_TIME],
  t: [TIMESTAMP, V_TIME],
  n: [NUMBER, V_EPOCH],
  u: [TEXT, V_USER],
  d: [TEXT, V_DATABASE],
  c: [HEXDOT, V_SESSION],
  p: [NUMBER, V_PID],
  P: [NUMBER, V_IGNORED],
  l: [NUMBER, V_LINE],
  a: [TEXT, V_APP],
  h: [TEXT, V_HOST],
  r: [TEXT, V_HOST_PORT],
  e: [SQLSTATE, V_SQLSTATE],
  x: [NUMBER, V_IGNORED],
  v: [VXID, V_IGNORED],
  i: [TEXT, V_IGNORED],
  b: [TEXT, V_IGNORED],
  s: [TIMESTAMP, V_IGNORED],
  Q: [NUMBER, V_IGNORED],
  q: [STOP, V_IGNORED],
};

/** The severities and section headers a stderr line can have after its prefix (English). */
const SEVERITIES = ['LOG', 'ERROR', 'WARNING', 'NOTICE', 'INFO', 'DEBUG', 'FATAL', 'PANIC', 'DETAIL', 'HINT', 'QUERY', 'CONTEXT', 'LOCATION', 'STATEMENT'];
/** Lines of a record that follow its first line, each with its own prefix. */
const SECTIONS = new Set(['DETAIL', 'HINT', 'QUERY', 'CONTEXT', 'LOCATION', 'STATEMENT']);
const KNOWN = new Set(SEVERITIES);

/** Backtracking budget per line: free-text values ending at a common literal could otherwise explode. */
const MAX_ATTEMPTS = 64;

/**
 * The severity word at `pos` (`LOG:  `), or null. Letters only: stderr writes every
 * DEBUGn as `DEBUG`.
 */
export function severityAt(text: string, pos: number): string | null {
  let end = pos;
  while (end < text.length && end - pos < 10) {
    const c = text.charCodeAt(end);
    if (c < 65 || c > 90) break;
    end++;
  }
  if (end === pos || text.charCodeAt(end) !== 58 || text.charCodeAt(end + 1) !== 32 || text.charCodeAt(end + 2) !== 32) return null;
  const word = text.slice(pos, end);
  return KNOWN.has(word) ? word : null;
}

/** True for the lines that continue a record (DETAIL, STATEMENT, ...) rather than start one. */
export function isSection(severity: string): boolean {
  return SECTIONS.has(severity);
}

/** Where a line's prefix put each value, and where its severity begins. */
export class PrefixMatch {
  readonly start = new Int32Array(VALUES);
  readonly end = new Int32Array(VALUES);
  /** Position of the severity word after the prefix. */
  severityAt = 0;

  /** Value `v` of `text`, or null when the prefix has none or it is empty. */
  get(text: string, v: number): string | null {
    const s = this.start[v]!;
    const e = this.end[v]!;
    return s < 0 || s === e ? null : text.slice(s, e);
  }
}

/** A compiled `log_line_prefix`: reads a line's prefix into a PrefixMatch. */
export class LogLinePrefix {
  private attempts = 0;

  private constructor(
    readonly source: string,
    private readonly tokens: readonly Token[],
  ) {}

  /**
   * Compiles a `log_line_prefix`, once per run. Supports `%m %t %n %u %d %c %p %l %a %h
   * %r %e %x %v %i %b %s %Q %P %q %%` and widths (`%-10u`); unknown escapes print nothing,
   * as in PostgreSQL. Throws a usage error for a prefix with no time (`%m`, `%t` or `%n`)
   * or with two values that nothing tells apart (`%u%d`).
   */
  static compile(source: string): LogLinePrefix {
    const tokens: Token[] = [];
    const literal = (s: string): void => {
      const last = tokens[tokens.length - 1];
      if (last?.kind === LITERAL) last.literal += s;
      else tokens.push({ kind: LITERAL, value: V_IGNORED, literal: s, padded: 0 });
    };
    for (let i = 0; i < source.length; i++) {
      const c = source[i]!;
      if (c !== '%') {
        literal(c);
        continue;
      }
      let j = i + 1;
      const left = source[j] === '-';
      if (left) j++;
      let padded = 0;
      while (j < source.length && source[j]! >= '0' && source[j]! <= '9') {
        padded = left ? -1 : 1;
        j++;
      }
      const e = source[j];
      i = j;
      if (e === undefined) break;
      if (e === '%') {
        literal('%');
        continue;
      }
      const spec = ESCAPES[e];
      if (!spec) continue;
      tokens.push({ kind: spec[0], value: spec[1], literal: '', padded });
    }
    if (!tokens.some((t) => t.value === V_TIME || t.value === V_EPOCH)) {
      throw new AuditReplayError('usage', `--pg-prefix '${source}' has no %m, %t or %n: records need their time`);
    }
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!;
      const next = tokens.slice(i + 1).find((x) => x.kind !== STOP);
      if (t.kind === TEXT && next !== undefined && next.kind !== LITERAL) {
        throw new AuditReplayError('usage', `--pg-prefix '${source}': a free-text escape (%u %d %a %h %r %i %b) must be followed by literal text, so its end can be found`);
      }
    }
    return new LogLinePrefix(source, tokens);
  }

  /**
   * Reads the prefix at the start of `text` into `m`, and the severity after it.
   * Returns the severity word (`LOG`, `STATEMENT`, ...) or null when the line does not
   * start with this prefix followed by a severity.
   */
  match(text: string, m: PrefixMatch): string | null {
    m.start.fill(-1);
    this.attempts = 0;
    const end = this.from(text, 0, 0, m);
    if (end < 0) return null;
    m.severityAt = end;
    return severityAt(text, end);
  }

  /** Matches tokens[i..] at pos; returns the position of the severity, or -1. */
  private from(text: string, i: number, pos: number, m: PrefixMatch): number {
    if (++this.attempts > MAX_ATTEMPTS) return -1;
    const tokens = this.tokens;
    const len = text.length;
    for (; i < tokens.length; i++) {
      const t = tokens[i]!;
      if (t.kind === LITERAL) {
        if (!text.startsWith(t.literal, pos)) return -1;
        pos += t.literal.length;
        continue;
      }
      if (t.kind === STOP) {
        if (severityAt(text, pos) !== null) return pos;
        continue;
      }
      if (t.padded > 0) while (pos < len && text.charCodeAt(pos) === 32) pos++;
      const start = pos;
      switch (t.kind) {
        case TIMESTAMP:
          pos = scanTimestamp(text, pos);
          break;
        case NUMBER: {
          if (pos < len && text.charCodeAt(pos) === 45) pos++;
          const digitsFrom = pos;
          while (pos < len && isDigit(text.charCodeAt(pos))) pos++;
          if (pos < len && text.charCodeAt(pos) === 46 && t.value === V_EPOCH) {
            pos++;
            while (pos < len && isDigit(text.charCodeAt(pos))) pos++;
          }
          if (pos === digitsFrom) pos = -1;
          break;
        }
        case HEXDOT:
          while (pos < len && isHexOrDot(text.charCodeAt(pos))) pos++;
          break;
        case VXID:
          while (pos < len && (isDigit(text.charCodeAt(pos)) || text.charCodeAt(pos) === 47)) pos++;
          break;
        case SQLSTATE:
          pos = pos + 5 <= len ? pos + 5 : -1;
          break;
        case TEXT:
          return this.text(text, i, pos, m);
      }
      if (pos < 0) return -1;
      if (t.value >= 0) {
        m.start[t.value] = start;
        m.end[t.value] = pos;
      }
      if (t.padded < 0) while (pos < len && text.charCodeAt(pos) === 32) pos++;
    }
    return severityAt(text, pos) !== null ? pos : -1;
  }

  /** A free-text value: tries each place the following literal occurs until the rest matches. */
  private text(text: string, i: number, pos: number, m: PrefixMatch): number {
    const t = this.tokens[i]!;
    let j = i + 1;
    while (this.tokens[j]?.kind === STOP) j++;
    const next = this.tokens[j];
    const set = (end: number): void => {
      if (t.value < 0) return;
      let s = pos;
      let e = end;
      if (t.padded > 0) while (s < e && text.charCodeAt(s) === 32) s++;
      if (t.padded < 0) while (e > s && text.charCodeAt(e - 1) === 32) e--;
      m.start[t.value] = s;
      m.end[t.value] = e;
    };
    if (next === undefined) {
      // Last in the prefix: the value runs up to the severity.
      let colon = text.indexOf(':  ', pos);
      while (colon >= 0) {
        for (const word of SEVERITIES) {
          const at = colon - word.length;
          if (at >= pos && text.startsWith(word, at)) {
            set(at);
            return at;
          }
        }
        colon = text.indexOf(':  ', colon + 1);
      }
      return -1;
    }
    let from = pos;
    while (true) {
      const at = text.indexOf(next.literal, from);
      if (at < 0) return -1;
      set(at);
      const r = this.from(text, j, at, m);
      if (r >= 0 || this.attempts > MAX_ATTEMPTS) return r;
      from = at + 1;
    }
  }
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isHexOrDot(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || c === 46;
}

/** The end of `YYYY-MM-DD HH:MM:SS[.ffffff] ZONE` at pos, or -1; the zone is letters, digits, `+`, `-`, `:`. */
function scanTimestamp(text: string, pos: number): number {
  if (pos + 19 > text.length || text.charCodeAt(pos + 4) !== 45 || text.charCodeAt(pos + 10) !== 32 || text.charCodeAt(pos + 13) !== 58) return -1;
  let p = pos + 19;
  if (text.charCodeAt(p) === 46) {
    p++;
    while (p < text.length && isDigit(text.charCodeAt(p))) p++;
  }
  if (text.charCodeAt(p) !== 32) return p;
  const zoneFrom = p + 1;
  let z = zoneFrom;
  while (z < text.length) {
    const c = text.charCodeAt(z);
    if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || isDigit(c) || c === 43 || c === 45 || c === 58) z++;
    else break;
  }
  // A space not followed by a zone belongs to what comes next.
  return z === zoneFrom ? p : z;
}
