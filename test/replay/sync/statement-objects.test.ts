import { describe, expect, it } from 'vitest';
import { statementObjects } from '../../../src/replay/sync/statement-objects.js';

const CASES: { sql: string; objects: string[] }[] = [
  { sql: 'CREATE TABLE Sales.Orders (id int)', objects: ['sales.orders'] },
  { sql: 'CREATE TABLE orders (id int)', objects: ['orders'] },
  { sql: 'CREATE TABLE "Sales"."Orders" (id int)', objects: ['sales.orders'] },
  { sql: 'CREATE TABLE sales.o (c int REFERENCES sales.customers(id))', objects: ['sales.o', 'sales.customers'] },
  { sql: 'CREATE TABLE sales.p PARTITION OF sales.t FOR VALUES IN (1)', objects: ['sales.p', 'sales.t'] },
  { sql: 'CREATE TABLE c (LIKE sales.t INCLUDING ALL) INHERITS (sales.a, b)', objects: ['c', 'sales.t', 'sales.a', 'b'] },
  { sql: 'DROP TABLE IF EXISTS sales.a, b CASCADE', objects: ['sales.a', 'b'] },
  { sql: 'ALTER TABLE IF EXISTS ONLY sales.t ADD COLUMN x int', objects: ['sales.t'] },
  { sql: 'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS tmp_i ON ONLY sales.t (a)', objects: ['sales.t'] },
  { sql: 'CREATE INDEX ON sales.t (a)', objects: ['sales.t'] },
  { sql: 'DROP INDEX CONCURRENTLY sales.i', objects: ['sales.i'] },
  { sql: 'CREATE VIEW sales.v AS SELECT o.id FROM sales.orders o JOIN hr.staff s ON s.id = o.sid', objects: ['sales.v', 'sales.orders', 'hr.staff'] },
  { sql: 'CREATE VIEW v AS SELECT extract(year FROM ts), x IS DISTINCT FROM y FROM t', objects: ['v', 't'] },
  { sql: "CREATE VIEW v AS SELECT 'FROM secret' FROM t -- FROM other", objects: ['v', 't'] },
  { sql: 'CREATE FUNCTION sales.f(a int) RETURNS int AS $$ SELECT 1 FROM x $$ LANGUAGE sql', objects: ['sales.f'] },
  { sql: 'CREATE TRIGGER trg AFTER INSERT OR UPDATE OF c ON sales.t FOR EACH ROW EXECUTE FUNCTION f()', objects: ['sales.t'] },
  { sql: 'CREATE POLICY p ON sales.t TO alice USING (true)', objects: ['sales.t'] },
  { sql: "COMMENT ON COLUMN sales.t.c IS 'x'", objects: ['sales.t'] },
  { sql: "COMMENT ON TABLE sales.t IS 'x'", objects: ['sales.t'] },
  { sql: "COMMENT ON MATERIALIZED VIEW sales.mv IS 'x'", objects: ['sales.mv'] },
  { sql: 'GRANT SELECT, INSERT ON sales.t, hr.u TO alice', objects: ['sales.t', 'hr.u'] },
  { sql: 'GRANT EXECUTE ON FUNCTION sales.f(int), sales.g() TO alice', objects: ['sales.f', 'sales.g'] },
  { sql: 'REVOKE ALL ON TABLE sales.t FROM alice', objects: ['sales.t'] },
  { sql: 'GRANT USAGE ON SCHEMA sales, hr TO alice', objects: ['schema:sales', 'schema:hr'] },
  { sql: 'GRANT SELECT ON ALL TABLES IN SCHEMA sales TO alice', objects: ['schema:sales'] },
  { sql: 'ALTER DEFAULT PRIVILEGES IN SCHEMA sales GRANT SELECT ON TABLES TO alice', objects: ['schema:sales'] },
  { sql: 'CREATE SCHEMA IF NOT EXISTS Sales AUTHORIZATION alice', objects: ['schema:sales'] },
  { sql: 'DROP SCHEMA sales, hr CASCADE', objects: ['schema:sales', 'schema:hr'] },
  { sql: 'ALTER SCHEMA sales RENAME TO sales_old', objects: ['schema:sales', 'schema:sales_old'] },
  { sql: 'ALTER TABLE t SET SCHEMA archive', objects: ['t', 'schema:archive'] },
  { sql: 'CREATE DATABASE analytics', objects: [] },
  { sql: 'CREATE ROLE alice LOGIN', objects: [] },
  { sql: 'GRANT alice TO bob', objects: [] },
  { sql: 'SET search_path TO sales, public', objects: [] },
  { sql: "SET SCHEMA 'sales'", objects: [] },
  { sql: 'ALTER ROLE alice SET search_path = sales', objects: [] },
  { sql: 'CREATE TABLESPACE fast LOCATION \'/ssd\'', objects: [] },
  { sql: 'GRANT SELECT ON TABLE db.t TO ROLE r', objects: ['db.t'] },
  { sql: 'USE db', objects: [] },
  { sql: '', objects: [] },
];

describe('statementObjects', () => {
  it.each(CASES)('finds $objects in $sql', ({ sql, objects }) => {
    expect(statementObjects(sql)).toEqual(objects);
  });
});
