import { describe, expect, it } from 'vitest';
import { DECODERS } from '../../src/ingest/decoder-registry.js';
import { rangerDecoder } from '../../src/ingest/decoders/ranger/ranger-decoder.js';
import { fixture, rangerLine } from '../formats/ranger/contract.js';
import { okeraLine, pgJsonLine } from '../helpers/temp-tree.js';
import { decodeLines } from './decoder-contract.js';

const T0 = Date.UTC(2026, 10, 20, 10, 0, 0);
const JOIN = 'SELECT o.id, c.name FROM sales.orders o JOIN sales.customers c ON o.customer_id = c.id';

describe('Apache Ranger audit decoder', () => {
  it('maps an allowed Hive record: id, evtTime read as UTC, user, session, client, statement', () => {
    const { events, rejects } = decodeLines(rangerDecoder, [rangerLine({})]);
    expect(rejects).toEqual([]);
    expect(events).toEqual([
      {
        id: '5b1c9c7e-1111-4000-8000-000000000000-0',
        ts: T0 + 123,
        end: null,
        durationMs: null,
        user: 'alice',
        database: null,
        session: '1f2e3d4c-0000-4000-8000-00000000abcd',
        client: '10.0.0.7',
        statement: 'SELECT * FROM sales.orders',
        ok: true,
        error: null,
        source: { format: 'ranger', object: 'mem://ymd=2026-11-20/a.log', line: 1 },
        extra: {
          access: 'SELECT',
          resource: 'sales/orders',
          resType: '@table',
          policy: 12,
          repo: 'prod_hive',
          repoType: 3,
          action: 'select',
          enforcer: 'ranger-acl',
          agent: 'hiveServer2',
          agentHost: 'hs2-1.example.com',
          cliType: 'HIVESERVER2',
          cluster_name: 'prod',
          policy_version: 4,
          logType: 'RangerAudit',
          seq_num: 1,
        },
      },
    ]);
  });

  it('marks a denied record not ok, naming the policy, or saying that none matched', () => {
    const { events } = decodeLines(rangerDecoder, [
      rangerLine({ id: 'a', result: 0, policy: 33 }),
      rangerLine({ id: 'b', result: 0, policy: -1, reqData: 'DROP TABLE sales.orders' }),
    ]);
    expect(events.map((e) => [e.ok, e.error])).toEqual([
      [false, 'denied by Ranger policy 33'],
      [false, 'denied by Ranger: no policy allows it'],
    ]);
  });

  it('folds the per-resource records of one request into one event that lists every resource', () => {
    const { events } = decodeLines(rangerDecoder, [
      rangerLine({ id: 'r-0', reqData: JOIN, resource: 'sales/orders/customer_id,id', resType: '@column' }),
      rangerLine({ id: 'r-1', reqData: JOIN, resource: 'sales/customers/id,name', resType: '@column', policy: 14, evtTime: '2026-11-20 10:00:00.124' }),
    ]);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      id: 'r-0',
      ok: true,
      extra: {
        resource: 'sales/orders/customer_id,id',
        resources: [
          { access: 'SELECT', resource: 'sales/orders/customer_id,id', resType: '@column', policy: 12, result: 1 },
          { access: 'SELECT', resource: 'sales/customers/id,name', resType: '@column', policy: 14, result: 1 },
        ],
      },
    });
  });

  it('keeps records apart that differ in session, user, client or statement, lie more than a second apart, or repeat a resource', () => {
    const lines = [
      rangerLine({ id: 'a' }),
      rangerLine({ id: 'b', resource: 'sales/x', sess: 'other-session' }),
      rangerLine({ id: 'c', resource: 'sales/y', reqUser: 'bob', sess: 'other-session' }),
      rangerLine({ id: 'd', resource: 'sales/z', reqUser: 'bob', sess: 'other-session', evtTime: '2026-11-20 10:00:01.124' }),
      rangerLine({ id: 'e', resource: 'sales/z', reqUser: 'bob', sess: 'other-session', evtTime: '2026-11-20 10:00:01.200' }),
      rangerLine({ id: 'f', resource: 'sales/w', reqUser: 'bob', sess: 'other-session', evtTime: '2026-11-20 10:00:01.200', cliIP: '10.9.9.9' }),
    ];
    expect(decodeLines(rangerDecoder, lines).events.map((e) => e.id)).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
  });

  it('folds only adjacent records: the same statement after another one is a new event', () => {
    const lines = [rangerLine({ id: 'a' }), rangerLine({ id: 'b', reqData: 'SHOW TABLES' }), rangerLine({ id: 'c', resource: 'sales/other' })];
    expect(decodeLines(rangerDecoder, lines).events.map((e) => e.id)).toEqual(['a', 'b', 'c']);
  });

  it('makes a repeated id unique with its seq_num, so two records never collapse into one', () => {
    const lines = [rangerLine({ id: 'trace-1', seq_num: 7, reqData: 'USE sales' }), rangerLine({ id: 'trace-1', seq_num: 8, reqData: 'SHOW TABLES' })];
    expect(decodeLines(rangerDecoder, lines).events.map((e) => e.id)).toEqual(['trace-1', 'trace-1#8']);
  });

  it('makes an id from the object and line when the record has none', () => {
    const line = JSON.parse(rangerLine({})) as Record<string, unknown>;
    delete line.id;
    expect(decodeLines(rangerDecoder, ['', JSON.stringify(line)]).events[0]!.id).toBe('ymd=2026-11-20/a.log:2');
  });

  it('skips and counts records without a statement, such as HDFS access checks', () => {
    const hdfs = JSON.stringify({ repoType: 1, repo: 'prod_hadoop', reqUser: 'alice', evtTime: '2026-11-20 10:00:00.000', access: 'read', resource: '/warehouse/t/0', result: 1, policy: -1, id: 'h-0' });
    expect(decodeLines(rangerDecoder, [hdfs, rangerLine({ reqData: '  ' })])).toEqual({ events: [], rejects: [], skips: ['ranger-no-statement', 'ranger-no-statement'] });
  });

  it('reads the Solr form of evtTime and numbers written as strings', () => {
    const { events } = decodeLines(rangerDecoder, [rangerLine({ evtTime: '2026-11-20T10:00:00.123Z', result: '0', policy: '33', _version_: 1 })]);
    expect(events[0]).toMatchObject({ ts: T0 + 123, ok: false, error: 'denied by Ranger policy 33', extra: { policy: 33 } });
  });

  it('keeps the aggregation of a summary record as event_count and event_dur_ms', () => {
    const { events } = decodeLines(rangerDecoder, [rangerLine({ event_count: 5, event_dur_ms: 4000 })]);
    expect(events[0]!.extra).toMatchObject({ event_count: 5, event_dur_ms: 4000 });
  });

  it('rejects a result that is neither 1 nor 0', () => {
    expect(decodeLines(rangerDecoder, [rangerLine({ result: 200 })]).rejects).toEqual([expect.objectContaining({ line: 1, reason: 'malformed-line' })]);
  });

  it('sniffs its first line and claims no other format', () => {
    for (const line of fixture.lines) expect(DECODERS.filter((d) => d.sniff(line)).map((d) => d.format)).toEqual(['ranger']);
    expect(rangerDecoder.sniff(okeraLine({}))).toBe(false);
    expect(rangerDecoder.sniff(pgJsonLine({}))).toBe(false);
  });
});
