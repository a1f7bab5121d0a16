import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyzeStatement, fingerprint, fingerprintId } from '../../../src/extract/sql/index.js';

describe('fingerprint rules', () => {
  it('drops comments, including nested block comments, and lets them separate tokens', () => {
    expect(fingerprint('SELECT /* x /* y */ z */ a -- note\nFROM t')).toBe('select a from t');
    expect(fingerprint('SELECT/**/a')).toBe('select a');
  });

  it('folds words to lower case but keeps quoted identifiers exactly, quotes included', () => {
    expect(fingerprint('SELECT "MixedCase", `Tick`, Abc FROM Sales.T')).toBe('select "MixedCase", `Tick`, abc from sales.t');
  });

  it('rewrites spacing canonically whatever the source had: one space, none inside brackets or before commas', () => {
    expect(fingerprint('  SELECT\n\t a ,  b\r\nFROM   t  ')).toBe('select a, b from t');
    expect(fingerprint('select a,b from t where x=1')).toBe(fingerprint('SELECT a , b FROM t WHERE x = 1'));
    expect(fingerprint('SELECT a,b FROM t WHERE x=1')).toBe('select a, b from t where x = ?');
  });

  it('drops trailing semicolons', () => {
    expect(fingerprint('SELECT 1;')).toBe('select ?');
    expect(fingerprint('SELECT 1 ; ;\n')).toBe('select ?');
    expect(fingerprint(';')).toBe('');
  });

  it('replaces every string literal form with ?', () => {
    expect(
      fingerprint("SELECT 'a', E'it\\'s', $$x$$, $t$y$t$, B'0101', X'ff', U&'d\\0061t', N'n', 'it''s'"),
    ).toBe('select ?, ?, ?, ?, ?, ?, ?, ?, ?');
  });

  it('replaces numbers of every form with ?', () => {
    expect(fingerprint('SELECT 1, 1.5e-3, .5, 0x1F, 1e10, 3.')).toBe('select ?, ?, ?, ?, ?, ?');
  });

  it('takes a sign into the number where an operand is expected, and keeps binary minus', () => {
    expect(fingerprint('SELECT * FROM t WHERE a = -5')).toBe('select * from t where a = ?');
    expect(fingerprint('SELECT * FROM t WHERE a=-5')).toBe('select * from t where a = ?');
    expect(fingerprint('SELECT f(-1, +2.5)')).toBe('select f(?, ?)');
    expect(fingerprint('SELECT -1')).toBe('select ?');
    expect(fingerprint('WHERE x BETWEEN -5 AND -1')).toBe('where x between ? and ?');
    expect(fingerprint('SELECT a - 5, a -5, a-5')).toBe('select a - ?, a - ?, a - ?');
  });

  it('replaces NULL with ? as pt-query-digest does', () => {
    expect(fingerprint('SELECT * FROM t WHERE a IS NULL OR b = null')).toBe('select * from t where a is ? or b = ?');
  });

  it('replaces bind parameters $1, ? and :name with ?', () => {
    expect(fingerprint('SELECT * FROM t WHERE a = $1 AND b = ? AND c = :name AND d::text = $2')).toBe(
      'select * from t where a = ? and b = ? and c = ? and d :: text = ?',
    );
  });

  it('collapses IN lists of values to in(?+), whatever their length and spacing', () => {
    expect(fingerprint('SELECT * FROM t WHERE id IN (1, 2, 3)')).toBe('select * from t where id in(?+)');
    expect(fingerprint("SELECT * FROM t WHERE id IN('a')")).toBe('select * from t where id in(?+)');
    expect(fingerprint('SELECT * FROM t WHERE id NOT IN ( $1 , $2 , NULL, -4 )')).toBe('select * from t where id not in(?+)');
  });

  it('leaves IN (SELECT ...) and IN lists with expressions alone', () => {
    expect(fingerprint('SELECT * FROM t WHERE id IN (SELECT id FROM u WHERE a = 1)')).toBe(
      'select * from t where id in(select id from u where a = ?)',
    );
    expect(fingerprint('SELECT * FROM t WHERE id IN (a, 1)')).toBe('select * from t where id in(a, ?)');
  });

  it('collapses multi-row VALUES lists to values(?+)', () => {
    expect(fingerprint("INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y'),(3,'z')")).toBe('insert into t(a, b) values(?+)');
    expect(fingerprint('INSERT INTO t VALUES (1) ON CONFLICT (a) DO NOTHING')).toBe(
      'insert into t values(?+) on conflict(a) do nothing',
    );
    expect(fingerprint('INSERT INTO t VALUES (1, now())')).toBe('insert into t values(?, now())');
  });

  it('collapses ARRAY[...] of values to array[?+]', () => {
    expect(fingerprint('SELECT * FROM t WHERE a = ANY(ARRAY[1, 2, 3])')).toBe('select * from t where a = any(array[?+])');
  });

  it('keeps LIMIT and OFFSET with their values replaced', () => {
    expect(fingerprint('SELECT * FROM t LIMIT 10 OFFSET 20')).toBe('select * from t limit ? offset ?');
  });

  it('keeps identifiers that contain digits', () => {
    expect(fingerprint('SELECT t1.c2, 2020_sales FROM t1')).toBe('select t1.c2, 2020_sales from t1');
  });

  it('keeps Hive strings with backslash escapes whole', () => {
    expect(fingerprint("select * from t where a = 'it\\'s' and b = 'don\\'t'")).toBe('select * from t where a = ? and b = ?');
  });

  it('returns an empty fingerprint for empty and comment-only statements', () => {
    expect(fingerprint('')).toBe('');
    expect(fingerprint('  -- nothing\n')).toBe('');
  });

  it('matches what analyzeStatement returns', () => {
    const sql = "SELECT * FROM t WHERE a IN (1,2) AND b = 'x'";
    expect(analyzeStatement(sql).fingerprint).toBe(fingerprint(sql));
  });
});

describe('fingerprintId', () => {
  it('is 16 lower-case hex characters of the SHA-256 of the fingerprint, stable across runs', () => {
    expect(fingerprintId('select * from t where id = ?')).toBe('88e41652b573c403');
    expect(fingerprintId('')).toMatch(/^[0-9a-f]{16}$/);
    expect(fingerprintId('select ?')).not.toBe(fingerprintId('select ?, ?'));
  });
});

// ------------------------------------------------------------------ properties

/** A literal value rendered in one of the SQL forms that must all become `?`. */
const literal: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }).map((s) => `'${s.replaceAll("'", "''")}'`),
  fc.string({ unit: 'grapheme', maxLength: 12 }).map((s) => `'${s.replaceAll("'", "''")}'`),
  fc.string({ maxLength: 12 }).map((s) => `E'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`),
  fc.string({ maxLength: 12 }).filter((s) => !s.includes('$')).map((s) => `$q$${s}$q$`),
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
  fc.nat().map((n) => `$${n + 1}`),
  fc.constantFrom('?', 'NULL', ':param'),
);
const natural = fc.nat().map(String);
const list = fc.array(literal, { minLength: 1, maxLength: 6 }).map((xs) => xs.join(', '));
const rows = fc
  .array(fc.tuple(literal, literal), { minLength: 1, maxLength: 4 })
  .map((rs) => rs.map(([a, b]) => `(${a}, ${b})`).join(', '));

type Template = (v: () => string, n: () => string, l: () => string, r: () => string) => string;

/** Statement shapes with holes for values (v), naturals (n), value lists (l) and VALUES rows (r). */
const TEMPLATES: Template[] = [
  (v) => `SELECT a, b FROM t WHERE id = ${v()} AND name = ${v()}`,
  (v, _n, l) => `SELECT * FROM orders WHERE total > ${v()} AND region IN (${l()})`,
  (_v, _n, _l, r) => `INSERT INTO t (a, b) VALUES ${r()}`,
  (v) => `UPDATE t SET a = ${v()}, b = ${v()} WHERE id = ${v()}`,
  (v) => `DELETE FROM t WHERE created < ${v()} OR code = ${v()}`,
  (v, n) => `SELECT count(*) FROM t WHERE x BETWEEN ${v()} AND ${v()} LIMIT ${n()}`,
  (v) => `SELECT f(${v()}, ${v()}) FROM t WHERE a <> ${v()}`,
  (v) => `SELECT CASE WHEN a = ${v()} THEN ${v()} ELSE ${v()} END FROM t`,
  (_v, _n, l) => `SELECT * FROM t WHERE a = ANY(ARRAY[${l()}])`,
  (v) => `SELECT * FROM t WHERE a=${v()} AND b>=${v()}`,
  (v, n) => `SELECT "Col", \`tick\` FROM s.t WHERE c = ${v()} ORDER BY 1 LIMIT ${n()} OFFSET ${n()}`,
  (v) => `WITH x AS (SELECT * FROM t WHERE k = ${v()}) SELECT * FROM x WHERE y = ${v()}`,
];

/** Fills template `i` with values drawn from `vs`, cycling when it needs more. */
function fill(i: number, vs: { v: string[]; n: string[]; l: string[]; r: string[] }): string {
  const take = (xs: string[]) => {
    let k = 0;
    return () => xs[k++ % xs.length]!;
  };
  return TEMPLATES[i]!(take(vs.v), take(vs.n), take(vs.l), take(vs.r));
}

const values = fc.record({
  v: fc.array(literal, { minLength: 1, maxLength: 5 }),
  n: fc.array(natural, { minLength: 1, maxLength: 3 }),
  l: fc.array(list, { minLength: 1, maxLength: 2 }),
  r: fc.array(rows, { minLength: 1, maxLength: 2 }),
});
const templateIndex = fc.nat({ max: TEMPLATES.length - 1 });

/** Applies `f` to each stretch of `sql` outside quotes and comments-free template text. */
function outsideQuotes(sql: string, f: (part: string) => string): string {
  return sql
    .split(/('(?:[^']|'')*'|"[^"]*"|`[^`]*`)/)
    .map((part, i) => (i % 2 === 0 ? f(part) : part))
    .join('');
}

describe('fingerprint properties', () => {
  it('does not change when the literal values change', () => {
    fc.assert(
      fc.property(templateIndex, values, values, (i, a, b) => {
        expect(fingerprint(fill(i, a))).toBe(fingerprint(fill(i, b)));
      }),
      { numRuns: 500 },
    );
  });

  it('does not change with whitespace, comments between tokens, or the case of keywords', () => {
    const space = fc.constantFrom(' ', '  ', '\n', '\t', '\r\n  ', ' /* c */ ', ' -- c\n', '\n/* a /* b */ */\n');
    fc.assert(
      fc.property(templateIndex, fc.infiniteStream(space), fc.infiniteStream(fc.boolean()), (i, spaces, upper) => {
        const base = TEMPLATES[i]!(
          () => '42',
          () => '7',
          () => "1, 'x'",
          () => "(1, 'a'), (2, 'b')",
        );
        const spaceIt = spaces[Symbol.iterator]();
        const caseIt = upper[Symbol.iterator]();
        const varied = outsideQuotes(base, (part) =>
          part
            .replace(/ /g, () => spaceIt.next().value as string)
            .replace(/[A-Za-z]+/g, (w) => ((caseIt.next().value as boolean) ? w.toUpperCase() : w.toLowerCase())),
        );
        expect(fingerprint(varied)).toBe(fingerprint(base));
      }),
      { numRuns: 300 },
    );
  });

  it('differs when the structure differs: names, operators or clauses', () => {
    const reserved = new Set(['null', 'in', 'values', 'array', 'e', 'b', 'x', 'n', 'u']);
    const ident = fc.stringMatching(/^[a-z][a-z0-9_]{0,6}$/).filter((s) => !reserved.has(s));
    const quoted = fc.stringMatching(/^[A-Za-z][A-Za-z0-9]{0,5}$/).map((s) => `"${s}"`);
    const name = fc.oneof(ident, quoted);
    const shape = fc.record({
      cols: fc.array(name, { minLength: 1, maxLength: 3 }),
      table: name,
      where: name,
      op: fc.constantFrom('=', '<', '>', '<=', '>=', '<>', '!=', 'LIKE'),
      order: fc.option(name, { nil: undefined }),
      limit: fc.boolean(),
    });
    type Shape = typeof shape extends fc.Arbitrary<infer S> ? S : never;
    const key = (s: Shape) => {
      // Unquoted names fold to lower case; quoted ones are compared exactly.
      const n = (x: string) => (x.startsWith('"') ? x : x.toLowerCase());
      return JSON.stringify([s.cols.map(n), n(s.table), n(s.where), s.op, s.order === undefined ? null : n(s.order), s.limit]);
    };
    const render = (s: Shape, v: string, n: string) =>
      `SELECT ${s.cols.join(', ')} FROM ${s.table} WHERE ${s.where} ${s.op} ${v}` +
      (s.order === undefined ? '' : ` ORDER BY ${s.order}`) +
      (s.limit ? ` LIMIT ${n}` : '');
    fc.assert(
      fc.property(shape, shape, literal, literal, natural, (s1, s2, v1, v2, n) => {
        const same = fingerprint(render(s1, v1, n)) === fingerprint(render(s2, v2, n));
        expect(same).toBe(key(s1) === key(s2));
      }),
      { numRuns: 500 },
    );
    // Random shapes rarely coincide, so check equal shapes with other values explicitly too.
    fc.assert(
      fc.property(shape, literal, literal, natural, (s, v1, v2, n) => {
        expect(fingerprint(render(s, v1, n))).toBe(fingerprint(render(s, v2, n)));
      }),
      { numRuns: 200 },
    );
  });

  it('is idempotent on statements', () => {
    fc.assert(
      fc.property(templateIndex, values, (i, vs) => {
        const once = fingerprint(fill(i, vs));
        expect(fingerprint(once)).toBe(once);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps a dot and a following word that starts with a digit apart, so the fingerprint reads back the same', () => {
    expect(fingerprint(';. 1select')).toBe(';. 1select');
    expect(fingerprint(fingerprint(';. 1select'))).toBe(fingerprint(';. 1select'));
  });

  it('is idempotent and never throws on arbitrary text made of SQL fragments', () => {
    const fragment = fc.constantFrom(
      'select', 'SELECT', ' ', '\n', "'", '"', '`', '$$', '$q$', '$', '$1', '?', ':a', '::', ':', '-', '+', '--', '/*', '*/',
      '(', ')', ',', ';', '.', '[', ']', 'in', 'IN', 'values', 'array', 'null', 'NULL', '1', '.5', '1e5', '0x1f', 'e', "E'",
      "x'", "U&'", 'U&"', '\\', '=', '|', '#', '&', 'é', 'İ', 'Σ', '\u00a0', 'a1', '_', 'between', 'and',
    );
    fc.assert(
      fc.property(fc.array(fragment, { maxLength: 30 }), (parts) => {
        const sql = parts.join('');
        const once = fingerprint(sql);
        expect(fingerprint(once)).toBe(once);
      }),
      { numRuns: 3000 },
    );
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (sql) => {
        const once = fingerprint(sql);
        expect(fingerprint(once)).toBe(once);
      }),
      { numRuns: 1000 },
    );
  });
});
