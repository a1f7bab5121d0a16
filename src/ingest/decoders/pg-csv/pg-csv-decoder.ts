import type { Decoder, DecodeSink, LineParser } from '../../decoder.js';
import type { ObjectRef } from '../../source.js';
import { PgAssembler } from '../pg-common/pg-assembler.js';
import { isPgSeverity, newPgRecord } from '../pg-common/pg-record.js';
import { parsePgTime } from '../pg-common/pg-time.js';
import { CSV_BAD, CSV_DONE, CSV_MORE, CsvRecordReader } from './csv-record.js';

/**
 * csvlog columns, 0-based. PostgreSQL 9.0-12 write 23 columns, 13 adds backend_type,
 * 14 and later add leader_pid and query_id (26).
 */
const LOG_TIME = 0;
const USER_NAME = 1;
const DATABASE_NAME = 2;
const PROCESS_ID = 3;
const CONNECTION_FROM = 4;
const SESSION_ID = 5;
const SESSION_LINE_NUM = 6;
const ERROR_SEVERITY = 11;
const SQL_STATE_CODE = 12;
const MESSAGE = 13;
const DETAIL = 14;
const QUERY = 19;
const APPLICATION_NAME = 22;
const MIN_COLUMNS = 23;
const MAX_COLUMNS = 26;

/** A quoted field longer than this is taken for a stray quote that swallowed the rest of the object. */
const MAX_RECORD_CHARS = 64 * 1024 * 1024;

/** `host:port` of connection_from, without the port; `[local]` as it is. */
function hostOf(connectionFrom: string | null): string | null {
  if (connectionFrom === null) return null;
  const colon = connectionFrom.lastIndexOf(':');
  return colon > 0 ? connectionFrom.slice(0, colon) : connectionFrom;
}

function isBlankLine(text: string): boolean {
  if (text.length === 0) return true;
  const c = text.charCodeAt(0);
  if (c > 32 && c < 127) return false;
  return text.trim().length === 0;
}

/**
 * True when a line starts a csvlog record: a timestamp with its zone in the first column
 * and a severity in the twelfth, in 23 to 26 columns (or a record that goes on to the
 * next line inside its message).
 */
function sniffCsvlog(line: string): boolean {
  if (line.charCodeAt(0) < 48 || line.charCodeAt(0) > 57) return false;
  const reader = new CsvRecordReader(MAX_COLUMNS);
  const r = reader.begin(line);
  if (r === CSV_BAD) return false;
  if (r === CSV_DONE && reader.count < MIN_COLUMNS) return false;
  if (r === CSV_MORE && reader.count <= ERROR_SEVERITY) return false;
  return parsePgTime(reader.field(LOG_TIME), 0, undefined, true) !== null && isPgSeverity(reader.field(ERROR_SEVERITY));
}

/**
 * PostgreSQL csvlog (log_destination=csvlog). Reads the CSV (records spanning lines
 * included) into PgRecords; PgAssembler makes the statements, as for jsonlog and stderr.
 * A record split over lines is one record, at the line number of its first line; one
 * still open at the end of the object is rejected.
 */
export const pgCsvDecoder: Decoder = {
  format: 'pg-csv',
  description: 'PostgreSQL csvlog (log_destination=csvlog; 23 to 26 columns, PostgreSQL 9.0 to 17), with pgAudit lines',
  sniff: sniffCsvlog,
  open(object: ObjectRef, out: DecodeSink): LineParser {
    const assembler = new PgAssembler('pg-csv', object, out);
    const reader = new CsvRecordReader(MAX_COLUMNS);
    const rec = newPgRecord();
    let first = 0;
    let firstText = '';
    // The columns only an event needs, read while the reader still holds the record.
    rec.load = () => {
      rec.user = reader.interned(USER_NAME);
      rec.database = reader.interned(DATABASE_NAME);
      rec.lineNum = reader.opt(SESSION_LINE_NUM);
      rec.sqlState = reader.interned(SQL_STATE_CODE);
      rec.detail = reader.opt(DETAIL);
      rec.statement = reader.opt(QUERY);
      rec.applicationName = reader.interned(APPLICATION_NAME);
      // Only one of the two becomes the event's client.
      rec.remoteHost = rec.applicationName === null ? hostOf(reader.opt(CONNECTION_FROM)) : null;
    };

    const complete = (): void => {
      const n = reader.count;
      if (n < MIN_COLUMNS) {
        return out.reject(first, 'malformed-line', `${n} fields; a csvlog record has ${MIN_COLUMNS} to ${MAX_COLUMNS}`, firstText);
      }
      const at = reader.startOf(LOG_TIME);
      const ts = at >= 0 ? parsePgTime(reader.line, at, reader.endOf(LOG_TIME)) : parsePgTime(reader.field(LOG_TIME));
      if (ts === null) {
        return out.reject(first, 'bad-timestamp', `unreadable log_time ${JSON.stringify(reader.field(LOG_TIME))}`, firstText);
      }
      const severity = reader.interned(ERROR_SEVERITY) ?? '';
      if (!isPgSeverity(severity)) {
        return out.reject(first, 'malformed-line', `unknown error_severity ${JSON.stringify(severity)}`, firstText);
      }
      rec.line = first;
      rec.raw = firstText;
      rec.ts = ts;
      rec.sessionId = reader.interned(SESSION_ID);
      // The pid only keys sessions when there is no session id.
      rec.pid = rec.sessionId === null ? reader.opt(PROCESS_ID) : null;
      rec.severity = severity;
      rec.message = reader.field(MESSAGE);
      assembler.record(rec);
    };

    return {
      line(text, lineNo) {
        let r;
        if (reader.open) {
          r = reader.continue(text);
          if (r === CSV_MORE && reader.chars > MAX_RECORD_CHARS) {
            reader.begin('');
            return out.reject(first, 'malformed-line', `quoted field runs past ${MAX_RECORD_CHARS} characters (a stray quote?)`, firstText);
          }
        } else {
          if (isBlankLine(text)) return;
          first = lineNo;
          firstText = text;
          r = reader.begin(text);
        }
        if (r === CSV_MORE) return;
        if (r === CSV_BAD) return out.reject(first, 'malformed-line', `not a csvlog record: ${reader.error}`, firstText);
        complete();
      },
      end() {
        if (reader.open) {
          out.reject(first, 'malformed-line', `record ends inside a quoted field (line ${first} to the end of the object)`, firstText);
          reader.begin('');
        }
        assembler.end();
      },
    };
  },
};
