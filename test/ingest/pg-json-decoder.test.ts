import { describe, expect, it } from 'vitest';
import { pgJsonDecoder } from '../../src/ingest/decoders/pg-json/pg-json-decoder.js';
import { parsePgTimestamp } from '../../src/ingest/decoders/pg-timestamp.js';
import { pgJsonLine } from '../helpers/temp-tree.js';
import { decodeLines } from './decoder-contract.js';

const at = (s: string) => `2026-11-20 10:00:${s} UTC`;
const T = (s: string) => Date.parse(`2026-11-20T10:00:${s}Z`);

describe('PostgreSQL jsonlog decoder', () => {
  it('reads a one-record statement (log_min_duration_statement alone) with its start derived from the duration', () => {
    const { events } = decodeLines(pgJsonDecoder, [
      pgJsonLine({ line_num: 7, timestamp: at('05.000'), message: 'duration: 12.345 ms  statement: SELECT count(*) FROM t' }),
    ]);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      id: '6736a1b2.1092:7',
      ts: T('05.000') - 12.345,
      end: T('05.000'),
      durationMs: 12.345,
      ok: true,
      user: 'app',
      database: 'appdb',
      session: '6736a1b2.1092',
      client: 'psql',
      statement: 'SELECT count(*) FROM t',
    });
  });

  it('joins a statement record with the later duration record of the same session', () => {
    const { events } = decodeLines(pgJsonDecoder, [
      pgJsonLine({ session_id: 's1', line_num: 1, timestamp: at('01.000'), message: 'statement: CREATE TABLE a (id int)' }),
      pgJsonLine({ session_id: 's2', line_num: 1, timestamp: at('01.100'), message: 'statement: SELECT 2' }),
      pgJsonLine({ session_id: 's2', line_num: 2, timestamp: at('01.101'), message: 'duration: 0.500 ms' }),
      pgJsonLine({ session_id: 's1', line_num: 2, timestamp: at('01.200'), message: 'duration: 200.000 ms' }),
    ]);
    expect(events.map((e) => [e.id, e.statement, e.durationMs, e.ok])).toEqual([
      ['s2:1', 'SELECT 2', 0.5, true],
      ['s1:1', 'CREATE TABLE a (id int)', 200, true],
    ]);
    expect(events[1]).toMatchObject({ ts: T('01.000'), end: T('01.000') + 200 });
  });

  it('takes execute records of the extended protocol as statements, with their parameters, and ignores parse and bind', () => {
    const { events, skips } = decodeLines(pgJsonDecoder, [
      pgJsonLine({ line_num: 1, message: 'duration: 0.050 ms  parse <unnamed>: SELECT * FROM t WHERE id = $1' }),
      pgJsonLine({ line_num: 2, message: 'duration: 0.020 ms  bind <unnamed>: SELECT * FROM t WHERE id = $1', detail: "parameters: $1 = '42'" }),
      pgJsonLine({ line_num: 3, message: 'duration: 0.412 ms  execute <unnamed>: SELECT * FROM t WHERE id = $1', detail: "parameters: $1 = '42'" }),
      pgJsonLine({ line_num: 4, message: 'execute S_1: UPDATE t SET v = $1', detail: "parameters: $1 = 'x'" }),
      pgJsonLine({ line_num: 5, message: 'duration: 1.000 ms' }),
    ]);
    expect(events.map((e) => [e.statement, e.durationMs, e.extra])).toEqual([
      ['SELECT * FROM t WHERE id = $1', 0.412, { parameters: "parameters: $1 = '42'" }],
      ['UPDATE t SET v = $1', 1, { parameters: "parameters: $1 = 'x'" }],
    ]);
    expect(skips).toEqual(['protocol-step', 'protocol-step']);
  });

  it('marks the pending statement failed on an ERROR record, with the SQLSTATE in the error', () => {
    const { events } = decodeLines(pgJsonDecoder, [
      pgJsonLine({ line_num: 1, timestamp: at('01.000'), message: 'statement: SELECT * FROM nope' }),
      pgJsonLine({
        line_num: 2,
        timestamp: at('01.004'),
        error_severity: 'ERROR',
        state_code: '42P01',
        message: 'relation "nope" does not exist',
        statement: 'SELECT * FROM nope',
      }),
    ]);
    expect(events).toEqual([
      expect.objectContaining({ id: '6736a1b2.1092:1', ok: false, error: '42P01: relation "nope" does not exist', durationMs: 4 }),
    ]);
  });

  it('makes a failed event from an ERROR record whose statement was never logged at its start', () => {
    const { events } = decodeLines(pgJsonDecoder, [
      pgJsonLine({ line_num: 9, error_severity: 'ERROR', state_code: '42601', message: 'syntax error at or near "SELEC"', statement: 'SELEC 1' }),
    ]);
    expect(events).toEqual([expect.objectContaining({ id: '6736a1b2.1092:9', statement: 'SELEC 1', ok: false })]);
  });

  it('does not turn pgaudit AUDIT lines or connection messages into events', () => {
    const { events, skips } = decodeLines(pgJsonDecoder, [
      pgJsonLine({ line_num: 1, message: 'statement: CREATE TABLE x (a int)' }),
      pgJsonLine({ line_num: 2, message: 'AUDIT: SESSION,1,1,DDL,CREATE TABLE,,,CREATE TABLE x (a int),<not logged>' }),
      pgJsonLine({ line_num: 3, message: 'duration: 3.000 ms' }),
      pgJsonLine({ line_num: 4, message: 'disconnection: session time: 0:00:01.000 user=app database=appdb host=[local]' }),
    ]);
    expect(events).toHaveLength(1);
    expect(skips).toEqual(['pgaudit-record', 'not-a-statement']);
  });

  it('counts a statement that is followed by the next one without error as succeeded, and leaves the last one open', () => {
    const { events } = decodeLines(pgJsonDecoder, [
      pgJsonLine({ line_num: 1, message: 'statement: SET search_path TO app' }),
      pgJsonLine({ line_num: 2, message: 'statement: CREATE TABLE t (a int)' }),
    ]);
    expect(events.map((e) => [e.statement, e.ok])).toEqual([
      ['SET search_path TO app', true],
      ['CREATE TABLE t (a int)', null],
    ]);
  });

  it('reads PostgreSQL timestamps in UTC and with numeric offsets', () => {
    expect(parsePgTimestamp('2026-11-20 10:00:00.123 UTC')).toBe(Date.UTC(2026, 10, 20, 10, 0, 0, 123));
    expect(parsePgTimestamp('2026-11-20 12:00:00 +02')).toBe(Date.UTC(2026, 10, 20, 10));
    expect(parsePgTimestamp('2026-11-20 10:00:00 CET')).toBeNull();
  });
});
