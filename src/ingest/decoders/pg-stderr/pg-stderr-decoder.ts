import type { Decoder, DecodeSink, LineParser } from '../../decoder.js';
import type { ObjectRef } from '../../source.js';
import { PgAssembler } from '../pg-common/pg-assembler.js';
import { newPgRecord } from '../pg-common/pg-record.js';
import { parsePgTime } from '../pg-common/pg-time.js';
import {
  DEFAULT_PG_PREFIX,
  isSection,
  LogLinePrefix,
  PrefixMatch,
  V_APP,
  V_DATABASE,
  V_EPOCH,
  V_HOST,
  V_HOST_PORT,
  V_LINE,
  V_PID,
  V_SESSION,
  V_SQLSTATE,
  V_TIME,
  V_USER,
} from './log-line-prefix.js';

const compiled = new Map<string, LogLinePrefix>();

/** The compiled prefix, once per prefix per process. */
function prefixFor(source: string): LogLinePrefix {
  let p = compiled.get(source);
  if (!p) {
    p = LogLinePrefix.compile(source);
    compiled.set(source, p);
  }
  return p;
}

/**
 * A timestamp with its zone near the start of a line and a severity after it: the shape
 * of every usual `log_line_prefix` (`%m [%p] `, `%t [%p]: [%l-1] `, `%m|%u|%d|%c|`). Sniffing
 * has no --pg-prefix to go by, so a prefix without a leading time needs `--format pg-stderr`.
 */
const SNIFF =
  /^[^{"',]{0,40}?\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d{1,6})? (?:[A-Za-z]{1,5}|[+-]\d{2}(?::?\d{2})?)(?=[^,\w]).{0,400}?\b(?:LOG|ERROR|WARNING|NOTICE|INFO|DEBUG|FATAL|PANIC): {2}/;

const TAB = 9;
// What the lines after a record's first line add to.
const TO_MESSAGE = 0;
const TO_DETAIL = 1;
const TO_STATEMENT = 2;
const TO_NOTHING = 3;

function isBlankLine(text: string): boolean {
  if (text.length === 0) return true;
  const c = text.charCodeAt(0);
  if (c > 32 && c < 127) return false;
  return text.trim().length === 0;
}

/** `host(port)` of %r without the port. */
function hostOf(hostPort: string | null): string | null {
  if (hostPort === null) return null;
  const paren = hostPort.indexOf('(');
  return paren > 0 ? hostPort.slice(0, paren) : hostPort;
}

/**
 * PostgreSQL stderr logs (log_destination=stderr, usually through the logging collector),
 * read with the server's `log_line_prefix` (`--pg-prefix`, default `%m [%p] `). A record is
 * its first line, the lines after it that start with a TAB (a message or statement with
 * newlines), and the DETAIL/HINT/CONTEXT/STATEMENT... lines the server writes right after
 * it. Records go to PgAssembler, as for jsonlog and csvlog. Ids are `%c:%l` when the prefix
 * has both (note that stderr's `%l` also counts those DETAIL/STATEMENT lines, so it runs
 * ahead of csvlog's session_line_num), else `<object>:<line>`.
 */
export const pgStderrDecoder: Decoder = {
  format: 'pg-stderr',
  description: "PostgreSQL stderr log with its log_line_prefix (--pg-prefix, default '%m [%p] '), with pgAudit lines",
  sniff: (line) => SNIFF.test(line),
  open(object: ObjectRef, out: DecodeSink, options): LineParser {
    const prefix = prefixFor(options.pgPrefix ?? DEFAULT_PG_PREFIX);
    const assembler = new PgAssembler('pg-stderr', object, out);
    const m = new PrefixMatch();
    const rec = newPgRecord();
    /** A record is being read (its first line came, the next record's first line has not). */
    let open = false;
    /** The record being read was rejected: its following lines go with it. */
    let dropping = false;
    let target = TO_MESSAGE;

    const flush = (): void => {
      if (open) assembler.record(rec);
      open = false;
      dropping = false;
    };

    const append = (text: string): void => {
      if (target === TO_MESSAGE) rec.message += '\n' + text;
      else if (target === TO_DETAIL) rec.detail += '\n' + text;
      else if (target === TO_STATEMENT) rec.statement += '\n' + text;
    };

    return {
      line(text, lineNo) {
        if (text.charCodeAt(0) === TAB && (open || dropping)) {
          if (open) append(text.slice(1));
          return;
        }
        if (isBlankLine(text)) return;
        const severity = prefix.match(text, m);
        if (severity === null) {
          return out.reject(lineNo, 'malformed-line', `line does not start with log_line_prefix '${prefix.source}' and a severity`, text);
        }
        const body = m.severityAt + severity.length + 3;
        if (isSection(severity)) {
          if (dropping) return;
          if (!open) return out.reject(lineNo, 'malformed-line', `${severity} line without the record it belongs to`, text);
          if (severity === 'STATEMENT') {
            rec.statement = text.slice(body);
            target = TO_STATEMENT;
          } else if (severity === 'DETAIL') {
            rec.detail = text.slice(body);
            target = TO_DETAIL;
          } else {
            target = TO_NOTHING;
          }
          return;
        }
        flush();
        const epoch = m.get(text, V_EPOCH);
        let ts: number | null;
        if (m.start[V_TIME]! >= 0) ts = parsePgTime(text, m.start[V_TIME], m.end[V_TIME]!);
        else ts = epoch === null ? null : Number(epoch) * 1000;
        if (ts === null || !Number.isFinite(ts)) {
          dropping = true;
          const shown = epoch ?? text.slice(m.start[V_TIME], m.end[V_TIME]);
          return out.reject(lineNo, 'bad-timestamp', `unreadable timestamp ${JSON.stringify(shown)}`, text);
        }
        open = true;
        target = TO_MESSAGE;
        rec.line = lineNo;
        rec.raw = text;
        rec.ts = ts;
        rec.user = m.get(text, V_USER);
        rec.database = m.get(text, V_DATABASE);
        rec.pid = m.get(text, V_PID);
        rec.sessionId = m.get(text, V_SESSION);
        rec.lineNum = m.get(text, V_LINE);
        rec.severity = severity;
        rec.sqlState = m.get(text, V_SQLSTATE);
        rec.message = text.slice(body);
        rec.detail = null;
        rec.statement = null;
        rec.applicationName = m.get(text, V_APP);
        rec.remoteHost = m.get(text, V_HOST) ?? hostOf(m.get(text, V_HOST_PORT));
      },
      end() {
        flush();
        assembler.end();
      },
    };
  },
};
