import type { BaseEvent } from '../../../core/audit-event.js';
import type { Decoder, DecodeSink, LineParser } from '../../decoder.js';
import type { ObjectRef } from '../../source.js';
import { isBlank, parseJsonObjectLine, str } from '../json-line.js';
import { parsePgTimestamp } from '../pg-timestamp.js';

const DURATION = /^duration: (\d+(?:\.\d+)?) ms(?: {2}(statement|execute[^:]*|parse[^:]*|bind[^:]*): ([\s\S]*))?$/;
const EXECUTE = /^execute[^:]*: ([\s\S]*)$/;

/** A statement logged at its start (log_statement), waiting for its duration or error. */
interface Pending {
  event: BaseEvent;
}

/**
 * PostgreSQL 15+ jsonlog. A statement comes either as one record at its end
 * (`duration: N ms  statement: …`, log_min_duration_statement alone) or as a
 * `statement: …` record at its start followed by `duration: N ms` in the same
 * session (log_statement too). A session runs one statement at a time, so one
 * pending statement per session is all the state this needs.
 */
export const pgJsonDecoder: Decoder = {
  format: 'pg-json',
  description: 'PostgreSQL jsonlog (log_destination=jsonlog, PostgreSQL 15+)',
  sniff: (line) => line.startsWith('{') && line.includes('"error_severity"') && line.includes('"message"'),
  open(object: ObjectRef, out: DecodeSink): LineParser {
    const pending = new Map<string, Pending>();

    const finish = (session: string, ok: boolean | null, patch: Partial<BaseEvent> = {}): void => {
      const p = pending.get(session);
      if (!p) return;
      pending.delete(session);
      out.event({ ...p.event, ok, ...patch });
    };

    return {
      line(text, lineNo) {
        if (isBlank(text)) return;
        const r = parseJsonObjectLine(text, lineNo, out);
        if (!r) return;
        const message = r.message;
        if (typeof message !== 'string') return out.reject(lineNo, 'malformed-line', 'record has no message', text);
        const tsText = str(r.timestamp);
        const ts = tsText === null ? null : parsePgTimestamp(tsText);
        if (ts === null) {
          return out.reject(lineNo, 'bad-timestamp', `unreadable timestamp ${JSON.stringify(r.timestamp ?? null)}`, text);
        }
        const session = str(r.session_id) ?? `${object.name}#pid${String(r.pid ?? '?')}`;
        const id = r.session_id ? `${session}:${String(r.line_num ?? lineNo)}` : `${object.name}:${lineNo}`;
        const base = (statement: string, start: number): BaseEvent => ({
          id,
          ts: start,
          end: null,
          durationMs: null,
          user: str(r.user),
          database: str(r.dbname),
          session,
          client: str(r.application_name) ?? str(r.remote_host),
          statement,
          ok: null,
          error: null,
          source: { format: 'pg-json', object: object.name, line: lineNo },
          ...(typeof r.detail === 'string' && r.detail.startsWith('parameters:') ? { extra: { parameters: r.detail } } : {}),
        });

        const severity = r.error_severity;
        if (severity === 'ERROR' || severity === 'FATAL' || severity === 'PANIC') {
          const failed = str(r.statement);
          if (failed === null) return out.skip('error-without-statement');
          const error = str(r.state_code) ? `${String(r.state_code)}: ${message}` : message;
          const p = pending.get(session);
          if (p && p.event.statement === failed) {
            return finish(session, false, { end: ts, durationMs: ts - p.event.ts, error });
          }
          // The failing statement was never logged at its start; an earlier pending one therefore succeeded.
          finish(session, true);
          return out.event({ ...base(failed, ts), ok: false, error });
        }

        if (message.startsWith('duration: ')) {
          const m = DURATION.exec(message);
          if (!m) return out.skip('unrecognised-duration');
          const durationMs = Number(m[1]);
          const verb = m[2];
          if (verb === undefined) {
            const p = pending.get(session);
            if (!p) return out.skip('duration-without-statement');
            return finish(session, true, { durationMs, end: p.event.ts + durationMs });
          }
          if (verb.startsWith('parse') || verb.startsWith('bind')) return out.skip('protocol-step');
          finish(session, true);
          return out.event({ ...base(m[3]!, ts - durationMs), end: ts, durationMs, ok: true });
        }

        let statement: string | null = null;
        if (message.startsWith('statement: ')) statement = message.slice(11);
        else if (message.startsWith('execute')) statement = EXECUTE.exec(message)?.[1] ?? null;
        if (statement !== null) {
          // A new statement in the session means the previous one completed without error.
          finish(session, true);
          pending.set(session, { event: base(statement, ts) });
          return;
        }
        if (message.startsWith('AUDIT: ')) return out.skip('pgaudit-record');
        out.skip('not-a-statement');
      },
      end() {
        // Statements still waiting at the end of the object: their outcome is not in this object.
        for (const session of [...pending.keys()]) finish(session, null);
      },
    };
  },
};
