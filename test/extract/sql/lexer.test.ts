import { describe, expect, it } from 'vitest';
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
  usesBackslashEscapes,
} from '../../../src/extract/sql/lexer.js';
import { splitStatements } from '../../../src/extract/sql/split-statements.js';

const NAMES: Record<number, string> = {
  [T_WORD]: 'word',
  [T_QIDENT]: 'qident',
  [T_STRING]: 'string',
  [T_NUMBER]: 'number',
  [T_PARAM]: 'param',
  [T_LPAREN]: '(',
  [T_RPAREN]: ')',
  [T_COMMA]: ',',
  [T_SEMI]: ';',
  [T_DOT]: '.',
  [T_LBRACKET]: '[',
  [T_RBRACKET]: ']',
  [T_OP]: 'op',
};

/** The tokens of `sql` as `kind:text` strings. */
function tokens(sql: string): string[] {
  const tb = new TokenBuffer();
  tb.reset(sql);
  const out: string[] = [];
  for (let i = 0; tb.t(i) !== T_EOF; i++) {
    if (i > 10_000) throw new Error('lexer does not advance');
    out.push(`${NAMES[tb.types[i]!]}:${sql.slice(tb.starts[i], tb.ends[i])}`);
  }
  return out;
}

describe('TokenBuffer lexing', () => {
  it('returns no tokens for empty, blank and comment-only input', () => {
    expect(tokens('')).toEqual([]);
    expect(tokens(' \n\t ')).toEqual([]);
    expect(tokens('-- just a comment')).toEqual([]);
    expect(tokens('/* a */ -- b\n /* c */')).toEqual([]);
  });

  it('splits words, punctuation and one-character operators', () => {
    expect(tokens('SELECT a.b, c FROM t WHERE x>=1;')).toEqual([
      'word:SELECT',
      'word:a',
      '.:.',
      'word:b',
      ',:,',
      'word:c',
      'word:FROM',
      'word:t',
      'word:WHERE',
      'word:x',
      'op:>',
      'op:=',
      'number:1',
      ';:;',
    ]);
  });

  it('skips nested block comments as PostgreSQL does', () => {
    expect(tokens('SELECT /* a /* b */ still comment */ 1')).toEqual(['word:SELECT', 'number:1']);
  });

  it('ends a line comment at the end of the line, and not inside a string', () => {
    expect(tokens("SELECT 1 -- x\n, '--not a comment'")).toEqual(['word:SELECT', 'number:1', ',:,', "string:'--not a comment'"]);
  });

  it('does not treat # as a comment', () => {
    expect(tokens('SELECT a # b')).toEqual(['word:SELECT', 'word:a', 'op:#', 'word:b']);
  });

  it("reads '' inside a string as an escaped quote", () => {
    expect(tokens("SELECT 'it''s', ''")).toEqual(['word:SELECT', "string:'it''s'", ',:,', "string:''"]);
  });

  it("reads backslash escapes in E'' strings, in either case of the prefix", () => {
    expect(tokens("SELECT E'it\\'s', e'\\\\', E'a''b'")).toEqual([
      'word:SELECT',
      "string:E'it\\'s'",
      ',:,',
      "string:e'\\\\'",
      ',:,',
      "string:E'a''b'",
    ]);
  });

  it('keeps standard strings standard: a backslash before the closing quote does not escape it', () => {
    expect(tokens("SELECT replace(p, '\\', '/')")).toEqual([
      'word:SELECT',
      'word:replace',
      '(:(',
      'word:p',
      ',:,',
      "string:'\\'",
      ',:,',
      "string:'/'",
      '):)',
    ]);
  });

  it("switches to backslash escapes for Hive/Impala text such as 'it\\'s'", () => {
    expect(usesBackslashEscapes("select 'it\\'s' from t")).toBe(true);
    expect(usesBackslashEscapes("select 'a\\'b', 'c\\'d'")).toBe(true);
    expect(usesBackslashEscapes("select '\\', '/'")).toBe(false);
    expect(usesBackslashEscapes('select 1')).toBe(false);
    expect(tokens("select 'it\\'s' from t")).toEqual(['word:select', "string:'it\\'s'", 'word:from', 'word:t']);
  });

  it("lexes U&'', B'', X'' and N'' as string literals and U&\"\" as an identifier", () => {
    expect(tokens("SELECT U&'d\\0061t', B'0101', X'ff', N'abc', U&\"d\\0061t\"")).toEqual([
      'word:SELECT',
      "string:U&'d\\0061t'",
      ',:,',
      "string:B'0101'",
      ',:,',
      "string:X'ff'",
      ',:,',
      "string:N'abc'",
      ',:,',
      'qident:U&"d\\0061t"',
    ]);
  });

  it('reads doubled quotes inside double-quoted and backtick identifiers', () => {
    expect(tokens('SELECT "a""b", `c``d` FROM "T"')).toEqual([
      'word:SELECT',
      'qident:"a""b"',
      ',:,',
      'qident:`c``d`',
      'word:FROM',
      'qident:"T"',
    ]);
  });

  it('reads dollar quotes with and without tags, and tells them from $1 parameters', () => {
    expect(tokens('SELECT $1, $$a$b$$, $fn$ x $$ y $fn$, $2')).toEqual([
      'word:SELECT',
      'param:$1',
      ',:,',
      'string:$$a$b$$',
      ',:,',
      'string:$fn$ x $$ y $fn$',
      ',:,',
      'param:$2',
    ]);
    expect(tokens('SELECT $1$q$x$q$')).toEqual(['word:SELECT', 'param:$1', 'string:$q$x$q$']);
  });

  it('keeps $ inside identifiers and lexes a lone $ as an operator', () => {
    expect(tokens('SELECT a$b, ${x}')).toEqual(['word:SELECT', 'word:a$b', ',:,', 'op:$', 'op:{', 'word:x', 'op:}']);
  });

  it('lexes the number forms 42, 1.5e-3, .5, 1e10, 1. and 0x1F', () => {
    expect(tokens('42 1.5e-3 .5 1e10 1. 0x1F 1_000')).toEqual([
      'number:42',
      'number:1.5e-3',
      'number:.5',
      'number:1e10',
      'number:1.',
      'number:0x1F',
      'number:1_000',
    ]);
  });

  it('keeps identifiers with digits as words, including Hive names that start with a digit', () => {
    expect(tokens('t1 2020_sales 1e x9')).toEqual(['word:t1', 'word:2020_sales', 'word:1e', 'word:x9']);
    expect(tokens('t.5')).toEqual(['word:t', '.:.', 'number:5']);
  });

  it('lexes $1, ? and :name as parameters, but not :: casts, slices or jsonb ?| operators', () => {
    expect(tokens('a = ? AND b = :name AND c = $12')).toEqual([
      'word:a',
      'op:=',
      'param:?',
      'word:AND',
      'word:b',
      'op:=',
      'param::name',
      'word:AND',
      'word:c',
      'op:=',
      'param:$12',
    ]);
    expect(tokens('a::int')).toEqual(['word:a', 'op:::', 'word:int']);
    expect(tokens('arr[1:n]')).toEqual(['word:arr', '[:[', 'number:1', 'op::', 'word:n', ']:]']);
    expect(tokens("j ?| array['a']")).toEqual(['word:j', 'op:?', 'op:|', 'word:array', '[:[', "string:'a'", ']:]']);
  });

  it('treats non-breaking spaces and a BOM as whitespace', () => {
    expect(tokens('\uFEFFSELECT\u00A01')).toEqual(['word:SELECT', 'number:1']);
  });

  it('lets unterminated strings, identifiers, comments and dollar quotes run to the end without looping', () => {
    const cases: [string, string[]][] = [
      ["SELECT 'abc", ['word:SELECT', "string:'abc"]],
      ["SELECT E'abc\\'", ['word:SELECT', "string:E'abc\\'"]],
      ['SELECT "abc', ['word:SELECT', 'qident:"abc']],
      ['SELECT `abc', ['word:SELECT', 'qident:`abc']],
      ['SELECT /* abc /* def */', ['word:SELECT']],
      ['SELECT $$abc', ['word:SELECT', 'string:$$abc']],
      ['SELECT $q$abc $$', ['word:SELECT', 'string:$q$abc $$']],
    ];
    for (const [sql, expected] of cases) {
      expect(tokens(sql), sql).toEqual(expected);
      const tb = new TokenBuffer();
      tb.reset(sql);
      tb.all();
      expect(tb.unterminated, sql).toBe(true);
      expect(tb.t(tb.n)).toBe(T_EOF);
    }
  });
});

describe('TokenBuffer access', () => {
  it('lexes on demand and answers T_EOF past the end', () => {
    const tb = new TokenBuffer();
    tb.reset('SELECT a FROM t');
    expect(tb.t(1)).toBe(T_WORD);
    expect(tb.n).toBe(2);
    expect(tb.t(10)).toBe(T_EOF);
    expect(tb.all()).toBe(4);
    expect(tb.word(0)).toBe('select');
    expect(tb.isWord(2, 'from')).toBe(true);
    expect(tb.text(3)).toBe('t');
  });

  it('grows past its initial capacity and keeps every token', () => {
    const tb = new TokenBuffer();
    const sql = Array.from({ length: 2000 }, (_, i) => `c${i}`).join(', ');
    tb.reset(sql);
    expect(tb.all()).toBe(3999);
    expect(tb.text(3998)).toBe('c1999');
    tb.reset('SELECT 1');
    expect(tb.all()).toBe(2);
  });

  it('streams long texts in chunks with absolute positions', () => {
    const tb = new TokenBuffer();
    const sql = Array.from({ length: 3000 }, (_, i) => `c${i}`).join(' ');
    tb.reset(sql);
    const seen: string[] = [];
    for (let count = tb.nextChunk(); count > 0; count = tb.nextChunk()) {
      expect(count).toBeLessThanOrEqual(1024);
      for (let k = 0; k < count; k++) seen.push(sql.slice(tb.starts[k], tb.ends[k]));
    }
    expect(seen).toHaveLength(3000);
    expect(seen[2999]).toBe('c2999');
  });
});

describe('splitStatements with ; inside every quoted or commented form', () => {
  it.each([
    ["a single-quoted string", "SELECT 'a;b'; SELECT 2", ["SELECT 'a;b'", 'SELECT 2']],
    ["an E'' string with an escaped quote", "SELECT E'a\\';b'; SELECT 2", ["SELECT E'a\\';b'", 'SELECT 2']],
    ['a double-quoted identifier', 'SELECT "a;b"; SELECT 2', ['SELECT "a;b"', 'SELECT 2']],
    ['a backtick identifier', 'SELECT `a;b`; SELECT 2', ['SELECT `a;b`', 'SELECT 2']],
    ['a dollar quote', 'SELECT $$a;b$$; SELECT 2', ['SELECT $$a;b$$', 'SELECT 2']],
    ['a tagged dollar quote next to $1', 'SELECT $1, $t$a;b$t$; SELECT 2', ['SELECT $1, $t$a;b$t$', 'SELECT 2']],
    ['a line comment', 'SELECT 1 -- a;b\n; SELECT 2', ['SELECT 1 -- a;b', 'SELECT 2']],
    ['a nested block comment', 'SELECT 1 /* a; /* b; */ c; */; SELECT 2', ['SELECT 1 /* a; /* b; */ c; */', 'SELECT 2']],
    ["a U&'' string", "SELECT U&'a;b'; SELECT 2", ["SELECT U&'a;b'", 'SELECT 2']],
    ["a Hive string with \\'", "select 'it\\'s; fine' from t; select 2", ["select 'it\\'s; fine' from t", 'select 2']],
  ])('does not split inside %s', (_what, sql, expected) => {
    expect(splitStatements(sql)).toEqual(expected);
  });

  it('keeps the rest of the text in the statement when a quote is never closed', () => {
    expect(splitStatements("SELECT 1; SELECT 'a;b; SELECT 3")).toEqual(['SELECT 1', "SELECT 'a;b; SELECT 3"]);
  });

  it('returns nothing for comment-only and empty input', () => {
    expect(splitStatements('')).toEqual([]);
    expect(splitStatements('-- nothing here')).toEqual([]);
    expect(splitStatements('/* a */ ; -- b\n;')).toEqual([]);
  });
});
