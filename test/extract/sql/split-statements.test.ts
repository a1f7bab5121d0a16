import { describe, expect, it } from 'vitest';
import { splitStatements } from '../../../src/extract/sql/split-statements.js';

describe('splitStatements', () => {
  it('splits several statements and trims each one', () => {
    expect(splitStatements('BEGIN;\n  UPDATE t SET a = 1 WHERE id = 2 ;\nCOMMIT;')).toEqual([
      'BEGIN',
      'UPDATE t SET a = 1 WHERE id = 2',
      'COMMIT',
    ]);
  });

  it('returns a single statement without its trailing semicolon', () => {
    expect(splitStatements('  SELECT 1;  \n')).toEqual(['SELECT 1']);
    expect(splitStatements('SELECT 1')).toEqual(['SELECT 1']);
  });

  it('drops empty pieces left by repeated or trailing semicolons', () => {
    expect(splitStatements('SELECT 1;;; SELECT 2;;')).toEqual(['SELECT 1', 'SELECT 2']);
    expect(splitStatements(';')).toEqual([]);
    expect(splitStatements('   ')).toEqual([]);
  });

  it('keeps a leading comment with the statement that follows it', () => {
    expect(splitStatements('/* job 7 */ SELECT 1; -- next one\nSELECT 2')).toEqual([
      '/* job 7 */ SELECT 1',
      '-- next one\nSELECT 2',
    ]);
    expect(splitStatements('-- only one\nSELECT 1;')).toEqual(['-- only one\nSELECT 1']);
  });

  it('drops comment-only pieces, such as a comment after the last statement', () => {
    expect(splitStatements('SELECT 1; -- done')).toEqual(['SELECT 1']);
    expect(splitStatements('SELECT 1; /* a */; SELECT 2')).toEqual(['SELECT 1', 'SELECT 2']);
    expect(splitStatements('-- nothing;')).toEqual([]);
  });

  it('does not split a function body held in dollar quotes', () => {
    const fn = `CREATE OR REPLACE FUNCTION f() RETURNS trigger AS $body$
BEGIN
  INSERT INTO audit VALUES (NEW.id);
  RETURN NEW;
END;
$body$ LANGUAGE plpgsql`;
    expect(splitStatements(`${fn};\nSELECT 1;`)).toEqual([fn, 'SELECT 1']);
  });

  it('does not split a PostgreSQL BEGIN ATOMIC body, even with CASE ... END inside', () => {
    const fn = `CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql
BEGIN ATOMIC
  INSERT INTO t VALUES (a);
  SELECT CASE WHEN a > 0 THEN 1 ELSE 0 END;
END`;
    expect(splitStatements(`${fn}; SELECT 2;`)).toEqual([fn, 'SELECT 2']);
  });

  it('does not split a Trino SQL routine whose body closes IF and LOOP blocks', () => {
    const fn = `CREATE FUNCTION f(x bigint) RETURNS bigint
BEGIN
  DECLARE r bigint DEFAULT 0;
  IF x > 0 THEN SET r = 1; END IF;
  WHILE r < 10 DO SET r = r + 1; END WHILE;
  RETURN r;
END`;
    expect(splitStatements(`${fn};\nSELECT f(1);`)).toEqual([fn, 'SELECT f(1)']);
  });

  it('still splits after a transaction BEGIN, which is not a routine body', () => {
    expect(splitStatements('BEGIN; SELECT 1; END;')).toEqual(['BEGIN', 'SELECT 1', 'END']);
    expect(splitStatements('CREATE TABLE t (begin int, "end" int); SELECT 1')).toEqual([
      'CREATE TABLE t (begin int, "end" int)',
      'SELECT 1',
    ]);
  });

  it('splits Hive scripts with strings and backticks', () => {
    expect(splitStatements("USE db; SELECT `a;b` FROM t WHERE c = 'x;y'; SET hive.x=1;")).toEqual([
      'USE db',
      "SELECT `a;b` FROM t WHERE c = 'x;y'",
      'SET hive.x=1',
    ]);
  });

  it('returns statements that are substrings of the input, in order', () => {
    const sql = 'select 1;\n\nselect 2 ; select 3';
    const parts = splitStatements(sql);
    let from = 0;
    for (const p of parts) {
      const at = sql.indexOf(p, from);
      expect(at).toBeGreaterThanOrEqual(from);
      from = at + p.length;
    }
    expect(parts).toHaveLength(3);
  });
});
