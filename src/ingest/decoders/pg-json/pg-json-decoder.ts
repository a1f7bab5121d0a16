import type { Decoder, DecodeSink, LineParser } from '../../decoder.js';
import type { ObjectRef } from '../../source.js';
import { isBlank, parseJsonObjectLine, str } from '../json-line.js';
import { PgAssembler } from '../pg-common/pg-assembler.js';
import { newPgRecord } from '../pg-common/pg-record.js';
import { parsePgTime } from '../pg-common/pg-time.js';

function text(value: unknown): string | null {
  if (typeof value === 'number') return String(value);
  return str(value);
}

/**
 * PostgreSQL 15+ jsonlog: one JSON object per record. This reads the syntax only; the
 * statements are assembled from the records by PgAssembler, as for csvlog and stderr.
 */
export const pgJsonDecoder: Decoder = {
  format: 'pg-json',
  description: 'PostgreSQL jsonlog (log_destination=jsonlog, PostgreSQL 15+), with pgAudit lines',
  sniff: (line) => line.startsWith('{') && line.includes('"error_severity"') && line.includes('"message"'),
  open(object: ObjectRef, out: DecodeSink): LineParser {
    const assembler = new PgAssembler('pg-json', object, out);
    const rec = newPgRecord();
    return {
      line(line, lineNo) {
        if (isBlank(line)) return;
        const r = parseJsonObjectLine(line, lineNo, out);
        if (!r) return;
        const message = r.message;
        if (typeof message !== 'string') return out.reject(lineNo, 'malformed-line', 'record has no message', line);
        const severity = r.error_severity;
        if (typeof severity !== 'string') return out.reject(lineNo, 'malformed-line', 'record has no error_severity', line);
        const tsText = str(r.timestamp);
        const ts = tsText === null ? null : parsePgTime(tsText);
        if (ts === null) {
          return out.reject(lineNo, 'bad-timestamp', `unreadable timestamp ${JSON.stringify(r.timestamp ?? null)}`, line);
        }
        rec.line = lineNo;
        rec.raw = line;
        rec.ts = ts;
        rec.user = str(r.user);
        rec.database = str(r.dbname);
        rec.pid = text(r.pid);
        rec.sessionId = str(r.session_id);
        rec.lineNum = text(r.line_num);
        rec.severity = severity;
        rec.sqlState = str(r.state_code);
        rec.message = message;
        rec.detail = str(r.detail);
        rec.statement = str(r.statement);
        rec.applicationName = str(r.application_name);
        rec.remoteHost = str(r.remote_host);
        assembler.record(rec);
      },
      end() {
        assembler.end();
      },
    };
  },
};
