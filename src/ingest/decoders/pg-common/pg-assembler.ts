import type { BaseEvent } from '../../../core/audit-event.js';
import type { DecodeSink } from '../../decoder.js';
import type { ObjectRef } from '../../source.js';
import type { PgRecord } from './pg-record.js';
import { parsePgAudit, type PgAuditLine } from './pgaudit.js';

/** What opened a pending statement: its own record (log_statement), or a pgAudit line. */
const FROM_STATEMENT = 0;
const FROM_AUDIT = 1;

/** A statement seen at its start, waiting for its duration or error in the same session. */
interface Pending {
  event: BaseEvent;
  from: typeof FROM_STATEMENT | typeof FROM_AUDIT;
  /** pgAudit's statement id folded into it, or -1. */
  auditId: number;
}

// What readDuration read; module state so a record costs no allocation.
let durationMs = 0;
/** Where `verb: text` begins after the duration, or -1 for a bare `duration: N ms`. */
let verbAt = -1;

/**
 * Reads `duration: 1.234 ms[  verb: text]` by hand: it is half of all records when
 * log_statement and log_min_duration_statement are both on. False when it is not that shape.
 */
function readDuration(message: string): boolean {
  const len = message.length;
  let i = 10;
  let whole = 0;
  let scale = 1;
  let digits = 0;
  for (; i < len; i++) {
    const d = message.charCodeAt(i) - 48;
    if (d < 0 || d > 9) break;
    whole = whole * 10 + d;
    digits++;
  }
  if (i < len && message.charCodeAt(i) === 46) {
    for (i++; i < len; i++) {
      const d = message.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
      whole = whole * 10 + d;
      scale *= 10;
      digits++;
    }
  }
  if (digits === 0 || digits > 15 || !message.startsWith(' ms', i)) return false;
  // An integer over a power of ten divides exactly as Number() would read the decimal.
  durationMs = whole / scale;
  i += 3;
  if (i === len) {
    verbAt = -1;
    return true;
  }
  if (message.charCodeAt(i) !== 32 || message.charCodeAt(i + 1) !== 32) return false;
  verbAt = i + 2;
  return true;
}

/** The text after `execute <name>: `, or null. */
function executeText(message: string): string | null {
  const colon = message.indexOf(': ', 7);
  return colon < 0 ? null : message.slice(colon + 2);
}

function annotate(event: BaseEvent, audit: PgAuditLine): void {
  const extra = (event.extra ??= {});
  if (extra.pgauditClass === undefined) extra.pgauditClass = audit.className;
  if (audit.objectName !== '') {
    const name = audit.objectType === '' ? audit.objectName : `${audit.objectType} ${audit.objectName}`;
    const objects = (extra.pgauditObjects ??= []) as string[];
    if (!objects.includes(name)) objects.push(name);
  }
}

function copyAudit(from: BaseEvent, to: BaseEvent): void {
  const extra = from.extra;
  if (extra?.pgauditClass === undefined) return;
  to.extra = { ...to.extra, pgauditClass: extra.pgauditClass, ...(extra.pgauditObjects ? { pgauditObjects: extra.pgauditObjects } : {}) };
}

/**
 * Turns the records of one PostgreSQL log object into statements, whatever the log
 * destination (jsonlog, csvlog, stderr): the format parsers only read their syntax into
 * a PgRecord and feed it here.
 *
 * A statement comes as one record at its end (`duration: N ms  statement: …`,
 * log_min_duration_statement alone), or as a `statement:`/`execute …:` record at its
 * start (log_statement) completed by a bare `duration: N ms` or an ERROR of the same
 * session. A session runs one statement at a time, so one pending statement per session
 * is all the state this needs; a new statement in a session means the previous one
 * completed without error.
 *
 * pgAudit `AUDIT:` lines: every line of one statement (substatements, OBJECT duplicates)
 * shares a statement id and is folded into one statement, whose class is kept as
 * `extra.pgauditClass` (and object names as `extra.pgauditObjects`). When the statement
 * has its own record too (log_statement, or a duration record carrying its text), the
 * AUDIT lines only annotate it; when they are all the log has (log_statement=none, no
 * durations), the first line of each statement id is the statement, completed by the
 * next statement, an ERROR or the session's disconnection. pgAudit records no duration
 * and no status: both come from the session's duration and ERROR records where there are any.
 *
 * Ids are `<session_id>:<line_num>` when the record has both, else `<object>:<line>`.
 */
export class PgAssembler {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly format: string,
    private readonly object: ObjectRef,
    private readonly out: DecodeSink,
  ) {}

  /** Takes one record; the record object may be reused by the caller afterwards. */
  record(r: PgRecord): void {
    const session = r.sessionId ?? (r.pid !== null ? `${this.object.name}#pid${r.pid}` : null);
    const key = session ?? '';
    const severity = r.severity;
    if (severity === 'ERROR' || severity === 'FATAL' || severity === 'PANIC') return this.error(r, key, session);
    const message = r.message;
    switch (message.charCodeAt(0)) {
      case 100: // d
        if (message.startsWith('duration: ')) return this.duration(r, key, session);
        if (message.startsWith('disconnection: ')) {
          // The session ended, so its last statement completed.
          const p = this.pending.get(key);
          if (p) this.finish(key, p, true);
        }
        break;
      case 115: // s
        if (message.startsWith('statement: ')) return this.statement(r, key, session, message.slice(11));
        break;
      case 101: // e
        if (message.startsWith('execute')) {
          const text = executeText(message);
          if (text !== null) return this.statement(r, key, session, text);
        }
        break;
      case 65: // A
        if (message.startsWith('AUDIT: ')) return this.audit(r, key, session);
        break;
    }
    this.out.skip('not-a-statement');
  }

  /** The object ended: statements still waiting have no outcome in this object. */
  end(): void {
    for (const [key, p] of [...this.pending]) this.finish(key, p, null);
  }

  private event(r: PgRecord, statement: string, ts: number, session: string | null): BaseEvent {
    r.load();
    const e: BaseEvent = {
      id: r.sessionId !== null && r.lineNum !== null ? `${r.sessionId}:${r.lineNum}` : `${this.object.name}:${r.line}`,
      ts,
      end: null,
      durationMs: null,
      user: r.user,
      database: r.database,
      session,
      client: r.applicationName ?? r.remoteHost,
      statement,
      ok: null,
      error: null,
      source: { format: this.format, object: this.object.name, line: r.line },
    };
    if (r.detail !== null && r.detail.startsWith('parameters:')) e.extra = { parameters: r.detail };
    return e;
  }

  private finish(key: string, p: Pending, ok: boolean | null): void {
    this.pending.delete(key);
    p.event.ok = ok;
    this.out.event(p.event);
  }

  private statement(r: PgRecord, key: string, session: string | null, text: string): void {
    const p = this.pending.get(key);
    const e = this.event(r, text, r.ts, session);
    if (p !== undefined) {
      if (p.from === FROM_AUDIT && p.event.statement === text) {
        // pgAudit logged it first (the extended protocol starts the executor at Bind): the record is the statement.
        copyAudit(p.event, e);
        this.pending.set(key, { event: e, from: FROM_STATEMENT, auditId: p.auditId });
        return;
      }
      this.finish(key, p, true);
    }
    this.pending.set(key, { event: e, from: FROM_STATEMENT, auditId: -1 });
  }

  private duration(r: PgRecord, key: string, session: string | null): void {
    const message = r.message;
    if (!readDuration(message)) return this.out.skip('unrecognised-duration');
    const ms = durationMs;
    const p = this.pending.get(key);
    if (verbAt < 0) {
      if (p === undefined) return this.out.skip('duration-without-statement');
      const e = p.event;
      e.durationMs = ms;
      if (p.from === FROM_AUDIT) {
        // A pgAudit line is written while the statement runs, not at its start: the end is the better anchor.
        e.ts = r.ts - ms;
        e.end = r.ts;
      } else {
        e.end = e.ts + ms;
      }
      return this.finish(key, p, true);
    }
    let text: string;
    if (message.startsWith('statement: ', verbAt)) {
      text = message.slice(verbAt + 11);
    } else if (message.startsWith('execute', verbAt)) {
      const colon = message.indexOf(': ', verbAt);
      if (colon < 0) return this.out.skip('unrecognised-duration');
      text = message.slice(colon + 2);
    } else if (message.startsWith('parse', verbAt) || message.startsWith('bind', verbAt)) {
      return this.out.skip('protocol-step');
    } else {
      return this.out.skip('unrecognised-duration');
    }
    if (p !== undefined && p.from === FROM_STATEMENT && p.event.statement === text) {
      p.event.durationMs = ms;
      p.event.end = p.event.ts + ms;
      return this.finish(key, p, true);
    }
    const e = this.event(r, text, r.ts - ms, session);
    e.end = r.ts;
    e.durationMs = ms;
    e.ok = true;
    if (p !== undefined) {
      if (p.from === FROM_AUDIT && p.event.statement === text) {
        // log_statement=none: the AUDIT lines only add their class to the duration record.
        copyAudit(p.event, e);
        this.pending.delete(key);
      } else {
        this.finish(key, p, true);
      }
    }
    this.out.event(e);
  }

  private error(r: PgRecord, key: string, session: string | null): void {
    r.load();
    const failed = r.statement;
    if (failed === null) return this.out.skip('error-without-statement');
    const error = r.sqlState !== null ? `${r.sqlState}: ${r.message}` : r.message;
    const p = this.pending.get(key);
    if (p !== undefined) {
      if (p.event.statement === failed) {
        p.event.end = r.ts;
        p.event.durationMs = r.ts - p.event.ts;
        p.event.error = error;
        return this.finish(key, p, false);
      }
      // The failing statement was never logged at its start; the pending one therefore succeeded.
      this.finish(key, p, true);
    }
    const e = this.event(r, failed, r.ts, session);
    e.ok = false;
    e.error = error;
    this.out.event(e);
  }

  private audit(r: PgRecord, key: string, session: string | null): void {
    const a = parsePgAudit(r.message);
    if (a === null) return this.out.reject(r.line, 'malformed-line', 'unreadable pgaudit AUDIT record', r.raw);
    const p = this.pending.get(key);
    if (p !== undefined) {
      // Another line of a statement already seen (a substatement or an OBJECT duplicate),
      // or the first line of the statement a log_statement record opened; a multi-statement
      // string gives several statement ids with its whole text, all folded into its one record.
      if (p.auditId === a.statementId || (p.from === FROM_STATEMENT && p.event.statement === a.statement)) {
        p.auditId = a.statementId;
        annotate(p.event, a);
        return this.out.skip('pgaudit-record');
      }
      this.finish(key, p, true);
    }
    if (a.statement === '') return this.out.skip('pgaudit-record');
    const e = this.event(r, a.statement, r.ts, session);
    annotate(e, a);
    this.pending.set(key, { event: e, from: FROM_AUDIT, auditId: a.statementId });
  }
}
