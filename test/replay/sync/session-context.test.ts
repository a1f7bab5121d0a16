import { describe, expect, it } from 'vitest';
import { EMPTY_CONTEXT, nextContext, type SessionContext } from '../../../src/replay/sync/session-context.js';

function after(...statements: string[]): SessionContext {
  return statements.reduce(nextContext, EMPTY_CONTEXT);
}

describe('nextContext', () => {
  it('keeps a SET search_path verbatim with its schemas as the catalog names them', () => {
    expect(after(`SET search_path TO app, "Sales", public`)).toMatchObject({
      searchPath: 'SET search_path TO app, "Sales", public',
      searchPathSchemas: ['app', 'Sales', 'public'],
    });
    expect(after(`set search_path = '$user', App`).searchPathSchemas).toEqual(['app']);
    expect(after(`SET SESSION search_path TO x;`).searchPath).toBe('SET SESSION search_path TO x');
  });

  it('turns SET SCHEMA and Hive USE into a search path', () => {
    expect(after(`SET SCHEMA 'reports'`)).toMatchObject({ searchPath: "SET search_path TO 'reports'", searchPathSchemas: ['reports'] });
    expect(after('USE sales')).toMatchObject({ searchPath: 'SET search_path TO sales', searchPathSchemas: ['sales'] });
  });

  it('goes back to the default path on DEFAULT, RESET and DISCARD ALL', () => {
    for (const reset of ['SET search_path TO DEFAULT', 'RESET search_path', 'RESET ALL', 'DISCARD ALL']) {
      expect(after('SET search_path TO app', reset), reset).toMatchObject({ searchPath: null, searchPathSchemas: [] });
    }
  });

  it('tracks SET ROLE by catalog name until RESET ROLE or SET ROLE NONE', () => {
    expect(after('SET ROLE app_owner').role).toBe('app_owner');
    expect(after('SET ROLE "Owner"').role).toBe('Owner');
    expect(after("SET ROLE 'owner'").role).toBe('owner');
    expect(after('SET ROLE app_owner', 'RESET ROLE').role).toBeNull();
    expect(after('SET ROLE app_owner', 'SET ROLE NONE').role).toBeNull();
    expect(after('SET ROLE "none"').role).toBe('none');
  });

  it('tracks SET SESSION AUTHORIZATION, which also ends a SET ROLE', () => {
    expect(after('SET ROLE r', 'SET SESSION AUTHORIZATION Alice')).toMatchObject({ sessionUser: 'alice', role: null });
    expect(after('SET SESSION AUTHORIZATION alice', 'SET SESSION AUTHORIZATION DEFAULT').sessionUser).toBeNull();
    expect(after('SET SESSION AUTHORIZATION alice', 'RESET SESSION AUTHORIZATION').sessionUser).toBeNull();
  });

  it('ignores SET LOCAL, other settings and statements that are no session statement', () => {
    const before = after('SET search_path TO app');
    for (const sql of ['SET LOCAL search_path TO x', "SET statement_timeout = '30s'", 'CREATE TABLE t (a int)', 'RESET statement_timeout']) {
      expect(nextContext(before, sql), sql).toBe(before);
    }
  });
});
