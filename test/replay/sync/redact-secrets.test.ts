import { describe, expect, it } from 'vitest';
import { hasSecret, redactSecrets } from '../../../src/replay/sync/redact-secrets.js';

const CASES: { sql: string; out: string }[] = [
  { sql: "CREATE ROLE alice LOGIN PASSWORD 's3cret'", out: "CREATE ROLE alice LOGIN PASSWORD '***'" },
  { sql: "ALTER USER alice WITH ENCRYPTED PASSWORD 'SCRAM-SHA-256$4096:abc'", out: "ALTER USER alice WITH ENCRYPTED PASSWORD '***'" },
  { sql: 'CREATE ROLE a PASSWORD $pw$it\'s$pw$ VALID UNTIL \'2030-01-01\'', out: "CREATE ROLE a PASSWORD '***' VALID UNTIL '2030-01-01'" },
  { sql: "ALTER ROLE a password E'x\\'y'", out: "ALTER ROLE a password '***'" },
  { sql: 'ALTER ROLE a PASSWORD NULL', out: 'ALTER ROLE a PASSWORD NULL' },
  {
    sql: "CREATE USER MAPPING FOR alice SERVER s OPTIONS (user 'bob', password 'pw')",
    out: "CREATE USER MAPPING FOR alice SERVER s OPTIONS (user 'bob', password '***')",
  },
  {
    sql: "ALTER USER MAPPING FOR alice SERVER s OPTIONS (SET \"password\" 'pw')",
    out: "ALTER USER MAPPING FOR alice SERVER s OPTIONS (SET \"password\" '***')",
  },
  {
    sql: "CREATE SUBSCRIPTION sub CONNECTION 'host=db1 user=rep password=s3cret dbname=app' PUBLICATION p",
    out: "CREATE SUBSCRIPTION sub CONNECTION 'host=db1 user=rep password=*** dbname=app' PUBLICATION p",
  },
  {
    sql: "ALTER SUBSCRIPTION sub CONNECTION 'host=db1 password = ''a b'' port=5432'",
    out: "ALTER SUBSCRIPTION sub CONNECTION 'host=db1 password = *** port=5432'",
  },
  {
    sql: "SELECT * FROM dblink('dbname=x password=pw', 'SELECT 1') AS t(a int)",
    out: "SELECT * FROM dblink('dbname=x password=***', 'SELECT 1') AS t(a int)",
  },
  { sql: "SELECT dblink_connect('postgresql://rep:pw@db1/app')", out: "SELECT dblink_connect('postgresql://rep:***@db1/app')" },
  { sql: "CREATE ROLE r WITH PASSWORD 'x' -- note", out: "CREATE ROLE r WITH PASSWORD '***' -- note" },
  // Okera / Hive
  { sql: "CREATE USER u PASSWORD 'pw'", out: "CREATE USER u PASSWORD '***'" },
  {
    sql: "CREATE TABLE t (a int) TBLPROPERTIES ('jdbc.user'='u', 'jdbc.password'='pw')",
    out: "CREATE TABLE t (a int) TBLPROPERTIES ('jdbc.user'='u', 'jdbc.password'='***')",
  },
  { sql: "CREATE USER u IDENTIFIED BY 'pw'", out: "CREATE USER u IDENTIFIED BY '***'" },
  // no secrets
  { sql: "SELECT 'password' AS label", out: "SELECT 'password' AS label" },
  { sql: '-- PASSWORD \'x\' in a comment is not a statement', out: "-- PASSWORD 'x' in a comment is not a statement" },
  { sql: 'CREATE TABLE t (password text, passwd text)', out: 'CREATE TABLE t (password text, passwd text)' },
  { sql: 'SELECT 1', out: 'SELECT 1' },
];

describe('redactSecrets', () => {
  it.each(CASES)('redacts $sql', ({ sql, out }) => {
    expect(redactSecrets(sql)).toBe(out);
    expect(hasSecret(sql)).toBe(out !== sql);
  });

  it('is idempotent', () => {
    for (const { sql } of CASES) expect(redactSecrets(redactSecrets(sql))).toBe(redactSecrets(sql));
  });
});
