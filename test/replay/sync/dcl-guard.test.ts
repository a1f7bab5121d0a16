import { describe, expect, it } from 'vitest';
import { makeDclGuard } from '../../../src/replay/sync/dcl-guard.js';

describe('makeDclGuard', () => {
  const guard = makeDclGuard({ denyRoles: ['postgres', 'rds*'], allowRoles: ['dba_*'] });

  it.each([
    // (a) denied roles, whatever the statement does to them
    { sql: 'CREATE ROLE rdsadmin', ok: false },
    { sql: 'ALTER ROLE postgres PASSWORD NULL', ok: false },
    { sql: 'ALTER USER "postgres" VALID UNTIL \'2030-01-01\'', ok: false },
    { sql: 'DROP ROLE IF EXISTS alice, postgres', ok: false },
    { sql: 'ALTER ROLE alice RENAME TO rds_x', ok: false },
    { sql: 'GRANT SELECT ON sales.t TO alice, POSTGRES', ok: false },
    { sql: 'REVOKE ALL ON SCHEMA sales FROM rds_replication', ok: false },
    { sql: 'GRANT postgres TO alice', ok: false },
    { sql: 'CREATE ROLE alice IN ROLE rds_superuser', ok: false },
    { sql: 'ALTER TABLE sales.t OWNER TO postgres', ok: false },
    { sql: 'REASSIGN OWNED BY postgres TO alice', ok: false },
    { sql: 'ALTER DEFAULT PRIVILEGES FOR ROLE postgres GRANT SELECT ON TABLES TO alice', ok: false },
    // not changing the denied role
    { sql: 'GRANT SELECT ON sales.t TO alice GRANTED BY postgres', ok: true },
    { sql: 'SET ROLE postgres', ok: true },
    { sql: "COMMENT ON TABLE t IS 'GRANT x TO postgres'", ok: true },
    { sql: 'CREATE TABLE postgres (a int)', ok: true },
    // (b) superuser and superuser-equivalent roles
    { sql: 'CREATE ROLE alice WITH LOGIN SUPERUSER', ok: false },
    { sql: 'alter user alice superuser', ok: false },
    { sql: 'CREATE ROLE dba_ops SUPERUSER', ok: true },
    { sql: 'ALTER ROLE alice NOSUPERUSER', ok: true },
    { sql: "CREATE ROLE alice PASSWORD 'superuser'", ok: true },
    { sql: 'GRANT pg_execute_server_program TO alice', ok: false },
    { sql: 'GRANT pg_read_server_files, pg_monitor TO dba_a', ok: true },
    { sql: 'GRANT pg_write_server_files TO dba_a, bob', ok: false },
    { sql: 'CREATE ROLE alice IN ROLE pg_read_server_files', ok: false },
    { sql: 'ALTER GROUP pg_write_server_files ADD USER alice', ok: false },
    { sql: 'REVOKE pg_execute_server_program FROM alice', ok: true },
    { sql: 'GRANT pg_monitor TO alice', ok: true },
    // (c) admin option
    { sql: 'GRANT staff TO alice WITH ADMIN OPTION', ok: false },
    { sql: 'GRANT staff TO alice WITH ADMIN TRUE', ok: false },
    { sql: 'GRANT staff TO alice WITH INHERIT TRUE, ADMIN OPTION GRANTED BY bob', ok: false },
    { sql: 'GRANT staff TO alice WITH ADMIN FALSE', ok: true },
    { sql: 'GRANT staff TO dba_a WITH ADMIN OPTION', ok: true },
    { sql: 'GRANT SELECT ON t TO alice WITH GRANT OPTION', ok: true },
    { sql: 'CREATE ROLE staff ADMIN alice', ok: false },
    // everything else
    { sql: 'CREATE TABLE t (a int)', ok: true },
    { sql: 'GRANT SELECT ON TABLE db.t TO ROLE analysts', ok: true },
    { sql: 'GRANT ROLE admin TO USER alice', ok: true },
    { sql: '', ok: true },
  ])('decides $sql: ok=$ok', ({ sql, ok }) => {
    expect(guard(sql).ok).toBe(ok);
  });

  it('names the role, the rule and the pattern in the reason', () => {
    expect(guard('DROP ROLE postgres')).toEqual({ ok: false, reason: "refused: statement drops role postgres, which matches deny-role 'postgres'" });
    expect(guard('GRANT x TO rds_a')).toEqual({
      ok: false,
      reason: "refused: statement grants to or revokes from role rds_a, which matches deny-role 'rds*'",
    });
    expect(guard('CREATE ROLE alice SUPERUSER')).toEqual({
      ok: false,
      reason: 'refused: CREATE ROLE alice ... SUPERUSER gives superuser; allow it with allow-role',
    });
    expect(guard('GRANT pg_execute_server_program TO alice')).toEqual({
      ok: false,
      reason: 'refused: grants pg_execute_server_program (superuser-equivalent) to role alice, which is not an allow-role',
    });
    expect(guard('GRANT staff TO alice WITH ADMIN OPTION')).toEqual({
      ok: false,
      reason: 'refused: grants a role WITH ADMIN OPTION to role alice, which is not an allow-role',
    });
  });

  it('allows nothing and denies nothing by default, so only the superuser rules apply', () => {
    const g = makeDclGuard();
    expect(g('DROP ROLE postgres').ok).toBe(true);
    expect(g('CREATE ROLE x SUPERUSER').ok).toBe(false);
    expect(g('GRANT r TO x WITH ADMIN OPTION').ok).toBe(false);
  });

  it('compares allow patterns with the exact catalog name, so a quoted mixed-case role is not allowed by a lower-case pattern', () => {
    const g = makeDclGuard({ allowRoles: ['ops'] });
    expect(g('CREATE ROLE OPS SUPERUSER').ok).toBe(true);
    expect(g('CREATE ROLE "OPS" SUPERUSER').ok).toBe(false);
  });
});
