import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NO_MAPS, type NameMaps } from '../../../src/replay/name-map.js';
import { rewriteNames } from '../../../src/replay/sync/statement-rewrite.js';

const maps: NameMaps = {
  schema: new Map([
    ['sales', 'sales_v2'],
    ['hr', 'Hr Dept'],
    ['same', 'same'],
  ]),
  role: new Map([
    ['alice', 'alice_v2'],
    ['bob', 'user'],
  ]),
  database: new Map([['prod', 'prod_dr']]),
};

const CASES: { sql: string; out: string }[] = [
  // schema-qualified names
  { sql: 'CREATE TABLE sales.orders (id int)', out: 'CREATE TABLE sales_v2.orders (id int)' },
  { sql: 'create table IF NOT EXISTS Sales.Orders (id int)', out: 'create table IF NOT EXISTS sales_v2.Orders (id int)' },
  { sql: 'CREATE TABLE "sales".t (id int)', out: 'CREATE TABLE sales_v2.t (id int)' },
  { sql: 'CREATE TABLE "Sales".t (id int)', out: 'CREATE TABLE "Sales".t (id int)' },
  {
    sql: 'CREATE TABLE sales.o (c int REFERENCES sales.c(id), m sales.mood DEFAULT sales.f())',
    out: 'CREATE TABLE sales_v2.o (c int REFERENCES sales_v2.c(id), m sales_v2.mood DEFAULT sales_v2.f())',
  },
  { sql: 'ALTER TABLE ONLY sales.t ADD COLUMN x int', out: 'ALTER TABLE ONLY sales_v2.t ADD COLUMN x int' },
  { sql: 'DROP TABLE IF EXISTS sales.a, hr.b CASCADE', out: 'DROP TABLE IF EXISTS sales_v2.a, "Hr Dept".b CASCADE' },
  { sql: 'COMMENT ON COLUMN sales.t.c IS \'see sales.t\'', out: 'COMMENT ON COLUMN sales_v2.t.c IS \'see sales.t\'' },
  { sql: 'CREATE INDEX CONCURRENTLY i ON ONLY sales.t (a)', out: 'CREATE INDEX CONCURRENTLY i ON ONLY sales_v2.t (a)' },
  { sql: 'SELECT * FROM prod.sales.t', out: 'SELECT * FROM prod_dr.sales_v2.t' },
  { sql: 'ALTER SEQUENCE sales.s OWNED BY sales.t.id', out: 'ALTER SEQUENCE sales_v2.s OWNED BY sales_v2.t.id' },
  { sql: 'CREATE TABLE sales.p PARTITION OF sales.t FOR VALUES IN (1)', out: 'CREATE TABLE sales_v2.p PARTITION OF sales_v2.t FOR VALUES IN (1)' },
  // a table or alias named like the schema is not a schema
  {
    sql: 'CREATE VIEW sales.v AS SELECT sales.amount, o.id FROM sales.sales JOIN sales.items o ON o.id = sales.id',
    out: 'CREATE VIEW sales_v2.v AS SELECT sales.amount, o.id FROM sales_v2.sales JOIN sales_v2.items o ON o.id = sales.id',
  },
  { sql: 'CREATE VIEW v AS SELECT x::sales.mood FROM t', out: 'CREATE VIEW v AS SELECT x::sales_v2.mood FROM t' },
  // strings, comments and bodies stay
  { sql: "SELECT 'sales.t' -- sales.t\n/* sales.t */", out: "SELECT 'sales.t' -- sales.t\n/* sales.t */" },
  {
    sql: 'CREATE FUNCTION sales.f() RETURNS int AS $$ SELECT 1 FROM sales.t $$ LANGUAGE sql',
    out: 'CREATE FUNCTION sales_v2.f() RETURNS int AS $$ SELECT 1 FROM sales.t $$ LANGUAGE sql',
  },
  // schema statements
  { sql: 'CREATE SCHEMA IF NOT EXISTS sales AUTHORIZATION alice', out: 'CREATE SCHEMA IF NOT EXISTS sales_v2 AUTHORIZATION alice_v2' },
  { sql: 'ALTER SCHEMA hr RENAME TO sales', out: 'ALTER SCHEMA "Hr Dept" RENAME TO sales_v2' },
  { sql: 'DROP SCHEMA IF EXISTS sales, hr CASCADE', out: 'DROP SCHEMA IF EXISTS sales_v2, "Hr Dept" CASCADE' },
  { sql: 'GRANT USAGE ON SCHEMA sales, hr TO alice', out: 'GRANT USAGE ON SCHEMA sales_v2, "Hr Dept" TO alice_v2' },
  { sql: 'GRANT SELECT ON ALL TABLES IN SCHEMA sales TO bob', out: 'GRANT SELECT ON ALL TABLES IN SCHEMA sales_v2 TO "user"' },
  {
    sql: 'ALTER DEFAULT PRIVILEGES FOR ROLE alice IN SCHEMA sales GRANT SELECT ON TABLES TO bob',
    out: 'ALTER DEFAULT PRIVILEGES FOR ROLE alice_v2 IN SCHEMA sales_v2 GRANT SELECT ON TABLES TO "user"',
  },
  { sql: 'ALTER TABLE t SET SCHEMA sales', out: 'ALTER TABLE t SET SCHEMA sales_v2' },
  { sql: "SET search_path TO sales, 'hr', \"$user\", public", out: "SET search_path TO sales_v2, 'Hr Dept', \"$user\", public" },
  { sql: 'set search_path = "sales",hr', out: 'set search_path = sales_v2,"Hr Dept"' },
  { sql: "SET SCHEMA 'sales'", out: "SET SCHEMA 'sales_v2'" },
  { sql: "SET search_path = 'Sales'", out: "SET search_path = 'Sales'" },
  { sql: 'CREATE EXTENSION hstore SCHEMA sales', out: 'CREATE EXTENSION hstore SCHEMA sales_v2' },
  { sql: 'IMPORT FOREIGN SCHEMA sales FROM SERVER s INTO sales', out: 'IMPORT FOREIGN SCHEMA sales FROM SERVER s INTO sales_v2' },
  // roles
  { sql: 'CREATE ROLE alice LOGIN PASSWORD \'alice\'', out: 'CREATE ROLE alice_v2 LOGIN PASSWORD \'alice\'' },
  { sql: 'CREATE USER carol IN ROLE alice, bob ADMIN alice', out: 'CREATE USER carol IN ROLE alice_v2, "user" ADMIN alice_v2' },
  { sql: 'ALTER ROLE Alice RENAME TO bob', out: 'ALTER ROLE alice_v2 RENAME TO "user"' },
  { sql: 'ALTER ROLE "Alice" NOLOGIN', out: 'ALTER ROLE "Alice" NOLOGIN' },
  { sql: 'ALTER GROUP staff ADD USER alice, bob', out: 'ALTER GROUP staff ADD USER alice_v2, "user"' },
  { sql: 'DROP ROLE IF EXISTS alice, "bob"', out: 'DROP ROLE IF EXISTS alice_v2, "user"' },
  {
    sql: 'GRANT SELECT (a, b), UPDATE ON sales.t TO alice, PUBLIC, CURRENT_USER WITH GRANT OPTION GRANTED BY bob',
    out: 'GRANT SELECT (a, b), UPDATE ON sales_v2.t TO alice_v2, PUBLIC, CURRENT_USER WITH GRANT OPTION GRANTED BY "user"',
  },
  { sql: 'REVOKE alice, bob FROM carol', out: 'REVOKE alice_v2, "user" FROM carol' },
  { sql: 'REVOKE ADMIN OPTION FOR alice FROM bob CASCADE', out: 'REVOKE ADMIN OPTION FOR alice_v2 FROM "user" CASCADE' },
  { sql: 'GRANT alice TO bob WITH ADMIN OPTION', out: 'GRANT alice_v2 TO "user" WITH ADMIN OPTION' },
  { sql: 'ALTER TABLE sales.t OWNER TO alice', out: 'ALTER TABLE sales_v2.t OWNER TO alice_v2' },
  { sql: 'SET ROLE alice', out: 'SET ROLE alice_v2' },
  { sql: "SET SESSION AUTHORIZATION 'alice'", out: "SET SESSION AUTHORIZATION 'alice_v2'" },
  { sql: 'REASSIGN OWNED BY alice TO bob', out: 'REASSIGN OWNED BY alice_v2 TO "user"' },
  { sql: 'DROP OWNED BY alice, bob CASCADE', out: 'DROP OWNED BY alice_v2, "user" CASCADE' },
  {
    sql: 'CREATE POLICY p ON sales.t FOR SELECT TO alice, bob USING (owner = current_user)',
    out: 'CREATE POLICY p ON sales_v2.t FOR SELECT TO alice_v2, "user" USING (owner = current_user)',
  },
  { sql: 'ALTER POLICY alice ON sales.t RENAME TO bob', out: 'ALTER POLICY alice ON sales_v2.t RENAME TO bob' },
  { sql: 'CREATE USER MAPPING FOR alice SERVER s', out: 'CREATE USER MAPPING FOR alice_v2 SERVER s' },
  { sql: 'ALTER ROLE alice IN DATABASE prod SET search_path = sales', out: 'ALTER ROLE alice_v2 IN DATABASE prod_dr SET search_path = sales_v2' },
  // Hive / Okera: best effort, no crash
  { sql: 'GRANT SELECT ON TABLE sales.t TO ROLE alice', out: 'GRANT SELECT ON TABLE sales_v2.t TO ROLE alice_v2' },
  { sql: 'USE sales', out: 'USE sales' },
  { sql: 'CREATE TABLE `sales`.t (a int)', out: 'CREATE TABLE `sales_v2`.t (a int)' },
];

describe('rewriteNames', () => {
  it.each(CASES)('rewrites $sql', ({ sql, out }) => {
    expect(rewriteNames(sql, maps).sql).toBe(out);
  });

  it('lists each change once, in the order it was made', () => {
    const r = rewriteNames('GRANT USAGE ON SCHEMA sales TO alice; GRANT SELECT ON sales.t TO alice', maps);
    expect(r.changes).toEqual(['schema sales -> sales_v2', 'role alice -> alice_v2']);
  });

  it('reports no change and returns the same text when nothing maps', () => {
    const sql = 'CREATE TABLE other.t (id int)';
    expect(rewriteNames(sql, maps)).toEqual({ sql, changes: [] });
  });

  it('treats a map entry to the same name as no change', () => {
    expect(rewriteNames('CREATE TABLE same.t (a int)', maps)).toEqual({ sql: 'CREATE TABLE same.t (a int)', changes: [] });
  });

  it('quotes a replacement that is a keyword or not plain lower case, and leaves a plain one bare', () => {
    const m: NameMaps = { ...NO_MAPS, role: new Map([['a', 'select'], ['b', 'Bee'], ['c', 'c_2']]) };
    expect(rewriteNames('DROP ROLE a, b, c', m).sql).toBe('DROP ROLE "select", "Bee", c_2');
  });

  it('returns every statement unchanged with empty maps (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'ab. ;,"\'$()-/*\nSCHEMAsetrolTO='.split('')), maxLength: 60 }), (sql) => {
        expect(rewriteNames(sql, NO_MAPS)).toEqual({ sql, changes: [] });
      }),
    );
  });

  it('never throws and only changes identifiers, whatever the input (property)', () => {
    const words = fc.constantFrom('sales', 'alice', 'SCHEMA', 'ROLE', 'GRANT', 'TO', 'ON', 'FROM', '.', ',', ' ', "'", '"', '$$', '(', ')', ';', '--', '\n', 'SET', 'search_path', '=');
    fc.assert(
      fc.property(fc.array(words, { maxLength: 30 }), (parts) => {
        const sql = parts.join(' ');
        const r = rewriteNames(sql, maps);
        // Undoing the renames restores the input: nothing else was touched.
        expect(r.sql.replaceAll('sales_v2', 'sales').replaceAll('alice_v2', 'alice')).toBe(sql);
      }),
    );
  });
});
