/**
 * Statement fingerprints: the statement's shape with every value taken out, so that all
 * executions of one query shape share one fingerprint. pt-query-digest's rules are the
 * reference; the exact rules are:
 *
 * 1. Comments (`--`, nested `/* *\/`) are dropped; each counts as whitespace.
 * 2. Unquoted words and operators are folded to lower case. Quoted identifiers (`"Ab"`,
 *    `` `Ab` ``, `U&"Ab"`) keep their exact text, quotes included.
 * 3. Whitespace does not count: tokens are rewritten with one space between them, except
 *    none after `(`, `[` and `.`, and none before `(`, `)`, `[`, `]`, `,` and `.`, whatever
 *    the source had (`a = 1`, `a=1` and `a\n=\t1` all give `a = ?`; `count( * )` gives
 *    `count(*)`; `insert into t (a,b)` gives `insert into t(a, b)`). pt-query-digest keeps
 *    the source's spacing; here reformatted SQL keeps its fingerprint. Operators stay
 *    spaced from everything else, since `: c` joined would read as `:c`.
 *    Trailing `;` are dropped.
 * 4. Values become `?`: every string literal form (`'..'`, `E'..'`, `U&'..'`, `N'..'`,
 *    `B'..'`, `X'..'`, `$$..$$`, `$tag$..$tag$`), numbers (`42`, `1.5e-3`, `.5`, `0x1F`),
 *    the word NULL, and bind parameters (`$1`, `?`, `:name`). A `+`/`-` touching a number
 *    is part of it when it stands where an operand is expected: at the start, after an
 *    operator, `(`, `[` or `,`, or after a keyword such as SELECT, WHERE, AND, BETWEEN,
 *    THEN, LIMIT (`a = -5` → `a = ?`, but `a -5` → `a -?`).
 * 5. Lists of values collapse: `IN (v, ...)` → `in (?+)`, `VALUES (v, ...), (v, ...)` →
 *    `values (?+)`, `ARRAY[v, ...]` → `array[?+]`, whatever the count and the spacing — but
 *    only when every element is a value (rule 4), so `IN (SELECT ...)` or
 *    `VALUES (1, now())` keep their shape (with their values still replaced one by one).
 * 6. Everything else is kept: identifiers with digits (`t1`, `2020_sales`) are not numbers,
 *    TRUE/FALSE and keywords stay, `LIMIT 10` becomes `limit ?`.
 *
 * The result is deterministic and idempotent: `fingerprint(fingerprint(x)) === fingerprint(x)`.
 * Hive/Impala strings with backslash escapes (`'it\'s'`) are read whole when the text only
 * makes sense that way (see `usesBackslashEscapes`). Known limit: Hive's double-quoted
 * strings cannot be told from identifiers without knowing the dialect, so they are kept.
 */
import { hash } from 'node:crypto';
import {
  TokenBuffer,
  T_COMMA,
  T_DOT,
  T_EOF,
  T_LBRACKET,
  T_LPAREN,
  T_NUMBER,
  T_OP,
  T_PARAM,
  T_QIDENT,
  T_RBRACKET,
  T_RPAREN,
  T_SEMI,
  T_STRING,
  T_WORD,
} from './lexer.js';

const buffer = new TokenBuffer();

/** Normalised text of `sql` with values replaced by `?` (rules at the top of this file). */
export function fingerprint(sql: string): string {
  buffer.reset(sql);
  return fingerprintTokens(buffer);
}

/**
 * Short stable id of a fingerprint: the first 16 lower-case hex characters (64 bits) of
 * the SHA-256 of its UTF-8 text. It depends on nothing but the text, so ids can be compared
 * across runs, machines and outputs; with a million distinct shapes the chance of any two
 * sharing an id is about 3·10⁻⁸. Not cached here: callers keep a map (shapes repeat).
 */
export function fingerprintId(fingerprint: string): string {
  return hash('sha256', fingerprint, 'hex').slice(0, 16);
}

/** Keywords after which a sign belongs to the number that follows (`BETWEEN -5 AND -1`). */
const UNARY_AFTER = new Set([
  'select',
  'where',
  'and',
  'or',
  'not',
  'when',
  'then',
  'else',
  'between',
  'limit',
  'offset',
  'having',
  'on',
  'return',
  'returning',
  'case',
  'like',
  'is',
  'distinct',
  'all',
  'any',
  'some',
  'escape',
  'by',
  'set',
  'values',
  'in',
]);

/** Fingerprints the text in `tb` (already reset); lexes whatever is left. */
export function fingerprintTokens(tb: TokenBuffer): string {
  const n = tb.all();
  const types = tb.types;
  const starts = tb.starts;
  const ends = tb.ends;
  const src = tb.src;
  let last = n;
  while (last > 0 && types[last - 1] === T_SEMI) last--;
  if (last === 0) return '';

  // Lower-casing the whole text once and slicing tokens out of it is far cheaper than
  // folding token by token; a few characters (İ) change length, and then tokens are folded one by one.
  const lower = src.toLowerCase();
  const aligned = lower.length === src.length;
  let out = '';
  let prevTail: number = T_EOF;

  for (let i = 0; i < last; i++) {
    const ty = types[i]!;
    const st = starts[i]!;
    const en = ends[i]!;
    let piece: string | null = null;
    // A collapsed list starts like a word and ends like a bracket.
    let head = ty;
    let tail = ty;

    switch (ty) {
      case T_STRING:
      case T_NUMBER:
      case T_PARAM:
        piece = '?';
        break;
      case T_QIDENT:
        piece = src.slice(st, en);
        break;
      case T_WORD: {
        // Only four words need a look: test length and first letter before comparing.
        const len = en - st;
        if (len > 6 || len === 3 || len === 1) break;
        const c0 = src.charCodeAt(st) | 0x20;
        if (c0 === 110) {
          if (len === 4 && tb.isWord(i, 'null')) piece = '?';
        } else if (c0 === 105) {
          if (len === 2 && tb.isWord(i, 'in') && i + 1 < last && types[i + 1] === T_LPAREN) {
            const close = matchValueList(tb, i + 2, T_RPAREN);
            if (close >= 0) {
              piece = 'in(?+)';
              tail = T_RPAREN;
              i = close;
            }
          }
        } else if (c0 === 118) {
          if (len === 6 && tb.isWord(i, 'values') && i + 1 < last && types[i + 1] === T_LPAREN) {
            const close = matchValueRows(tb, i + 1);
            if (close >= 0) {
              piece = 'values(?+)';
              tail = T_RPAREN;
              i = close;
            }
          }
        } else if (c0 === 97) {
          if (len === 5 && tb.isWord(i, 'array') && i + 1 < last && types[i + 1] === T_LBRACKET) {
            const close = matchValueList(tb, i + 2, T_RBRACKET);
            if (close >= 0) {
              piece = 'array[?+]';
              tail = T_RBRACKET;
              i = close;
            }
          }
        }
        break;
      }
      case T_OP:
        if (
          en - st === 1 &&
          i + 1 < last &&
          types[i + 1] === T_NUMBER &&
          starts[i + 1] === en &&
          isSign(src.charCodeAt(st)) &&
          operandExpected(tb, i, lower, aligned)
        ) {
          piece = '?';
          head = tail = T_NUMBER;
          i++;
        }
        break;
    }

    const text = piece ?? (aligned ? lower.slice(st, en) : src.slice(st, en).toLowerCase());
    // `. 1x` joined would read back as the number `.1` followed by `x`.
    const dotDigit = prevTail === T_DOT && text.charCodeAt(0) >= 48 && text.charCodeAt(0) <= 57;
    if (prevTail !== T_EOF && (spaced(prevTail, head) || dotDigit)) out += ' ';
    out += text;
    prevTail = tail;
  }
  return out;
}

/** Whether the canonical text puts a space between a token of type `a` and one of type `b` (rule 3). */
function spaced(a: number, b: number): boolean {
  if (a === T_LPAREN || a === T_LBRACKET || a === T_DOT) return false;
  return !(b === T_LPAREN || b === T_RPAREN || b === T_LBRACKET || b === T_RBRACKET || b === T_COMMA || b === T_DOT || b === T_SEMI);
}

function isSign(c: number): boolean {
  return c === 45 || c === 43;
}

/** Whether the sign at token `i` stands where an operand is expected (so it is unary). */
function operandExpected(tb: TokenBuffer, i: number, lower: string, aligned: boolean): boolean {
  if (i === 0) return true;
  const p = tb.types[i - 1]!;
  if (p === T_OP || p === T_LPAREN || p === T_COMMA || p === T_LBRACKET) return true;
  if (p !== T_WORD) return false;
  const s = tb.starts[i - 1]!;
  const e = tb.ends[i - 1]!;
  return UNARY_AFTER.has(aligned ? lower.slice(s, e) : tb.src.slice(s, e).toLowerCase());
}

/**
 * Matches `v, v, ...` followed by `close`, starting at token `j`, where every `v` is a
 * value (rule 4, optionally signed). Also accepts the `?+` this module writes, so collapsed
 * lists stay collapsed. Returns the index of the closing token, or -1.
 */
function matchValueList(tb: TokenBuffer, j: number, close: number): number {
  for (;;) {
    const ty = tb.t(j);
    if (ty === T_STRING || ty === T_NUMBER || ty === T_PARAM) {
      j++;
    } else if (ty === T_OP && isSign(tb.src.charCodeAt(tb.starts[j]!)) && tb.t(j + 1) === T_NUMBER) {
      j += 2;
    } else if (ty === T_WORD && tb.isWord(j, 'null')) {
      j++;
    } else {
      return -1;
    }
    // `v+)`: accepted after any value, not just `?`, or a list that prints as `(?+)` would
    // only collapse on the second pass.
    if (tb.t(j) === T_OP && tb.src.charCodeAt(tb.starts[j]!) === 43 && tb.t(j + 1) === close) j++;
    const sep = tb.t(j);
    if (sep === close) return j;
    if (sep !== T_COMMA) return -1;
    j++;
  }
}

/** Matches `(values), (values), ...` starting at the `(` at `j`; returns the last `)` or -1. */
function matchValueRows(tb: TokenBuffer, j: number): number {
  for (;;) {
    const close = matchValueList(tb, j + 1, T_RPAREN);
    if (close < 0) return -1;
    if (tb.t(close + 1) === T_COMMA && tb.t(close + 2) === T_LPAREN) j = close + 2;
    else return close;
  }
}
