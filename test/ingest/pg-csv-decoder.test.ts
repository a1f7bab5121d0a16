import { describe, expect, it } from 'vitest';
import { CSV_BAD, CSV_DONE, CSV_MORE, CsvRecordReader } from '../../src/ingest/decoders/pg-csv/csv-record.js';
import { pgCsvDecoder } from '../../src/ingest/decoders/pg-csv/pg-csv-decoder.js';
import { pgStderrDecoder } from '../../src/ingest/decoders/pg-stderr/pg-stderr-decoder.js';
import { csvlogLines, csvlogRecord } from '../formats/pg-csv/csvlog-line.js';
import { pgJsonLine } from '../helpers/temp-tree.js';
import { decodeLines } from './decoder-contract.js';

const at = (s: string) => `2026-11-20 10:00:${s} UTC`;
const T = (s: string) => Date.parse(`2026-11-20T10:00:${s}Z`);

function read(...lines: string[]): { results: number[]; fields: string[] } {
  const r = new CsvRecordReader(26);
  const results = lines.map((l, i) => (i === 0 ? r.begin(l) : r.continue(l)));
  return { results, fields: Array.from({ length: r.count }, (_, i) => r.field(i)) };
}

describe('CsvRecordReader', () => {
  it('splits a line into fields, quoted or not, empty ones included', () => {
    expect(read('a,"b,c",,"d ""e""",')).toEqual({ results: [CSV_DONE], fields: ['a', 'b,c', '', 'd "e"', ''] });
  });

  it('reads a quoted field that spans lines, doubled quotes and empty lines included', () => {
    expect(read('1,"first', '', 'sec""ond",3')).toEqual({ results: [CSV_MORE, CSV_MORE, CSV_DONE], fields: ['1', 'first\n\nsec"ond', '3'] });
    expect(read('1,"a""', 'b"')).toEqual({ results: [CSV_MORE, CSV_DONE], fields: ['1', 'a"\nb'] });
  });

  it('refuses text after a closing quote, a quote inside an unquoted field, and more fields than allowed', () => {
    const r = new CsvRecordReader(3);
    expect(r.begin('a,b"c,d')).toBe(CSV_BAD);
    expect(r.error).toBe('quote inside unquoted field 2');
    expect(r.begin('"a"b,c')).toBe(CSV_BAD);
    expect(r.error).toBe('unexpected character after the closing quote of field 1');
    expect(r.begin('a,b,c,d')).toBe(CSV_BAD);
    expect(r.error).toBe('more than 3 fields');
    expect(r.begin('a,b,c')).toBe(CSV_DONE);
  });
});

describe('PostgreSQL csvlog decoder', () => {
  it('reads a PostgreSQL 15 record into a statement with user, database, session, client and the id session_id:session_line_num', () => {
    const { events } = decodeLines(pgCsvDecoder, [
      csvlogRecord({ session_line_num: 7, log_time: at('05.000'), message: 'duration: 12.345 ms  statement: SELECT count(*) FROM t' }),
    ]);
    expect(events).toEqual([
      {
        id: '6736a1b2.1092:7',
        ts: T('05.000') - 12.345,
        end: T('05.000'),
        durationMs: 12.345,
        user: 'app',
        database: 'appdb',
        session: '6736a1b2.1092',
        client: 'psql',
        statement: 'SELECT count(*) FROM t',
        ok: true,
        error: null,
        source: { format: 'pg-csv', object: 'mem://ymd=2026-11-20/a.log', line: 1 },
      },
    ]);
  });

  it('reads a record whose message spans several lines as one record, at the line of its first line', () => {
    const { events, rejects } = decodeLines(
      pgCsvDecoder,
      csvlogLines(
        csvlogRecord({ session_line_num: 1, message: 'connection authorized: user=app' }),
        csvlogRecord({ session_line_num: 2, log_time: at('01.000'), message: 'statement: SELECT "a,b",\n\t\'x""y\'\n\nFROM t' }),
        csvlogRecord({ session_line_num: 3, log_time: at('01.500'), message: 'duration: 500.000 ms' }),
      ),
    );
    expect(rejects).toEqual([]);
    expect(events.map((e) => [e.id, e.source.line, e.statement, e.durationMs])).toEqual([['6736a1b2.1092:2', 2, 'SELECT "a,b",\n\t\'x""y\'\n\nFROM t', 500]]);
  });

  it('takes a failed statement from the query column of an ERROR record, with its SQLSTATE', () => {
    const { events } = decodeLines(pgCsvDecoder, [
      csvlogRecord({ session_line_num: 1, log_time: at('01.000'), message: 'statement: SELECT * FROM nope' }),
      csvlogRecord({
        session_line_num: 2,
        log_time: at('01.002'),
        error_severity: 'ERROR',
        sql_state_code: '42P01',
        message: 'relation "nope" does not exist',
        query: 'SELECT * FROM nope',
        query_pos: 15,
      }),
    ]);
    expect(events).toEqual([expect.objectContaining({ id: '6736a1b2.1092:1', ok: false, error: '42P01: relation "nope" does not exist', durationMs: 2 })]);
  });

  it('reads the 23 columns of PostgreSQL 12 and the 24 of 13, and names the client by host when there is no application_name', () => {
    const cut = (rec: string, n: number) => rec.split(',').slice(0, n).join(',');
    const { events, rejects } = decodeLines(pgCsvDecoder, [
      cut(csvlogRecord({ session_id: 'a.1', message: 'duration: 1.000 ms  statement: SELECT 12', application_name: null }), 23),
      cut(csvlogRecord({ session_id: 'a.2', message: 'duration: 1.000 ms  statement: SELECT 13' }), 24),
    ]);
    expect(rejects).toEqual([]);
    expect(events.map((e) => [e.statement, e.client])).toEqual([
      ['SELECT 12', '10.0.0.7'],
      ['SELECT 13', 'psql'],
    ]);
  });

  it('rejects records that are not csvlog, with the reason, and goes on with the next', () => {
    const good = csvlogRecord({ session_line_num: 9, message: 'duration: 1.000 ms  statement: SELECT 1' });
    const { events, rejects } = decodeLines(pgCsvDecoder, [
      `${good},27th`,
      good.replace('"duration', 'x"duration'),
      good.replace('"duration: 1.000 ms  statement: SELECT 1"', '"duration: 1.000 ms  statement: SELECT 1"!'),
      csvlogRecord({ error_severity: 'SHOUT' }),
      csvlogRecord({ log_time: '2026-11-20 10:00:00 CET' }),
      'a,b,c',
      good,
    ]);
    expect(rejects.map((r) => [r.line, r.reason, r.message])).toEqual([
      [1, 'malformed-line', 'not a csvlog record: more than 26 fields'],
      [2, 'malformed-line', 'not a csvlog record: quote inside unquoted field 14'],
      [3, 'malformed-line', 'not a csvlog record: unexpected character after the closing quote of field 14'],
      [4, 'malformed-line', 'unknown error_severity "SHOUT"'],
      [5, 'bad-timestamp', 'unreadable log_time "2026-11-20 10:00:00 CET"'],
      [6, 'malformed-line', '3 fields; a csvlog record has 23 to 26'],
    ]);
    expect(events.map((e) => e.source.line)).toEqual([7]);
  });

  it('rejects a record still inside a quoted field at the end of the object, from its first line', () => {
    const { events, rejects } = decodeLines(pgCsvDecoder, [
      csvlogRecord({ session_line_num: 1, message: 'duration: 1.000 ms  statement: SELECT 1' }),
      '2026-11-20 10:00:01.000 UTC,"app","appdb",4242,"10.0.0.7:51234",6736a1b2.1092,2,"idle",2026-11-20 09:59:58 UTC,3/42,0,LOG,00000,"statement: SELECT \'',
      'no closing quote',
    ]);
    expect(events).toHaveLength(1);
    expect(rejects).toEqual([{ line: 2, reason: 'malformed-line', message: 'record ends inside a quoted field (line 2 to the end of the object)' }]);
  });

  it('sniffs a csvlog first line, also one whose message goes on to the next line, and no other format', () => {
    const multi = csvlogRecord({ message: 'statement: SELECT\n1' }).split('\n')[0]!;
    expect(pgCsvDecoder.sniff(csvlogRecord({}))).toBe(true);
    expect(pgCsvDecoder.sniff(multi)).toBe(true);
    expect(pgCsvDecoder.sniff(csvlogRecord({ log_time: '2026-11-20 10:00:00.000' }))).toBe(false);
    expect(pgCsvDecoder.sniff(pgJsonLine({}))).toBe(false);
    expect(pgCsvDecoder.sniff('2026-11-20 10:00:00.000 UTC [42] LOG:  statement: SELECT 1, 2')).toBe(false);
    expect(pgCsvDecoder.sniff('id,ts,user,statement')).toBe(false);
    expect(pgStderrDecoder.sniff(csvlogRecord({ message: 'ERROR:  nested' }))).toBe(false);
  });
});
