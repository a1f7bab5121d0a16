import type { BaseEvent, RejectReason } from '../../../core/audit-event.js';
import type { Decoder, DecoderOptions, DecodeSink, LineParser } from '../../decoder.js';
import { newIngestStats } from '../../ingest-stats.js';
import { readObjectLines } from '../../read-object-lines.js';
import type { ObjectRef, Source } from '../../source.js';
import { isBlank } from '../json-line.js';
import { isValidDateTime } from '../trino/iso-time.js';
import { ConnectionIndex, looksLikeConnectionLog, parseConnectionLogLine, parseUserLogLine, type ConnectionLogRecord } from './connection-log.js';
import { objectIdPart, redshiftLogName } from './log-name.js';

const FORMAT = 'redshift';
const HEADER_DB = ' [ db=';
const HEADER_END = " ]' LOG: ";
const MAX_RAW = 64 * 1024;

/** connectionlog objects read at once by `prepare`. */
const PREPARE_CONCURRENCY = 4;

/**
 * Redshift's audit logs. The useractivitylog holds one record per statement, logged
 * before it runs: `'2026-11-20T01:02:03Z UTC [ db=dev user=etl pid=123 userid=100
 * xid=456 ]' LOG: <query>`, the query going on over every following line that does not
 * start a record. It has no query id (the id is `<file>:<line>`, see objectIdPart), no duration and no
 * outcome (ok is null). The connectionlog of the same window, when present, gives each
 * record its session, client application and remote host: `prepare` reads it once and
 * records are joined by cluster, pid and time. connectionlog and userlog objects are
 * recognised too and their lines skipped and counted, so a whole `AWSLogs/` folder
 * decodes without rejects.
 */
export const redshiftDecoder: Decoder = {
  format: FORMAT,
  description: 'Amazon Redshift audit logs (useractivitylog, joined with its connectionlog; userlog skipped)',
  sniff: (line) => isRecordHeader(line) || looksLikeConnectionLog(line) || parseUserLogLine(line) === 'ok',
  open(object: ObjectRef, out: DecodeSink, options: DecoderOptions): LineParser {
    const prepared = options.prepared?.get(FORMAT);
    const connections = prepared instanceof ConnectionIndex ? prepared : null;
    let parser: LineParser | null = null;
    return {
      line(text, lineNo) {
        if (parser === null) {
          if (isBlank(text)) return;
          parser = parserFor(text, object, out, connections);
        }
        parser.line(text, lineNo);
      },
      end() {
        parser?.end();
      },
    };
  },
  async prepare(source: Source, objects: readonly ObjectRef[], _options: DecoderOptions, signal?: AbortSignal): Promise<ConnectionIndex | null> {
    const logs = objects.filter((o) => redshiftLogName(o.key).kind === 'connectionlog');
    if (logs.length === 0) return null;
    // Objects are read a few at a time but added in listing order, so records of one pid stay in file order.
    const perObject: { cluster: string; records: ConnectionLogRecord[] }[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < logs.length) {
        const i = next++;
        const object = logs[i]!;
        const records: ConnectionLogRecord[] = [];
        // Problems are reported when the object itself is decoded; here they only end the read.
        for await (const batch of readObjectLines(source, object, newIngestStats(), () => {}, signal)) {
          for (const text of batch.lines) {
            if (text === null || text === undefined) continue;
            const r = parseConnectionLogLine(text);
            if (r !== null && r !== 'bad-timestamp') records.push(r);
          }
        }
        perObject[i] = { cluster: redshiftLogName(object.key).cluster, records };
      }
    };
    await Promise.all(Array.from({ length: Math.min(PREPARE_CONCURRENCY, logs.length) }, worker));
    const index = new ConnectionIndex();
    for (const o of perObject) for (const r of o.records) index.add(o.cluster, r);
    return index.build();
  },
};

/** Which of the three logs an object holds: by its first line, else by its name. */
function parserFor(first: string, object: ObjectRef, out: DecodeSink, connections: ConnectionIndex | null): LineParser {
  if (isRecordHeader(first)) return activityParser(object, out, connections);
  if (looksLikeConnectionLog(first)) return companionParser(out, 'connectionlog');
  if (parseUserLogLine(first) === 'ok') return companionParser(out, 'userlog');
  const kind = redshiftLogName(object.key).kind;
  if (kind === 'connectionlog' || kind === 'userlog') return companionParser(out, kind);
  return activityParser(object, out, connections);
}

/**
 * A line that starts a useractivitylog record. The test is structural (quote, `[ db=`,
 * `]' LOG: `) so that a record with a bad timestamp is still recognised, and rejected,
 * as a record rather than taken for the previous query's text.
 */
export function isRecordHeader(text: string): boolean {
  if (text.charCodeAt(0) !== 39) return false;
  const db = text.indexOf(HEADER_DB);
  return db > 1 && text.indexOf(HEADER_END, db) > db;
}

interface Header {
  ts: number;
  database: string;
  user: string;
  pid: number;
  userid: number;
  /** Kept as text: a 64-bit transaction id can exceed what a number holds exactly. */
  xid: string;
  /** Where the query starts on the header line. */
  queryAt: number;
}

const DIGITS = /^\d+$/;
const RECORD_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?Z(?: UTC)?$/;
let lastTimeText = '';
let lastTime = 0;

/** Reads the header's `2026-11-20T01:02:03Z UTC`; records of one second share the parse. */
export function parseActivityTime(text: string): number | null {
  if (text === lastTimeText) return lastTime;
  const m = RECORD_TIME.exec(text);
  if (!m) return null;
  if (!isValidDateTime(+m[1]!, +m[2]!, +m[3]!, +m[4]!, +m[5]!, +m[6]!)) return null;
  let ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  if (m[7]) ms += Number(`0.${m[7]}`) * 1000;
  lastTimeText = text;
  lastTime = ms;
  return ms;
}

/** Parses a record header, or says why it cannot be read. */
function parseHeader(text: string): Header | { reason: RejectReason; message: string } {
  const db = text.indexOf(HEADER_DB);
  const end = text.indexOf(HEADER_END, db);
  const tsText = text.slice(1, db);
  const ts = parseActivityTime(tsText);
  if (ts === null) return { reason: 'bad-timestamp', message: `unreadable record time ${JSON.stringify(tsText)}` };
  // The fields come in a fixed order; names may hold spaces, so each runs to the next label.
  const user = text.indexOf(' user=', db);
  const pid = user < 0 ? -1 : text.indexOf(' pid=', user);
  const userid = pid < 0 ? -1 : text.indexOf(' userid=', pid);
  const xid = userid < 0 ? -1 : text.indexOf(' xid=', userid);
  if (xid < 0 || xid > end) {
    return { reason: 'malformed-line', message: 'record header lacks one of db=, user=, pid=, userid=, xid=' };
  }
  const pidText = text.slice(pid + 5, userid);
  const useridText = text.slice(userid + 8, xid);
  if (!DIGITS.test(pidText) || !DIGITS.test(useridText)) {
    return { reason: 'malformed-line', message: `record header has a non-numeric pid or userid (${JSON.stringify(pidText)}, ${JSON.stringify(useridText)})` };
  }
  return {
    ts,
    database: text.slice(db + HEADER_DB.length, user),
    user: text.slice(user + 6, pid),
    pid: Number(pidText),
    userid: Number(useridText),
    xid: text.slice(xid + 5, end),
    queryAt: end + HEADER_END.length,
  };
}

/** The record being read: its header and the query's lines so far. */
interface Pending {
  line: number;
  header: Header | null;
  /** Why the record is rejected, once its last line is known. */
  problem: { reason: RejectReason; message: string } | null;
  first: string;
  more: string[] | null;
}

function activityParser(object: ObjectRef, out: DecodeSink, connections: ConnectionIndex | null): LineParser {
  const idPart = objectIdPart(object);
  const cluster = redshiftLogName(object.key).cluster;
  let pending: Pending | null = null;
  // Lines before the first record header belong to no record: one reject covers the run.
  let orphanLine = 0;
  let orphan: string[] = [];

  const flushOrphans = (): void => {
    if (orphan.length === 0) return;
    const n = orphan.length;
    out.reject(orphanLine, 'malformed-line', `${n} line${n === 1 ? '' : 's'} before any record header: not a Redshift useractivitylog record`, cap(orphan.join('\n')));
    orphan = [];
  };

  const flush = (): void => {
    const p = pending;
    if (p === null) return;
    pending = null;
    const statement = trimEnd(p.more === null ? p.first : `${p.first}\n${p.more.join('\n')}`);
    if (p.problem !== null || p.header === null) {
      const raw = p.more === null ? p.first : `${p.first}\n${p.more.join('\n')}`;
      out.reject(p.line, p.problem?.reason ?? 'malformed-line', p.problem?.message ?? 'unreadable record', cap(raw));
      return;
    }
    const h = p.header;
    const query = statement.slice(h.queryAt);
    if (query.trim() === '') {
      out.reject(p.line, 'malformed-line', 'record has no query text', cap(statement));
      return;
    }
    const conn = connections?.info(cluster, h.pid, h.ts, h.user, h.database) ?? null;
    const extra: Record<string, unknown> = { pid: h.pid, userid: h.userid, xid: h.xid };
    if (conn) {
      if (conn.remoteHost !== null) extra.remoteHost = conn.remoteHost;
      if (conn.remotePort !== null) extra.remotePort = conn.remotePort;
      if (conn.applicationName !== null) extra.applicationName = conn.applicationName;
      if (conn.driverVersion !== null) extra.driverVersion = conn.driverVersion;
    }
    const event: BaseEvent = {
      id: `${idPart}:${p.line}`,
      ts: h.ts,
      end: null,
      durationMs: null,
      user: h.user === '' ? null : h.user,
      database: h.database === '' ? null : h.database,
      session: conn?.session ?? String(h.pid),
      client: conn?.client ?? null,
      statement: query,
      ok: null,
      error: null,
      source: { format: FORMAT, object: object.name, line: p.line },
      extra,
    };
    out.event(event);
  };

  return {
    line(text, lineNo) {
      if (isRecordHeader(text)) {
        flush();
        flushOrphans();
        const h = parseHeader(text);
        pending = 'reason' in h ? { line: lineNo, header: null, problem: h, first: text, more: null } : { line: lineNo, header: h, problem: null, first: text, more: null };
        return;
      }
      if (pending !== null) {
        (pending.more ??= []).push(text);
        return;
      }
      if (orphan.length === 0) {
        if (isBlank(text)) return;
        orphanLine = lineNo;
      }
      orphan.push(text);
    },
    end() {
      flush();
      flushOrphans();
    },
  };
}

/** connectionlog and userlog objects: each line checked, then skipped and counted. */
function companionParser(out: DecodeSink, kind: 'connectionlog' | 'userlog'): LineParser {
  const reason = `redshift-${kind}`;
  return {
    line(text, lineNo) {
      if (isBlank(text)) return;
      const r = kind === 'connectionlog' ? parseConnectionLogLine(text) : parseUserLogLine(text);
      if (r === null) return out.reject(lineNo, 'malformed-line', `not a Redshift ${kind} line`, text);
      if (r === 'bad-timestamp') return out.reject(lineNo, 'bad-timestamp', `unreadable recordtime in a Redshift ${kind} line`, text);
      out.skip(reason);
    },
    end() {},
  };
}

function trimEnd(text: string): string {
  let end = text.length;
  while (end > 0) {
    const c = text.charCodeAt(end - 1);
    if (c !== 10 && c !== 13 && c !== 32 && c !== 9) break;
    end--;
  }
  return end === text.length ? text : text.slice(0, end);
}

function cap(text: string): string {
  return text.length > MAX_RAW ? text.slice(0, MAX_RAW) : text;
}
