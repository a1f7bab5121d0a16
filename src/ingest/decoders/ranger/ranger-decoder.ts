import type { BaseEvent } from '../../../core/audit-event.js';
import type { Decoder, DecodeSink, LineParser } from '../../decoder.js';
import type { ObjectRef } from '../../source.js';
import { jsonRecordParser, str } from '../json-line.js';
import { parseIsoTime } from '../trino/iso-time.js';

const FORMAT = 'ranger';

/**
 * Records of one request that Ranger's Hive plugin writes one per resource (a query
 * touching three tables makes three records, written together): their times differ by
 * at most this much.
 */
const SAME_REQUEST_MS = 1000;

/**
 * Apache Ranger's audit records (AuthzAuditEvent as JSON lines: the HDFS/file audit
 * destination, or a Solr export). A record with `reqData` is a statement: `reqUser`
 * ran it in session `sess` at `evtTime`, and `result` says whether Ranger allowed it (1)
 * or denied it (0: ok false, error naming the policy). Ranger records authorization,
 * not the outcome, so an allowed statement is ok. Records without `reqData` (HDFS, YARN,
 * Kafka access checks) are skipped and counted. The per-resource records of one request
 * (adjacent, same session, user, client and statement, within a second) are folded into
 * one event listing every resource, so the statement is replayed once. The id is
 * Ranger's `id`, with `#<seq_num>` when the record before had the same id.
 *
 * evtTime is written by Gson as `yyyy-MM-dd HH:mm:ss.SSS` in the plugin JVM's default
 * zone, which the record does not name: it is read as UTC, so run the plugins with
 * `-Duser.timezone=UTC`. Solr's `2026-11-20T01:02:03.456Z` is read as written.
 */
export const rangerDecoder: Decoder = {
  format: FORMAT,
  description: 'Apache Ranger audit JSON lines (HDFS/file destination or Solr export)',
  sniff: (line) => line.startsWith('{') && line.includes('"evtTime"') && (line.includes('"reqUser"') || line.includes('"repoType"')),
  open(object: ObjectRef, out: DecodeSink): LineParser {
    let group: Group | null = null;
    let lastId: string | null = null;

    const flush = (): void => {
      if (group === null) return;
      out.event(finish(group));
      group = null;
    };

    return jsonRecordParser(
      out,
      (r, text, lineNo) => {
        if (r.evtTime === undefined && r.reqUser === undefined && r.repoType === undefined) {
          return out.reject(lineNo, 'malformed-line', 'not a Ranger audit record: no evtTime, reqUser or repoType', text);
        }
        const rawId = str(r.id) ?? (typeof r.id === 'number' ? String(r.id) : null);
        const statement = typeof r.reqData === 'string' && r.reqData.trim() !== '' ? r.reqData : null;
        if (statement === null) {
          lastId = rawId;
          return out.skip('ranger-no-statement');
        }
        const ts = typeof r.evtTime === 'string' ? parseIsoTime(r.evtTime) : typeof r.evtTime === 'number' ? r.evtTime : null;
        if (ts === null) return out.reject(lineNo, 'bad-timestamp', `unreadable evtTime ${JSON.stringify(r.evtTime ?? null)}`, text);
        const result = num(r.result);
        if (result !== 0 && result !== 1) {
          return out.reject(lineNo, 'malformed-line', `result is ${JSON.stringify(r.result ?? null)}, not 1 (allowed) or 0 (denied)`, text);
        }
        const access = accessOf(r);
        if (group !== null && sameRequest(group, r, statement, ts) && !group.seen.has(access.key)) {
          group.accesses.push(access);
          group.seen.add(access.key);
          if (result === 0 && !group.denied) {
            group.denied = true;
            group.deniedBy = access.policy;
          }
          lastId = rawId;
          return;
        }
        flush();
        const seq = num(r.seq_num);
        let id = rawId ?? `${object.key !== '' ? object.key : object.name}:${lineNo}`;
        if (rawId !== null && rawId === lastId) id = `${rawId}#${seq ?? lineNo}`;
        lastId = rawId;
        group = {
          record: r,
          statement,
          ts,
          id,
          line: lineNo,
          object: object.name,
          accesses: [access],
          seen: new Set([access.key]),
          denied: result === 0,
          deniedBy: result === 0 ? access.policy : null,
        };
      },
      flush,
    );
  },
};

/** What one record says about one resource. */
interface Access {
  key: string;
  access: string | null;
  resource: string | null;
  resType: string | null;
  policy: number | null;
  result: number;
}

/** The records of one request, folded while they keep coming. */
interface Group {
  record: Record<string, unknown>;
  statement: string;
  ts: number;
  id: string;
  line: number;
  object: string;
  accesses: Access[];
  seen: Set<string>;
  /** Whether a record of the request was denied, and by which policy (the first denial's). */
  denied: boolean;
  deniedBy: number | null;
}

function accessOf(r: Record<string, unknown>): Access {
  const access = str(r.access);
  const resource = str(r.resource);
  const resType = str(r.resType);
  return {
    key: `${access ?? ''}\u0000${resType ?? ''}\u0000${resource ?? ''}`,
    access,
    resource,
    resType,
    policy: num(r.policy),
    result: num(r.result) ?? 0,
  };
}

function sameRequest(g: Group, r: Record<string, unknown>, statement: string, ts: number): boolean {
  const first = g.record;
  return (
    statement === g.statement &&
    Math.abs(ts - g.ts) <= SAME_REQUEST_MS &&
    r.reqUser === first.reqUser &&
    r.sess === first.sess &&
    r.cliIP === first.cliIP &&
    r.repo === first.repo
  );
}

const EXTRA_KEYS = ['repo', 'repoType', 'action', 'reason', 'enforcer', 'agent', 'agentHost', 'cliType', 'cluster_name', 'zone_name', 'policy_version', 'additional_info', 'logType', 'seq_num'];

function finish(g: Group): BaseEvent {
  const r = g.record;
  const first = g.accesses[0]!;
  const extra: Record<string, unknown> = {};
  if (first.access !== null) extra.access = first.access;
  if (first.resource !== null) extra.resource = first.resource;
  if (first.resType !== null) extra.resType = first.resType;
  if (first.policy !== null) extra.policy = first.policy;
  for (const k of EXTRA_KEYS) {
    const v = r[k];
    if (v !== undefined && v !== null && v !== '') extra[k] = v;
  }
  const count = num(r.event_count);
  if (count !== null && count > 1) extra.event_count = count;
  const span = num(r.event_dur_ms);
  if (span !== null && span > 0) extra.event_dur_ms = span;
  if (Array.isArray(r.tags) && r.tags.length > 0) extra.tags = r.tags;
  if (g.accesses.length > 1) {
    extra.resources = g.accesses.map((a) => ({ access: a.access, resource: a.resource, resType: a.resType, policy: a.policy, result: a.result }));
  }
  const ok = !g.denied;
  return {
    id: g.id,
    ts: g.ts,
    end: null,
    durationMs: null,
    user: str(r.reqUser),
    database: null,
    session: str(r.sess),
    client: str(r.cliIP),
    statement: g.statement,
    ok,
    error: ok ? null : g.deniedBy !== null && g.deniedBy > 0 ? `denied by Ranger policy ${g.deniedBy}` : 'denied by Ranger: no policy allows it',
    source: { format: FORMAT, object: g.object, line: g.line },
    extra,
  };
}

function num(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return null;
}
