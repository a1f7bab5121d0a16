import type { BaseEvent } from '../../../core/audit-event.js';
import type { Decoder, DecodeSink, LineParser } from '../../decoder.js';
import type { ObjectRef } from '../../source.js';
import { jsonRecordParser, str } from '../json-line.js';

const REQUEST_TIME = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?/;

/**
 * Okera's audit log: one JSON object per line with `request_id`, `request_time` (GMT,
 * ns digits), `start_unix_time`/`end_unix_time` (epoch ms), `status` ("ok" or the error).
 * A request may be written twice, at start (no end time, no status) and at end; both
 * records carry the same id and start time, so extract folds them into one event.
 */
export const okeraDecoder: Decoder = {
  format: 'okera',
  description: 'Okera audit log (JSON lines with request_id, statement, start/end_unix_time)',
  sniff: (line) => line.startsWith('{') && line.includes('"request_id"') && line.includes('"statement"'),
  open(object: ObjectRef, out: DecodeSink): LineParser {
    return jsonRecordParser(out, (r, text, lineNo) => {
        const id = str(r.request_id);
        if (id === null) return out.reject(lineNo, 'malformed-line', 'record has no request_id', text);
        if (typeof r.statement !== 'string') return out.reject(lineNo, 'malformed-line', 'record has no statement', text);
        const start = typeof r.start_unix_time === 'number' ? r.start_unix_time : null;
        const ts = startTime(str(r.request_time), start);
        if (ts === null) {
          return out.reject(lineNo, 'bad-timestamp', 'record has neither a readable request_time nor start_unix_time', text);
        }
        const end = typeof r.end_unix_time === 'number' && r.end_unix_time > 0 ? r.end_unix_time : null;
        const status = typeof r.status === 'string' ? r.status : null;
        const ok = status === null ? (r.auth_failure === true ? false : null) : status.toLowerCase() === 'ok';
        const event: BaseEvent = {
          id,
          ts,
          end,
          durationMs: end !== null && start !== null ? end - start : null,
          user: str(r.user),
          database: str(r.default_db),
          session: str(r.session_id),
          client: str(r.client_application),
          statement: r.statement,
          ok,
          error: ok === false ? (status ?? 'authorization failure') : null,
          source: { format: 'okera', object: object.name, line: lineNo },
          extra: extraFields(r),
        };
        out.event(event);
    });
  },
};

/**
 * request_time keeps sub-millisecond digits that start_unix_time lacks, so it wins when
 * the two agree; when they disagree the integer field is the one Okera computes from.
 */
function startTime(requestTime: string | null, startUnix: number | null): number | null {
  const parsed = requestTime === null ? null : parseRequestTime(requestTime);
  if (parsed !== null && (startUnix === null || Math.abs(parsed - startUnix) < 1)) return parsed;
  return startUnix ?? parsed;
}

let lastSecond = '';
let lastBase = 0;

/** Reads `2018-09-05 16:19:01.628368000` (GMT) into epoch ms with the fraction kept. */
export function parseRequestTime(text: string): number | null {
  // Neighbouring records mostly share their second: reuse its parse.
  if (lastSecond !== '' && text.startsWith(lastSecond)) {
    if (text.length === 19) return lastBase;
    if (text.charCodeAt(19) === 46 && text.length <= 29 && allDigits(text, 20)) return lastBase + Number(`0.${text.slice(20)}`) * 1000;
  }
  const m = REQUEST_TIME.exec(text);
  if (!m) return null;
  const base = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  if (Number.isNaN(base)) return null;
  lastSecond = text.slice(0, 19);
  lastBase = base;
  const frac = m[7] ? Number(`0.${m[7]}`) * 1000 : 0;
  return base + frac;
}

const EXTRA_KEYS = ['connected_user', 'statement_type', 'ae_database', 'ae_table', 'ae_view', 'ae_role', 'auth_failure'];

function extraFields(r: Record<string, unknown>): Record<string, unknown> | undefined {
  let extra: Record<string, unknown> | undefined;
  for (const k of EXTRA_KEYS) {
    const v = r[k];
    if (v !== undefined && v !== null && v !== '' && v !== false) (extra ??= {})[k] = v;
  }
  return extra;
}

function allDigits(text: string, from: number): boolean {
  if (from >= text.length) return false;
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}
