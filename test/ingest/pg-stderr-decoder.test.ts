import { describe, expect, it } from 'vitest';
import { AuditReplayError } from '../../src/core/errors.js';
import { LogLinePrefix, PrefixMatch, V_APP, V_DATABASE, V_HOST_PORT, V_LINE, V_PID, V_SESSION, V_SQLSTATE, V_TIME, V_USER } from '../../src/ingest/decoders/pg-stderr/log-line-prefix.js';
import { pgStderrDecoder } from '../../src/ingest/decoders/pg-stderr/pg-stderr-decoder.js';
import { decodeLines, OBJECT } from './decoder-contract.js';

const T = (s: string) => Date.parse(`2026-11-20T10:00:${s}Z`);

/** The values a prefix reads from a line, by escape letter, and the severity after it. */
function values(prefix: string, line: string): Record<string, string | null> | null {
  const m = new PrefixMatch();
  const severity = LogLinePrefix.compile(prefix).match(line, m);
  if (severity === null) return null;
  const out: Record<string, string | null> = { severity };
  for (const [k, v] of Object.entries({ m: V_TIME, u: V_USER, d: V_DATABASE, c: V_SESSION, p: V_PID, l: V_LINE, a: V_APP, r: V_HOST_PORT, e: V_SQLSTATE })) {
    const value = m.get(line, v);
    if (value !== null) out[k] = value;
  }
  return out;
}

describe('log_line_prefix', () => {
  it('reads every supported escape', () => {
    expect(values('%m|%u|%d|%c|%l|%p|%a|%r|%e|%x|%v|', '2026-11-20 10:00:00.123 UTC|app|shop|6736a1b2.1092|17|4242|psql|10.0.0.7(51234)|42P01|0|3/42|ERROR:  boom')).toEqual({
      severity: 'ERROR',
      m: '2026-11-20 10:00:00.123 UTC',
      u: 'app',
      d: 'shop',
      c: '6736a1b2.1092',
      l: '17',
      p: '4242',
      a: 'psql',
      r: '10.0.0.7(51234)',
      e: '42P01',
    });
    expect(values('%t [%p]: [%l-1] ', '2026-11-20 10:00:00 +02 [7]: [3-1] LOG:  x')).toEqual({ severity: 'LOG', m: '2026-11-20 10:00:00 +02', p: '7', l: '3' });
  });

  it('stops at %q for processes without a session, as PostgreSQL does', () => {
    const prefix = '%m [%p] %q%u@%d ';
    expect(values(prefix, '2026-11-20 10:00:00.000 UTC [7] LOG:  checkpoint starting: time')).toEqual({ severity: 'LOG', m: '2026-11-20 10:00:00.000 UTC', p: '7' });
    expect(values(prefix, '2026-11-20 10:00:00.000 UTC [8] app@shop LOG:  statement: SELECT 1')).toMatchObject({ u: 'app', d: 'shop' });
  });

  it('finds where free text ends even when the text holds the literal that follows it', () => {
    expect(values('%m %u@%d %a: ', '2026-11-20 10:00:00.000 UTC ann@sales db pgAdmin 4: Query Tool: LOG:  x')).toMatchObject({ u: 'ann', d: 'sales', a: 'db pgAdmin 4: Query Tool' });
    expect(values('%m %u@%d|', '2026-11-20 10:00:00.000 UTC ann@x@y|LOG:  x')).toMatchObject({ u: 'ann', d: 'x@y' });
    expect(values('%m %u', '2026-11-20 10:00:00.000 UTC annLOG:  x')).toMatchObject({ u: 'ann' });
  });

  it('reads padded values, %% and unknown escapes as PostgreSQL writes them', () => {
    expect(values('%m %-6u|%5p %%%z ', '2026-11-20 10:00:00.000 UTC ann   |   42 % LOG:  x')).toMatchObject({ u: 'ann', p: '42' });
  });

  it('refuses a prefix without a time, or with free-text values nothing separates', () => {
    expect(() => LogLinePrefix.compile('%u %d ')).toThrow(AuditReplayError);
    expect(() => LogLinePrefix.compile('%u %d ')).toThrow(/no %m, %t or %n/);
    expect(() => LogLinePrefix.compile('%m %u%d ')).toThrow(/must be followed by literal text/);
  });

  it('does not match a line of another shape', () => {
    expect(values('%m [%p] ', '2026-11-20 10:00:00.000 UTC 42 LOG:  x')).toBeNull();
    expect(values('%m [%p] ', '2026-11-20 10:00:00.000 UTC [42] Log:  x')).toBeNull();
    expect(values('%m [%p] ', '2026-11-20 10:00:00.000 UTC [42] LOG: x')).toBeNull();
  });
});

describe('PostgreSQL stderr decoder', () => {
  const PREFIX = { pgPrefix: '%m|%u|%d|%c|%l|%e|%a|' };
  const line = (s: string, n: number, state: string, rest: string) => `2026-11-20 10:00:${s} UTC|app|shop|6736a1b2.1092|${n}|${state}|psql|${rest}`;

  it('reads a statement with its TAB continuation lines, the id from %c:%l, and the values of the prefix', () => {
    const { events, rejects } = decodeLines(
      pgStderrDecoder,
      [line('01.000', 1, '00000', 'LOG:  statement: SELECT a,'), '\t  b', '\t', '\tFROM t', line('01.250', 2, '00000', 'LOG:  duration: 250.000 ms')],
      PREFIX,
    );
    expect(rejects).toEqual([]);
    expect(events).toEqual([
      {
        id: '6736a1b2.1092:1',
        ts: T('01.000'),
        end: T('01.250'),
        durationMs: 250,
        user: 'app',
        database: 'shop',
        session: '6736a1b2.1092',
        client: 'psql',
        statement: 'SELECT a,\n  b\n\nFROM t',
        ok: true,
        error: null,
        source: { format: 'pg-stderr', object: OBJECT.name, line: 1 },
      },
    ]);
  });

  it('joins the DETAIL and STATEMENT lines that follow an ERROR to it, and ignores HINT and CONTEXT', () => {
    const { events } = decodeLines(
      pgStderrDecoder,
      [
        line('02.000', 1, '23505', 'ERROR:  duplicate key value violates unique constraint "t_pkey"'),
        line('02.000', 2, '23505', 'DETAIL:  Key (id)=(1) already exists.'),
        line('02.000', 3, '23505', 'HINT:  not a statement'),
        line('02.000', 4, '23505', 'CONTEXT:  neither'),
        line('02.000', 5, '23505', 'STATEMENT:  INSERT INTO t'),
        '\tVALUES (1)',
      ],
      PREFIX,
    );
    expect(events).toEqual([
      expect.objectContaining({ id: '6736a1b2.1092:1', statement: 'INSERT INTO t\nVALUES (1)', ok: false, error: '23505: duplicate key value violates unique constraint "t_pkey"' }),
    ]);
  });

  it('keeps sessions apart by pid with the default prefix, which has no session id, and makes ids from object and line', () => {
    const { events } = decodeLines(pgStderrDecoder, [
      '2026-11-20 10:00:01.000 UTC [201] LOG:  statement: SELECT 1',
      '2026-11-20 10:00:01.100 UTC [202] LOG:  statement: SELECT 2',
      '2026-11-20 10:00:01.101 UTC [202] LOG:  duration: 1.000 ms',
      '2026-11-20 10:00:01.200 UTC [201] LOG:  duration: 200.000 ms',
    ]);
    expect(events.map((e) => [e.id, e.session, e.statement, e.durationMs])).toEqual([
      [`${OBJECT.name}:2`, `${OBJECT.name}#pid202`, 'SELECT 2', 1],
      [`${OBJECT.name}:1`, `${OBJECT.name}#pid201`, 'SELECT 1', 200],
    ]);
  });

  it('rejects lines that fit no record, and a record with an unreadable time together with its continuation lines', () => {
    const { events, rejects } = decodeLines(
      pgStderrDecoder,
      [
        '\torphan continuation',
        '2026-11-20 10:00:01.000 UTC [1] STATEMENT:  SELECT 1',
        '2026-11-20 10:00:02.000 CET [1] LOG:  statement: SELECT 2',
        '\tFROM t',
        '2026-11-20 10:00:02.000 CET [1] DETAIL:  goes with it',
        'written by something else',
        '2026-11-20 10:00:03.000 UTC [1] LOG:  duration: 1.000 ms  statement: SELECT 3',
      ],
      {},
    );
    expect(rejects.map((r) => [r.line, r.reason])).toEqual([
      [1, 'malformed-line'],
      [2, 'malformed-line'],
      [3, 'bad-timestamp'],
      [6, 'malformed-line'],
    ]);
    expect(events.map((e) => e.statement)).toEqual(['SELECT 3']);
  });

  it('fails with a usage error when --pg-prefix cannot be read', () => {
    expect(() => decodeLines(pgStderrDecoder, [], { pgPrefix: '%u|%d|' })).toThrow(/--pg-prefix '%u\|%d\|' has no %m, %t or %n/);
  });

  it('sniffs the usual prefixes and neither csvlog, jsonlog nor Redshift lines', () => {
    expect(pgStderrDecoder.sniff('2026-11-20 10:00:00.000 UTC [42] LOG:  database system is ready to accept connections')).toBe(true);
    expect(pgStderrDecoder.sniff('2026-11-20 10:00:00 UTC [42]: [1-1] user=,db=,app=,client= LOG:  checkpoint starting: time')).toBe(true);
    expect(pgStderrDecoder.sniff('2026-11-20 10:00:00.000 +02|app|shop|6736a1b2.1092|1|ERROR:  boom')).toBe(true);
    expect(pgStderrDecoder.sniff('2026-11-20 10:00:00.000 UTC,"app","shop",42,,6736a1b2.1092,1,,,,0,LOG,00000,"ERROR:  in a message",,,')).toBe(false);
    expect(pgStderrDecoder.sniff('{"timestamp":"2026-11-20 10:00:00.000 UTC","message":"LOG:  x"}')).toBe(false);
    expect(pgStderrDecoder.sniff("'2026-11-20T01:02:03Z UTC [ db=dev user=etl pid=123 userid=100 xid=456 ]' LOG:  select 1")).toBe(false);
  });
});
