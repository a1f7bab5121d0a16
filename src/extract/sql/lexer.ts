/**
 * Single-pass SQL lexer shared by the classifier, the fingerprinter and the statement
 * splitter. It knows the lexical rules of PostgreSQL, Redshift, Trino and Hive/Okera well
 * enough to find token boundaries; it never builds a syntax tree.
 *
 * Tokens go into a reusable `TokenBuffer`: three typed arrays (type, start, end) filled by
 * one tight charCodeAt loop, so the hot path allocates nothing per token. The buffer is
 * filled lazily, so the classifier can stop after a few tokens, and the fingerprinter,
 * running afterwards, reuses the same tokens instead of lexing again. For long scripts the
 * splitter uses it as a stream of fixed-size chunks instead (`nextChunk`).
 *
 * Whitespace and comments are not tokens: a gap between one token's `end` and the next
 * token's `start` means there was whitespace or a comment there. Unterminated quotes and
 * comments never throw: they run to the end of the input and set `unterminated`.
 */

/** End of input. */
export const T_EOF = 0;
/** Unquoted identifier or keyword. */
export const T_WORD = 1;
/** `"quoted"` or `` `backtick` `` identifier (or `U&"..."`). */
export const T_QIDENT = 2;
/** Any string literal: `'...'`, `E'...'`, `U&'...'`, `N'...'`, `B'...'`, `X'...'`, `$tag$...$tag$`. */
export const T_STRING = 3;
/** Numeric literal: `42`, `1.5e-3`, `.5`, `0x1F`. */
export const T_NUMBER = 4;
/** Bind parameter: `$1`, `?`, `:name`. */
export const T_PARAM = 5;
export const T_LPAREN = 6;
export const T_RPAREN = 7;
export const T_COMMA = 8;
export const T_SEMI = 9;
export const T_DOT = 10;
export const T_LBRACKET = 11;
export const T_RBRACKET = 12;
/** Any other operator character; `::` is one token, every other operator is one character. */
export const T_OP = 13;

export type TokenType = number;

// Character classes for ASCII; every code unit >= 128 counts as an identifier character
// (PostgreSQL does the same), except the few Unicode spaces in `UNICODE_SPACES`.
const C_IDSTART = 2;
const C_IDPART = 4;
const C_DIGIT = 8;
const CLASS = new Uint8Array(128);
for (let c = 48; c <= 57; c++) CLASS[c] = C_IDPART | C_DIGIT;
for (let c = 65; c <= 90; c++) CLASS[c] = C_IDSTART | C_IDPART;
for (let c = 97; c <= 122; c++) CLASS[c] = C_IDSTART | C_IDPART;
CLASS[95] = C_IDSTART | C_IDPART; // _
CLASS[36] = C_IDPART; // $ inside identifiers (PostgreSQL)

// NBSP and BOM turn up in pasted or file-loaded SQL; reading them as identifier characters
// would glue keywords together, so these count as whitespace.
const UNICODE_SPACES = [0xa0, 0xfeff, 0x2028, 0x2029, 0x3000];

/**
 * 1 for every UTF-16 code unit that can continue an unquoted identifier: one load per
 * character in the hottest loop instead of a range test and a class lookup.
 */
const IDPART = new Uint8Array(65536).fill(1);
for (let c = 0; c < 128; c++) IDPART[c] = (CLASS[c]! & C_IDPART) !== 0 ? 1 : 0;
for (const c of UNICODE_SPACES) IDPART[c] = 0;

/** Token type of each single-character ASCII token; everything not listed is an operator. */
const PUNCT = new Uint8Array(128).fill(T_OP);
PUNCT[40] = T_LPAREN;
PUNCT[41] = T_RPAREN;
PUNCT[44] = T_COMMA;
PUNCT[59] = T_SEMI;
PUNCT[46] = T_DOT;
PUNCT[91] = T_LBRACKET;
PUNCT[93] = T_RBRACKET;

/** Whether code unit `c` can continue an unquoted identifier (false for NaN past the end). */
function isIdPart(c: number): boolean {
  return IDPART[c] === 1;
}

function isIdStart(c: number): boolean {
  return c >= 128 ? !isUnicodeSpace(c) : (CLASS[c]! & C_IDSTART) !== 0;
}

function isUnicodeSpace(c: number): boolean {
  return c === 0xa0 || c === 0xfeff || c === 0x2028 || c === 0x2029 || c === 0x3000;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isHexDigit(c: number): boolean {
  return (c >= 48 && c <= 57) || ((c | 0x20) >= 97 && (c | 0x20) <= 102);
}

const INITIAL_CAPACITY = 256;
/** Buffers grown past this by one huge statement are dropped on the next reset. */
const MAX_KEPT_CAPACITY = 1 << 16;
/** Tokens per `nextChunk` when streaming. */
const CHUNK = 1024;

/**
 * The tokens of one SQL text. `t(i)` returns the type of token `i`, lexing up to it on
 * demand, or `T_EOF` past the end; `starts[i]`/`ends[i]` are valid once `t(i)` has been
 * called. One instance is reused across statements.
 */
export class TokenBuffer {
  src = '';
  len = 0;
  /** Where lexing resumes. */
  pos = 0;
  /** Tokens in the arrays. */
  n = 0;
  /** Whether the lexer reached the end of the input. */
  done = false;
  /** Whether a backslash escapes the next character in plain `'...'` and `"..."` (Hive/Impala). */
  backslash = false;
  /** Set when a quote or comment ran to the end of the input. */
  unterminated = false;
  /** Set when a plain string looked like a Hive `\'` escape read with standard rules. */
  suspicious = false;
  types = new Uint8Array(INITIAL_CAPACITY);
  starts = new Int32Array(INITIAL_CAPACITY);
  ends = new Int32Array(INITIAL_CAPACITY);

  /**
   * Starts over on `src`. Without `backslash`, the escape style is detected: standard SQL
   * (`''` only) unless the text only makes sense with Hive/Impala backslash escapes.
   */
  reset(src: string, backslash?: boolean): void {
    this.src = src;
    this.len = src.length;
    this.pos = 0;
    this.n = 0;
    this.done = false;
    this.unterminated = false;
    this.suspicious = false;
    this.backslash = backslash ?? usesBackslashEscapes(src);
    if (this.types.length > MAX_KEPT_CAPACITY) {
      this.types = new Uint8Array(INITIAL_CAPACITY);
      this.starts = new Int32Array(INITIAL_CAPACITY);
      this.ends = new Int32Array(INITIAL_CAPACITY);
    }
  }

  /** Type of token `i`, `T_EOF` when the input has fewer tokens. */
  t(i: number): TokenType {
    if (i < this.n) return this.types[i]!;
    if (this.done) return T_EOF;
    this.scan(i);
    return i < this.n ? this.types[i]! : T_EOF;
  }

  /** Lexes everything; returns the token count. */
  all(): number {
    if (!this.done) this.scan(0x7fffffff);
    return this.n;
  }

  /**
   * Streaming use: replaces the arrays' contents with the next tokens (at most a fixed
   * chunk; positions stay absolute) and returns how many there are, 0 at the end.
   */
  nextChunk(): number {
    this.n = 0;
    if (!this.done) this.scan(CHUNK - 1);
    return this.n;
  }

  /** Whether token `i` is the unquoted word `kw` (given in lower case), ignoring case. */
  isWord(i: number, kw: string): boolean {
    return this.t(i) === T_WORD && wordIs(this.src, this.starts[i]!, this.ends[i]!, kw);
  }

  /** Token `i` in lower case when it is an unquoted word, else ''. */
  word(i: number): string {
    if (this.t(i) !== T_WORD) return '';
    return this.src.slice(this.starts[i], this.ends[i]).toLowerCase();
  }

  /** Source text of token `i`. */
  text(i: number): string {
    if (this.t(i) === T_EOF) return '';
    return this.src.slice(this.starts[i], this.ends[i]);
  }

  /** Lexes until token `until` exists or the input ends: the one hot loop. */
  private scan(until: number): void {
    const s = this.src;
    const len = this.len;
    let p = this.pos;
    let n = this.n;
    let types = this.types;
    let starts = this.starts;
    let ends = this.ends;
    while (n <= until) {
      // Whitespace and comments.
      let c = -1;
      while (p < len) {
        c = s.charCodeAt(p);
        if (c <= 32) {
          p++;
        } else if (c === 45 && s.charCodeAt(p + 1) === 45) {
          p += 2;
          while (p < len && (c = s.charCodeAt(p)) !== 10 && c !== 13) p++;
        } else if (c === 47 && s.charCodeAt(p + 1) === 42) {
          p = this.skipBlockComment(p + 2);
        } else if (c >= 128 && isUnicodeSpace(c)) {
          p++;
        } else {
          break;
        }
        c = -1;
      }
      if (c < 0) {
        this.done = true;
        break;
      }

      const start = p;
      let type: number = T_WORD;
      if (c >= 128) {
        p++;
        while (p < len && isIdPart(s.charCodeAt(p))) p++;
      } else {
        const cls = CLASS[c]!;
        if ((cls & C_IDSTART) !== 0) {
          const c1 = s.charCodeAt(p + 1);
          if (c1 === 39) {
            // E'..' (always backslash escapes), B'..', X'..', N'..'
            const lc = c | 0x20;
            if (lc === 101) {
              p = this.skipQuoted(p + 2, 39, true);
              type = T_STRING;
            } else if (lc === 98 || lc === 120 || lc === 110) {
              p = this.skipQuoted(p + 2, 39, this.backslash);
              type = T_STRING;
            }
          } else if (c1 === 38 && (c | 0x20) === 117) {
            // U&'..' and U&".."
            const c2 = s.charCodeAt(p + 2);
            if (c2 === 39) {
              p = this.skipQuoted(p + 3, 39, this.backslash);
              type = T_STRING;
            } else if (c2 === 34) {
              p = this.skipQuoted(p + 3, 34, this.backslash);
              type = T_QIDENT;
            }
          }
          if (type === T_WORD) {
            p++;
            while (p < len && IDPART[s.charCodeAt(p)] === 1) p++;
          }
        } else if ((cls & C_DIGIT) !== 0 || (c === 46 && isDigit(s.charCodeAt(p + 1)) && !this.followsOperand(p))) {
          p = this.skipNumber(p, c);
          type = T_NUMBER;
          if (p < len && isIdPart(s.charCodeAt(p))) {
            // Hive allows identifiers that start with digits (`2020_sales`); `1e` is not a number either.
            while (p < len && isIdPart(s.charCodeAt(p))) p++;
            type = T_WORD;
          }
        } else {
          switch (c) {
            case 39: // '
              p = this.skipQuoted(p + 1, 39, this.backslash);
              type = T_STRING;
              break;
            case 34: // "
              p = this.skipQuoted(p + 1, 34, this.backslash);
              type = T_QIDENT;
              break;
            case 96: // `
              p = this.skipQuoted(p + 1, 96, false);
              type = T_QIDENT;
              break;
            case 36: {
              // $1, $$...$$, $tag$...$tag$, or a lone $
              if (isDigit(s.charCodeAt(p + 1))) {
                p += 2;
                while (p < len && isDigit(s.charCodeAt(p))) p++;
                type = T_PARAM;
              } else {
                const q = this.dollarQuoteEnd(p);
                if (q >= 0) {
                  p = q;
                  type = T_STRING;
                } else {
                  p++;
                  type = T_OP;
                }
              }
              break;
            }
            case 63: {
              // ? is a bind parameter, except in the PostgreSQL jsonb/geometric operators ?| ?& ?#
              const c1 = s.charCodeAt(p + 1);
              p++;
              type = c1 === 124 || c1 === 38 || c1 === 35 ? T_OP : T_PARAM;
              break;
            }
            case 58: {
              // :: cast, :name bind parameter, or a lone : (array slices, Hive ${a:b})
              const c1 = s.charCodeAt(p + 1);
              if (c1 === 58) {
                p += 2;
                type = T_OP;
              } else if (isIdStart(c1) && !this.followsOperand(p)) {
                p += 2;
                while (p < len && isIdPart(s.charCodeAt(p))) p++;
                type = T_PARAM;
              } else {
                p++;
                type = T_OP;
              }
              break;
            }
            default:
              p++;
              type = PUNCT[c]!;
          }
        }
      }

      if (n === types.length) {
        this.grow();
        types = this.types;
        starts = this.starts;
        ends = this.ends;
      }
      types[n] = type;
      starts[n] = start;
      ends[n] = p;
      n++;
    }
    this.pos = p;
    this.n = n;
  }

  private grow(): void {
    const cap = this.types.length * 2;
    const types = new Uint8Array(cap);
    types.set(this.types);
    const starts = new Int32Array(cap);
    starts.set(this.starts);
    const ends = new Int32Array(cap);
    ends.set(this.ends);
    this.types = types;
    this.starts = starts;
    this.ends = ends;
  }

  /** Whether the character before `p` ends an operand, so `p` cannot start `.5` or `:name`. */
  private followsOperand(p: number): boolean {
    if (p === 0) return false;
    const b = this.src.charCodeAt(p - 1);
    // `?` counts: the fingerprint writes `?` for literals, and `'a':b` must lex the same as `?:b`.
    return isIdPart(b) || b === 41 || b === 93 || b === 34 || b === 96 || b === 39 || b === 63;
  }

  private skipBlockComment(p: number): number {
    const s = this.src;
    const len = this.len;
    let depth = 1;
    while (p < len) {
      const c = s.charCodeAt(p);
      if (c === 42 && s.charCodeAt(p + 1) === 47) {
        p += 2;
        if (--depth === 0) return p;
      } else if (c === 47 && s.charCodeAt(p + 1) === 42) {
        p += 2;
        depth++;
      } else {
        p++;
      }
    }
    this.unterminated = true;
    return len;
  }

  /** Returns the index after the closing `quote`; doubled quotes always escape. */
  private skipQuoted(p: number, quote: number, backslash: boolean): number {
    const s = this.src;
    const len = this.len;
    const qs = quote === 39 ? "'" : quote === 34 ? '"' : '`';
    for (;;) {
      const q = s.indexOf(qs, p);
      if (q < 0) {
        this.unterminated = true;
        return len;
      }
      if (s.charCodeAt(q - 1) === 92) {
        // An odd run of backslashes before the quote escapes it (in backslash mode).
        let b = q - 1;
        while (b >= p && s.charCodeAt(b) === 92) b--;
        if ((q - 1 - b) % 2 === 1) {
          if (backslash) {
            p = q + 1;
            continue;
          }
          if (quote === 39 && q + 1 < len && isIdPart(s.charCodeAt(q + 1))) this.suspicious = true;
        }
      }
      if (s.charCodeAt(q + 1) === quote) {
        p = q + 2;
        continue;
      }
      return q + 1;
    }
  }

  /** If `$` at `p` opens a dollar quote, returns the index after its closing tag, else -1. */
  private dollarQuoteEnd(p: number): number {
    const s = this.src;
    const len = this.len;
    let q = p + 1;
    if (s.charCodeAt(q) !== 36) {
      if (!isIdStart(s.charCodeAt(q))) return -1;
      q++;
      for (;;) {
        if (q >= len) return -1;
        const c = s.charCodeAt(q);
        if (c === 36) break;
        if (!isIdPart(c)) return -1;
        q++;
      }
    }
    // q is at the tag's closing $
    const tag = s.slice(p, q + 1);
    const close = s.indexOf(tag, q + 1);
    if (close < 0) {
      this.unterminated = true;
      return len;
    }
    return close + tag.length;
  }

  private skipNumber(p: number, c: number): number {
    const s = this.src;
    const len = this.len;
    if (c === 48 && (s.charCodeAt(p + 1) | 0x20) === 120 && isHexDigit(s.charCodeAt(p + 2))) {
      p += 3;
      while (p < len) {
        const d = s.charCodeAt(p);
        if (isHexDigit(d) || (d === 95 && isHexDigit(s.charCodeAt(p + 1)))) p++;
        else break;
      }
      return p;
    }
    while (p < len) {
      const d = s.charCodeAt(p);
      if (isDigit(d) || (d === 95 && isDigit(s.charCodeAt(p + 1)) && p > 0 && isDigit(s.charCodeAt(p - 1)))) p++;
      else break;
    }
    if (s.charCodeAt(p) === 46 && s.charCodeAt(p + 1) !== 46) {
      p++;
      while (p < len && isDigit(s.charCodeAt(p))) p++;
    }
    if ((s.charCodeAt(p) | 0x20) === 101) {
      const e1 = s.charCodeAt(p + 1);
      if (isDigit(e1)) p += 2;
      else if ((e1 === 43 || e1 === 45) && isDigit(s.charCodeAt(p + 2))) p += 3;
      else return p;
      while (p < len && isDigit(s.charCodeAt(p))) p++;
    }
    return p;
  }
}

const probe = new TokenBuffer();

/**
 * Whether `src` must be read with Hive/Impala backslash escapes. Standard rules win unless
 * they leave a string unterminated or glue a word to a `\'`-closed string (`'it\'s'`),
 * and backslash rules then read the whole text cleanly. Costs one `indexOf` in the usual case.
 */
export function usesBackslashEscapes(src: string): boolean {
  if (src.indexOf('\\') < 0) return false;
  probe.reset(src, false);
  while (probe.nextChunk() > 0);
  if (!probe.unterminated && !probe.suspicious) return false;
  probe.reset(src, true);
  while (probe.nextChunk() > 0);
  return !probe.unterminated;
}

/** Whether `src[start, end)` is the word `kw` (given in lower case), ignoring ASCII case. */
export function wordIs(src: string, start: number, end: number, kw: string): boolean {
  const len = kw.length;
  if (end - start !== len) return false;
  for (let k = 0; k < len; k++) {
    const c = src.charCodeAt(start + k);
    const want = kw.charCodeAt(k);
    // Folding with | 0x20 is only safe for letters; everything else must match exactly.
    if (c !== want && ((c | 0x20) !== want || want < 97 || want > 122)) return false;
  }
  return true;
}
