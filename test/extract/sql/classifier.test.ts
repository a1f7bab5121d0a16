import { describe, expect, it } from 'vitest';
import { EVENT_KINDS } from '../../../src/core/audit-event.js';
import { analyzeStatement, classify } from '../../../src/extract/sql/index.js';
import { CLASSIFIER_CASES } from './classifier-cases.js';

/** One line, short enough for a test name. */
function title(sql: string): string {
  const line = sql.replace(/\s+/g, ' ').trim();
  return line.length > 90 ? `${line.slice(0, 87)}...` : line || '(empty)';
}

const named = CLASSIFIER_CASES.map((c) => ({ ...c, title: title(c.sql) }));

describe('classify', () => {
  it('has a case table of at least 200 statements covering all four dialects and every kind', () => {
    expect(CLASSIFIER_CASES.length).toBeGreaterThanOrEqual(200);
    const dialects = new Set(CLASSIFIER_CASES.map((c) => c.dialect));
    expect([...dialects].sort()).toEqual(['okera', 'postgres', 'redshift', 'trino']);
    const kinds = new Set(CLASSIFIER_CASES.map((c) => c.kind));
    for (const kind of EVENT_KINDS) expect(kinds.has(kind), kind).toBe(true);
  });

  it.each(named)('classifies [$dialect] $title as $kind $command', ({ sql, kind, command }) => {
    expect(classify(sql)).toEqual({ kind, command });
  });

  it.each(named)('gives the same answer from analyzeStatement for [$dialect] $title', ({ sql, kind, command }) => {
    const a = analyzeStatement(sql);
    expect({ kind: a.kind, command: a.command }).toEqual({ kind, command });
  });

  it('classifies EXPLAIN ANALYZE of an UPDATE as dml', () => {
    expect(classify('EXPLAIN ANALYZE UPDATE t SET a = 1')).toEqual({ kind: 'dml', command: 'EXPLAIN' });
  });

  it('classifies a WITH whose CTE deletes rows as dml even though the main statement is a SELECT', () => {
    expect(classify('WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d')).toEqual({ kind: 'dml', command: 'SELECT' });
  });

  it('tells SELECT INTO (creates a table) from a plain SELECT', () => {
    expect(classify('SELECT a INTO t2 FROM t').kind).toBe('ddl');
    expect(classify('SELECT a FROM t').kind).toBe('query');
  });

  it('tells COPY FROM (loads rows) from COPY TO STDOUT (reads rows)', () => {
    expect(classify("COPY t FROM 's3://b/k'").kind).toBe('dml');
    expect(classify('COPY t TO STDOUT').kind).toBe('query');
  });

  it('only looks at the first statement when given several', () => {
    expect(classify('SET x = 1; DELETE FROM t')).toEqual({ kind: 'session', command: 'SET' });
  });

  it('returns a fresh object each time', () => {
    const a = classify('SELECT 1');
    a.kind = 'ddl';
    expect(classify('SELECT 1').kind).toBe('query');
  });

  it('does not throw on unterminated quotes, comments or dollar quotes', () => {
    for (const sql of ["SELECT 'abc", 'SELECT "abc', 'SELECT `abc', 'SELECT /* abc', 'SELECT $$abc', "SELECT E'abc\\'", '(((']) {
      expect(() => classify(sql)).not.toThrow();
    }
    expect(classify("SELECT 'abc").kind).toBe('query');
  });
});
