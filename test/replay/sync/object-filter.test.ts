import { describe, expect, it } from 'vitest';
import { makeObjectFilter } from '../../../src/replay/sync/object-filter.js';

describe('makeObjectFilter', () => {
  const filter = makeObjectFilter({ include: ['sales.*', 'orders'], exclude: ['*.tmp_*'] });

  it.each([
    { sql: 'CREATE TABLE sales.orders (a int)', keep: true },
    { sql: 'CREATE TABLE orders (a int)', keep: true },
    { sql: 'CREATE TABLE hr.staff (a int)', keep: false },
    { sql: 'CREATE TABLE sales.tmp_x (a int)', keep: false },
    { sql: 'CREATE SCHEMA sales', keep: true },
    { sql: 'CREATE SCHEMA hr', keep: false },
    { sql: 'GRANT SELECT ON ALL TABLES IN SCHEMA sales TO r', keep: true },
    { sql: 'CREATE ROLE alice', keep: true },
    { sql: 'SET search_path TO hr', keep: true },
    { sql: "CREATE TABLE sales.x (note text DEFAULT 'hr.tmp_y')", keep: true },
  ])('keeps $sql: $keep', ({ sql, keep }) => {
    expect(filter(sql).keep).toBe(keep);
  });

  it('names the exclude glob and the matching object in the reason', () => {
    expect(filter('DROP TABLE sales.tmp_x')).toEqual({ keep: false, reason: "excluded by --exclude '*.tmp_*' (sales.tmp_x)" });
  });

  it('names the include globs and the statement objects when nothing is included', () => {
    expect(filter('CREATE TABLE hr.staff (a int)')).toEqual({
      keep: false,
      reason: "not matched by --include 'sales.*', 'orders' (hr.staff)",
    });
  });

  it('matches an unqualified name as-is, and qualifies it with the first search_path schema when given', () => {
    const f = makeObjectFilter({ include: ['sales.*'] });
    expect(f('CREATE TABLE orders (a int)').keep).toBe(false);
    expect(f('CREATE TABLE orders (a int)', ['"$user"', 'sales', 'public']).keep).toBe(true);
    expect(f('CREATE TABLE orders (a int)', ['hr', 'sales']).keep).toBe(false);
    expect(makeObjectFilter({ include: ['*'] })('CREATE TABLE orders (a int)').keep).toBe(true);
  });

  it('matches schema:x against x and x.* but not against object globs like *.tmp_*', () => {
    expect(makeObjectFilter({ exclude: ['scratch'] })('DROP SCHEMA scratch CASCADE').keep).toBe(false);
    expect(makeObjectFilter({ exclude: ['scratch.*'] })('DROP SCHEMA scratch CASCADE').keep).toBe(false);
    expect(makeObjectFilter({ exclude: ['*.tmp_*'] })('DROP SCHEMA scratch CASCADE').keep).toBe(true);
  });

  it('keeps everything with no globs and ignores case in globs', () => {
    expect(makeObjectFilter({})('DROP TABLE anything').keep).toBe(true);
    expect(makeObjectFilter({ include: ['SALES.*'] })('CREATE TABLE sales.t (a int)').keep).toBe(true);
  });

  it('drops a statement when any of its objects is excluded, such as a view reading an excluded table', () => {
    const f = makeObjectFilter({ exclude: ['*.tmp_*'] });
    expect(f('CREATE VIEW sales.v AS SELECT * FROM sales.tmp_load')).toEqual({
      keep: false,
      reason: "excluded by --exclude '*.tmp_*' (sales.tmp_load)",
    });
  });

  it('treats ? as one character and escapes regular-expression characters in globs', () => {
    expect(makeObjectFilter({ include: ['s.t?'] })('CREATE TABLE s.t1 (a int)').keep).toBe(true);
    expect(makeObjectFilter({ include: ['s.t?'] })('CREATE TABLE s.t12 (a int)').keep).toBe(false);
    expect(makeObjectFilter({ include: ['s.t'] })('CREATE TABLE sxt (a int)').keep).toBe(false);
  });
});
