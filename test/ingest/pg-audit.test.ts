import { describe, expect, it } from 'vitest';
import type { Decoder } from '../../src/ingest/decoder.js';
import { parsePgAudit } from '../../src/ingest/decoders/pg-common/pgaudit.js';
import { pgCsvDecoder } from '../../src/ingest/decoders/pg-csv/pg-csv-decoder.js';
import { pgJsonDecoder } from '../../src/ingest/decoders/pg-json/pg-json-decoder.js';
import { pgStderrDecoder } from '../../src/ingest/decoders/pg-stderr/pg-stderr-decoder.js';
import { csvlogRecord } from '../formats/pg-csv/csvlog-line.js';
import { pgJsonLine } from '../helpers/temp-tree.js';
import { decodeLines, type Decoded } from './decoder-contract.js';

/** One PostgreSQL log record, written out below in each of the three formats. */
interface Rec {
  session?: string;
  n: number;
  /** Seconds and ms after 10:00 (`01.500`). */
  at: string;
  severity?: string;
  state?: string;
  message: string;
  detail?: string;
  statement?: string;
}

const PREFIX = '%m|%u|%d|%c|%l|%e|%a|';
const time = (at: string) => `2026-11-20 10:00:${at} UTC`;
const T = (at: string) => Date.parse(`2026-11-20T10:00:${at}Z`);

const withTabs = (text: string) => text.replace(/\n/g, '\n\t');

const FORMATS: { decoder: Decoder; lines: (recs: Rec[]) => string[] }[] = [
  {
    decoder: pgJsonDecoder,
    lines: (recs) =>
      recs.map((r) =>
        pgJsonLine({
          session_id: r.session ?? 'c1',
          line_num: r.n,
          timestamp: time(r.at),
          error_severity: r.severity ?? 'LOG',
          message: r.message,
          ...(r.state ? { state_code: r.state } : {}),
          ...(r.detail ? { detail: r.detail } : {}),
          ...(r.statement ? { statement: r.statement } : {}),
        }),
      ),
  },
  {
    decoder: pgCsvDecoder,
    lines: (recs) =>
      recs
        .map((r) =>
          csvlogRecord({
            session_id: r.session ?? 'c1',
            session_line_num: r.n,
            log_time: time(r.at),
            error_severity: r.severity ?? 'LOG',
            sql_state_code: r.state ?? '00000',
            message: r.message,
            detail: r.detail ?? null,
            query: r.statement ?? null,
          }),
        )
        .join('\n')
        .split('\n'),
  },
  {
    decoder: pgStderrDecoder,
    lines: (recs) =>
      recs.flatMap((r) => {
        const prefix = `${time(r.at)}|app|appdb|${r.session ?? 'c1'}|${r.n}|${r.state ?? '00000'}|psql|`;
        const out = [`${prefix}${r.severity ?? 'LOG'}:  ${withTabs(r.message)}`];
        if (r.detail) out.push(`${prefix}DETAIL:  ${withTabs(r.detail)}`);
        if (r.statement) out.push(`${prefix}STATEMENT:  ${withTabs(r.statement)}`);
        return out.join('\n').split('\n');
      }),
  },
];

/** Decodes the records in every format and checks the formats agree; returns the jsonlog result. */
function decodeAll(recs: Rec[]): Decoded {
  const results = FORMATS.map(({ decoder, lines }) => {
    const d = decodeLines(decoder, lines(recs), { pgPrefix: PREFIX });
    return { ...d, events: d.events.map((e) => ({ ...e, source: { ...e.source, format: 'any', line: 0 } })) };
  });
  for (const r of results.slice(1)) {
    expect(r.rejects).toEqual(results[0]!.rejects);
    expect(r.skips).toEqual(results[0]!.skips);
    expect(r.events).toEqual(results[0]!.events);
  }
  return results[0]!;
}

const brief = (d: Decoded) => d.events.map((e) => ({ id: e.id, statement: e.statement, ok: e.ok, durationMs: e.durationMs, extra: e.extra ?? null }));

describe('pgAudit AUDIT lines in jsonlog, csvlog and stderr', () => {
  it('only add their class to a statement that log_statement logged, never a second event', () => {
    const d = decodeAll([
      { n: 1, at: '01.000', message: 'statement: CREATE TABLE t (a int, "b,c" text)' },
      { n: 2, at: '01.002', message: 'AUDIT: SESSION,1,1,DDL,CREATE TABLE,,,"CREATE TABLE t (a int, ""b,c"" text)",<not logged>' },
      { n: 3, at: '01.003', message: 'duration: 3.000 ms' },
    ]);
    expect(brief(d)).toEqual([{ id: 'c1:1', statement: 'CREATE TABLE t (a int, "b,c" text)', ok: true, durationMs: 3, extra: { pgauditClass: 'DDL' } }]);
    expect(d.skips).toEqual(['pgaudit-record']);
  });

  it('fold into the duration record that carries the statement when log_statement is none, which keeps its id', () => {
    const d = decodeAll([
      { n: 1, at: '01.000', message: 'AUDIT: SESSION,1,1,WRITE,INSERT,,,"INSERT INTO t VALUES (1, \'a,b\')",<not logged>' },
      { n: 2, at: '01.010', message: "duration: 10.000 ms  statement: INSERT INTO t VALUES (1, 'a,b')" },
    ]);
    expect(brief(d)).toEqual([{ id: 'c1:2', statement: "INSERT INTO t VALUES (1, 'a,b')", ok: true, durationMs: 10, extra: { pgauditClass: 'WRITE' } }]);
    expect(d.events[0]).toMatchObject({ ts: T('01.010') - 10, end: T('01.010') });
  });

  it('are the statements when the log has nothing else, one event per statement id with substatements and OBJECT lines folded in', () => {
    const d = decodeAll([
      { n: 1, at: '01.000', message: 'AUDIT: SESSION,1,1,READ,SELECT,,,SELECT f(),<not logged>' },
      { n: 2, at: '01.000', message: 'AUDIT: SESSION,1,2,FUNCTION,EXECUTE,FUNCTION,public.f,SELECT f(),<not logged>' },
      { n: 3, at: '01.001', message: "AUDIT: SESSION,1,3,WRITE,UPDATE,,,UPDATE t SET a = 'x' WHERE id = i,<not logged>" },
      { n: 4, at: '01.001', message: "AUDIT: OBJECT,1,3,WRITE,UPDATE,TABLE,public.t,UPDATE t SET a = 'x' WHERE id = i,<not logged>" },
      { n: 5, at: '02.000', message: 'AUDIT: SESSION,2,1,MISC,SET,,,SET work_mem = 1,<not logged>' },
      { n: 6, at: '03.000', message: 'AUDIT: SESSION,3,1,MISC,SET,,,SET work_mem = 1,<not logged>' },
    ]);
    expect(brief(d)).toEqual([
      { id: 'c1:1', statement: 'SELECT f()', ok: true, durationMs: null, extra: { pgauditClass: 'READ', pgauditObjects: ['FUNCTION public.f', 'TABLE public.t'] } },
      // The same text twice is two statements: only one statement id makes one statement.
      { id: 'c1:5', statement: 'SET work_mem = 1', ok: true, durationMs: null, extra: { pgauditClass: 'MISC' } },
      // Nothing in the object says how the last one ended.
      { id: 'c1:6', statement: 'SET work_mem = 1', ok: null, durationMs: null, extra: { pgauditClass: 'MISC' } },
    ]);
    expect(d.skips).toEqual(['pgaudit-record', 'pgaudit-record', 'pgaudit-record']);
  });

  it('take their outcome from an ERROR of the same session, and success from the session ending', () => {
    const d = decodeAll([
      { session: 'a', n: 1, at: '01.000', message: 'AUDIT: SESSION,1,1,WRITE,INSERT,,,INSERT INTO t VALUES (1),<not logged>' },
      { session: 'b', n: 1, at: '01.001', message: 'AUDIT: SESSION,1,1,READ,SELECT,,,SELECT 1,<not logged>' },
      {
        session: 'a',
        n: 2,
        at: '01.004',
        severity: 'ERROR',
        state: '23505',
        message: 'duplicate key value violates unique constraint "t_pkey"',
        detail: 'Key (id)=(1) already exists.',
        statement: 'INSERT INTO t VALUES (1)',
      },
      { session: 'b', n: 2, at: '01.500', message: 'disconnection: session time: 0:00:00.500 user=app database=appdb host=[local]' },
    ]);
    expect(brief(d)).toEqual([
      { id: 'a:1', statement: 'INSERT INTO t VALUES (1)', ok: false, durationMs: 4, extra: { pgauditClass: 'WRITE' } },
      { id: 'b:1', statement: 'SELECT 1', ok: true, durationMs: null, extra: { pgauditClass: 'READ' } },
    ]);
    expect(d.events[0]!.error).toBe('23505: duplicate key value violates unique constraint "t_pkey"');
  });

  it('written at Bind before the execute record of the extended protocol fold into that record', () => {
    const d = decodeAll([
      { n: 1, at: '01.000', message: 'duration: 0.100 ms  parse <unnamed>: SELECT * FROM t WHERE id = $1' },
      { n: 2, at: '01.001', message: 'AUDIT: SESSION,1,1,READ,SELECT,,,SELECT * FROM t WHERE id = $1,<not logged>' },
      { n: 3, at: '01.001', message: 'duration: 0.200 ms  bind <unnamed>: SELECT * FROM t WHERE id = $1', detail: "parameters: $1 = '42'" },
      { n: 4, at: '01.002', message: 'execute <unnamed>: SELECT * FROM t WHERE id = $1', detail: "parameters: $1 = '42'" },
      { n: 5, at: '01.003', message: 'duration: 0.050 ms' },
    ]);
    expect(brief(d)).toEqual([
      { id: 'c1:4', statement: 'SELECT * FROM t WHERE id = $1', ok: true, durationMs: 0.05, extra: { parameters: "parameters: $1 = '42'", pgauditClass: 'READ' } },
    ]);
    expect(d.skips).toEqual(['protocol-step', 'protocol-step']);
  });

  it('of a multi-statement string fold all their statement ids into its one record', () => {
    const d = decodeAll([
      { n: 1, at: '01.000', message: 'statement: BEGIN; DELETE FROM t; COMMIT' },
      { n: 2, at: '01.000', message: 'AUDIT: SESSION,1,1,MISC,BEGIN,,,BEGIN; DELETE FROM t; COMMIT,<not logged>' },
      { n: 3, at: '01.001', message: 'AUDIT: SESSION,2,1,WRITE,DELETE,,,BEGIN; DELETE FROM t; COMMIT,<not logged>' },
      { n: 4, at: '01.002', message: 'AUDIT: SESSION,3,1,MISC,COMMIT,,,BEGIN; DELETE FROM t; COMMIT,<not logged>' },
      { n: 5, at: '01.003', message: 'duration: 3.000 ms' },
    ]);
    expect(brief(d)).toEqual([{ id: 'c1:1', statement: 'BEGIN; DELETE FROM t; COMMIT', ok: true, durationMs: 3, extra: { pgauditClass: 'MISC' } }]);
  });

  it('of a statement never logged at its start make their own event when log_statement covers only some statements', () => {
    // log_statement=ddl without durations: the DDL has its record, the SELECT only its AUDIT line.
    const d = decodeAll([
      { n: 1, at: '01.000', message: 'statement: DROP TABLE t' },
      { n: 2, at: '01.001', message: 'AUDIT: SESSION,1,1,DDL,DROP TABLE,,,DROP TABLE t,<not logged>' },
      { n: 3, at: '02.000', message: 'AUDIT: SESSION,2,1,READ,SELECT,,,SELECT 1,<not logged>' },
    ]);
    expect(brief(d)).toEqual([
      { id: 'c1:1', statement: 'DROP TABLE t', ok: true, durationMs: null, extra: { pgauditClass: 'DDL' } },
      { id: 'c1:3', statement: 'SELECT 1', ok: null, durationMs: null, extra: { pgauditClass: 'READ' } },
    ]);
  });

  it('are rejected with their line when they cannot be read', () => {
    for (const { decoder, lines } of FORMATS) {
      const d = decodeLines(decoder, lines([{ n: 1, at: '01.000', message: 'AUDIT: SESSION,one,1,READ,SELECT,,,SELECT 1,<none>' }]), { pgPrefix: PREFIX });
      expect(d.events).toEqual([]);
      expect(d.rejects).toEqual([{ line: 1, reason: 'malformed-line', message: 'unreadable pgaudit AUDIT record' }]);
    }
  });
});

describe('parsePgAudit', () => {
  it('reads the fields, unquoting CSV-quoted ones', () => {
    expect(parsePgAudit('AUDIT: OBJECT,12,3,READ,SELECT,TABLE,public."a,b","SELECT * FROM ""a,b""",<not logged>')).toEqual({
      auditType: 'OBJECT',
      statementId: 12,
      substatementId: 3,
      className: 'READ',
      command: 'SELECT',
      objectType: 'TABLE',
      objectName: 'public."a',
      statement: 'b"',
    });
    expect(parsePgAudit('AUDIT: OBJECT,12,3,READ,SELECT,TABLE,"public.""a,b""","SELECT * FROM ""a,b""",<not logged>')).toMatchObject({
      objectName: 'public."a,b"',
      statement: 'SELECT * FROM "a,b"',
    });
  });

  it('reads a statement spanning lines, a parameter list, and the rows field of pgaudit.log_rows', () => {
    expect(parsePgAudit('AUDIT: SESSION,1,1,WRITE,INSERT,,,"INSERT INTO t\nVALUES ($1, $2)","1,x",2')).toMatchObject({
      statement: 'INSERT INTO t\nVALUES ($1, $2)',
    });
  });

  it('leaves the statement empty where pgaudit.log_statement_once left it out', () => {
    expect(parsePgAudit('AUDIT: SESSION,1,2,DDL,CREATE SEQUENCE,SEQUENCE,public.s,<previously logged>,<previously logged>')?.statement).toBe('');
  });

  it('returns null for anything else', () => {
    for (const m of ['AUDIT: SESSION', 'AUDIT: NOPE,1,1,READ,SELECT,,,x,y', 'AUDIT: SESSION,1,-1,READ,SELECT,,,x,y', 'AUDIT: SESSION,1,1,READ,SELECT,,,"open', 'statement: SELECT 1']) {
      expect(parsePgAudit(m)).toBeNull();
    }
  });
});
