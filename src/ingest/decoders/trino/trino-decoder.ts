import type { BaseEvent } from '../../../core/audit-event.js';
import type { Decoder, DecodeSink, LineParser } from '../../decoder.js';
import type { ObjectRef } from '../../source.js';
import { jsonRecordParser, str } from '../json-line.js';
import { parseInstant } from './iso-time.js';
import { parseTrinoDuration } from './trino-duration.js';

const FORMAT = 'trino';

/**
 * Trino's QueryCompletedEvent, one JSON object per line, as the HTTP event listener
 * posts it (the bare event) or the Kafka event listener publishes it (wrapped as
 * `{"eventPayload": <event>, "eventMetadata": {...}}`). The id is `metadata.queryId`;
 * `ts` is `createTime` (when the client submitted the query), `end` is `endTime`;
 * `metadata.queryState` FINISHED or FAILED gives ok, and `failureInfo` the error. The
 * database is `catalog.schema` of the query's context. QueryCreatedEvents (no end, no
 * statistics) and SplitCompletedEvents are skipped and counted.
 */
export const trinoDecoder: Decoder = {
  format: FORMAT,
  description: 'Trino QueryCompletedEvent JSON lines (HTTP or Kafka event listener)',
  sniff: (line) => line.startsWith('{') && line.includes('"queryId"') && line.includes('"createTime"'),
  open(object: ObjectRef, out: DecodeSink): LineParser {
    return jsonRecordParser(out, (r, text, lineNo) => {
        const payload = obj(r.eventPayload);
        const e = payload ?? r;
        const metadata = obj(e.metadata);
        if (metadata === null) {
          if (typeof e.queryId === 'string' && e.stageId !== undefined && e.taskId !== undefined) return out.skip('trino-split-completed');
          return out.reject(lineNo, 'malformed-line', 'not a Trino query event: no metadata object', text);
        }
        const id = str(metadata.queryId);
        if (id === null) return out.reject(lineNo, 'malformed-line', 'Trino query event has no metadata.queryId', text);
        if (e.endTime === undefined && e.statistics === undefined) return out.skip('trino-query-created');
        if (typeof metadata.query !== 'string') {
          return out.reject(lineNo, 'malformed-line', `query ${id} has no metadata.query (is "query" in the listener's excluded fields?)`, text);
        }
        const ts = parseInstant(e.createTime);
        if (ts === null) return out.reject(lineNo, 'bad-timestamp', `unreadable createTime ${JSON.stringify(e.createTime ?? null)}`, text);
        const end = e.endTime === undefined || e.endTime === null ? null : parseInstant(e.endTime);
        if (end === null && e.endTime !== undefined && e.endTime !== null) {
          return out.reject(lineNo, 'bad-timestamp', `unreadable endTime ${JSON.stringify(e.endTime)}`, text);
        }
        const context = obj(e.context) ?? {};
        const failure = obj(e.failureInfo);
        const state = str(metadata.queryState);
        const ok = state === 'FINISHED' ? true : state === 'FAILED' || failure !== null ? false : null;
        const catalog = str(context.catalog);
        const schema = str(context.schema);
        const event: BaseEvent = {
          id,
          ts,
          end,
          durationMs: end === null ? null : end - ts,
          user: str(context.user),
          database: catalog !== null && schema !== null ? `${catalog}.${schema}` : catalog,
          session: null,
          client: str(context.source) ?? str(context.userAgent),
          statement: metadata.query,
          ok,
          error: ok === false ? failureText(failure, state) : null,
          source: { format: FORMAT, object: object.name, line: lineNo },
        };
        const extra = extraFields(e, metadata, context, failure, payload !== null ? obj(r.eventMetadata) : null);
        if (extra) event.extra = extra;
        out.event(event);
    });
  },
};

/** `SYNTAX_ERROR: line 1:8: mismatched input ...`, from the parts failureInfo has. */
function failureText(failure: Record<string, unknown> | null, state: string | null): string {
  const code = failure === null ? null : errorCodeName(failure.errorCode);
  const message = failure === null ? null : (str(failure.failureMessage) ?? str(failure.failureType));
  if (code !== null && message !== null) return `${code}: ${message}`;
  return message ?? code ?? `query ${state ?? 'failed'}`;
}

/** errorCode is `{code, name, type}` in the SPI's JSON; some listeners flatten it to its name. */
function errorCodeName(value: unknown): string | null {
  if (typeof value === 'string') return str(value);
  const o = obj(value);
  return o === null ? null : str(o.name);
}

function extraFields(
  e: Record<string, unknown>,
  metadata: Record<string, unknown>,
  context: Record<string, unknown>,
  failure: Record<string, unknown> | null,
  envelope: Record<string, unknown> | null,
): Record<string, unknown> | undefined {
  const extra: Record<string, unknown> = {};
  const put = (key: string, value: unknown): void => {
    if (value === undefined || value === null || value === '') return;
    if (Array.isArray(value) && value.length === 0) return;
    if (typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0) return;
    extra[key] = value;
  };
  put('queryState', metadata.queryState);
  put('queryType', context.queryType);
  put('updateType', metadata.updateType);
  put('clientInfo', context.clientInfo);
  put('clientTags', context.clientTags);
  put('remoteClientAddress', context.remoteClientAddress);
  put('userAgent', context.userAgent);
  put('sessionProperties', context.sessionProperties);
  put('executionStart', parseInstant(e.executionStartTime));
  const stats = obj(e.statistics);
  if (stats) {
    put('wallTimeMs', parseTrinoDuration(stats.wallTime));
    put('cpuTimeMs', parseTrinoDuration(stats.cpuTime));
    put('queuedTimeMs', parseTrinoDuration(stats.queuedTime));
  }
  if (failure) {
    put('errorCode', errorCodeName(failure.errorCode));
    put('errorType', obj(failure.errorCode)?.type);
    put('failureType', failure.failureType);
  }
  if (envelope) put('eventMetadata', envelope);
  return Object.keys(extra).length > 0 ? extra : undefined;
}

function obj(value: unknown): Record<string, unknown> | null {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}
