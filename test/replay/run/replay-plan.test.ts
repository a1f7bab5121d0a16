import { describe, expect, it } from 'vitest';
import type { AuditEvent, EventKind } from '../../../src/core/audit-event.js';
import { contextEffect, decide, type ReplayPolicy } from '../../../src/replay/run/replay-plan.js';

function event(kind: EventKind, statement: string, extra?: Record<string, unknown>): AuditEvent {
  return {
    id: 'e1',
    ts: 0,
    end: null,
    durationMs: null,
    user: 'alice',
    database: 'app',
    session: 's1',
    client: null,
    statement,
    ok: true,
    error: null,
    source: { format: 'pg-json', object: 'log.json', line: 1 },
    kind,
    command: '',
    fingerprint: '',
    fingerprintId: 'f',
    ...(extra ? { extra } : {}),
  };
}

const READ_ONLY: ReplayPolicy = { allowWrites: false, userMap: new Map() };
const WRITES: ReplayPolicy = { allowWrites: true, userMap: new Map() };

describe('what replay does with a statement', () => {
  it('runs queries, session and transaction statements read-only, and skips every other kind', () => {
    expect(decide(event('query', 'SELECT 1'), READ_ONLY)).toMatchObject({ action: 'execute', statement: 'SELECT 1' });
    expect(decide(event('session', 'SET search_path = app'), READ_ONLY)).toMatchObject({ action: 'execute' });
    expect(decide(event('tcl', 'BEGIN'), READ_ONLY)).toMatchObject({ action: 'execute', context: null });
    for (const kind of ['dml', 'ddl', 'dcl', 'utility', 'unknown'] as const) {
      expect(decide(event(kind, 'X'), READ_ONLY)).toEqual({ action: 'skip', kind });
      expect(decide(event(kind, 'X'), WRITES)).toMatchObject({ action: 'execute' });
    }
  });

  it('refuses what could switch read-only off, unless writes are allowed', () => {
    for (const s of [
      'SET default_transaction_read_only = off',
      'SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE',
      'BEGIN READ WRITE',
      'START TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ  WRITE',
      "SELECT set_config('default_transaction_read_only', 'off', false)",
      'SET transaction_read_only TO off',
    ]) {
      expect(decide(event(s.startsWith('SELECT') ? 'query' : 'session', s), READ_ONLY).action, s).toBe('refuse');
      expect(decide(event('session', s), WRITES).action).toBe('execute');
    }
  });

  it('binds logged parameters into the statement', () => {
    const e = event('query', 'SELECT * FROM t WHERE id = $1', { parameters: "parameters: $1 = '42'" });
    expect(decide(e, READ_ONLY)).toMatchObject({ statement: "SELECT * FROM t WHERE id = '42'" });
  });

  it('renames roles of SET ROLE by the user map', () => {
    const policy: ReplayPolicy = { allowWrites: false, userMap: new Map([['alice', 'Alice2']]) };
    expect(decide(event('session', 'SET ROLE alice'), policy)).toMatchObject({ statement: 'SET ROLE "Alice2"' });
    expect(decide(event('session', "SET SESSION AUTHORIZATION 'alice'"), policy)).toMatchObject({ statement: 'SET SESSION AUTHORIZATION "Alice2"' });
    expect(decide(event('session', 'SET ROLE NONE'), policy)).toMatchObject({ statement: 'SET ROLE NONE' });
  });

  it('keeps a session on its connection after temporary objects, held cursors, LISTEN or advisory locks', () => {
    expect(decide(event('ddl', 'CREATE TEMP TABLE x (id int)'), WRITES)).toMatchObject({ sticky: true });
    expect(decide(event('query', 'DECLARE c CURSOR WITH HOLD FOR SELECT 1'), READ_ONLY)).toMatchObject({ sticky: true });
    expect(decide(event('query', 'SELECT pg_advisory_lock(1)'), READ_ONLY)).toMatchObject({ sticky: true });
    expect(decide(event('query', 'SELECT 1'), READ_ONLY)).toMatchObject({ sticky: false });
  });
});

describe("a session statement's effect on the context a session carries", () => {
  it('keys settings, role and prepared statements, and resets them', () => {
    expect(contextEffect('SET search_path TO app, public')).toEqual({ op: 'set', key: 'search_path', statement: 'SET search_path TO app, public' });
    expect(contextEffect('set session "Work_Mem" = 1')).toMatchObject({ key: 'Work_Mem' });
    expect(contextEffect('SET WORK_MEM = 1')).toMatchObject({ key: 'work_mem' });
    expect(contextEffect('SET TIME ZONE UTC')).toMatchObject({ key: 'timezone' });
    expect(contextEffect('SET SCHEMA \'app\'')).toMatchObject({ key: 'search_path' });
    expect(contextEffect('SET ROLE bob')).toMatchObject({ key: 'role' });
    expect(contextEffect('/* x */ SET SESSION AUTHORIZATION bob')).toMatchObject({ key: 'session_authorization' });
    expect(contextEffect('RESET work_mem')).toEqual({ op: 'reset', key: 'work_mem' });
    expect(contextEffect('RESET ROLE')).toEqual({ op: 'reset', key: 'role' });
    expect(contextEffect('RESET ALL')).toEqual({ op: 'reset-all' });
    expect(contextEffect('DISCARD ALL')).toEqual({ op: 'reset-all' });
    expect(contextEffect('PREPARE q1 AS SELECT 1')).toMatchObject({ op: 'set', key: 'prepare:q1' });
    expect(contextEffect('DEALLOCATE q1')).toEqual({ op: 'reset', key: 'prepare:q1' });
    expect(contextEffect('DEALLOCATE ALL')).toEqual({ op: 'reset', key: 'prepare:', prefix: true });
    expect(contextEffect('USE sales')).toMatchObject({ op: 'set', key: 'text:USE sales' });
  });

  it('leaves no context for transaction-scoped settings and partial discards', () => {
    expect(contextEffect('SET LOCAL work_mem = 1')).toBeNull();
    expect(contextEffect('SET TRANSACTION ISOLATION LEVEL SERIALIZABLE')).toBeNull();
    expect(contextEffect('DISCARD PLANS')).toBeNull();
  });
});
