import type { DecoderFixture } from '../../ingest/decoder-contract.js';

/** A Ranger audit record as the Hive plugin's HDFS destination writes it (Gson); fields override the defaults. */
export function rangerLine(fields: Record<string, unknown>): string {
  return JSON.stringify({
    repoType: 3,
    repo: 'prod_hive',
    reqUser: 'alice',
    evtTime: '2026-11-20 10:00:00.123',
    access: 'SELECT',
    resource: 'sales/orders',
    resType: '@table',
    action: 'select',
    result: 1,
    agent: 'hiveServer2',
    policy: 12,
    enforcer: 'ranger-acl',
    sess: '1f2e3d4c-0000-4000-8000-00000000abcd',
    cliType: 'HIVESERVER2',
    cliIP: '10.0.0.7',
    reqData: 'SELECT * FROM sales.orders',
    agentHost: 'hs2-1.example.com',
    logType: 'RangerAudit',
    id: '5b1c9c7e-1111-4000-8000-000000000000-0',
    seq_num: 1,
    event_count: 1,
    event_dur_ms: 0,
    tags: [],
    cluster_name: 'prod',
    policy_version: 4,
    ...fields,
  });
}

/** Ranger Hive audit records for the Decoder contract suite. */
export const fixture: DecoderFixture = {
  lines: [
    rangerLine({}),
    rangerLine({ id: '5b1c9c7e-1111-4000-8000-000000000000-1', seq_num: 3, evtTime: '2026-11-20 10:00:05.000', access: 'DROP', action: 'drop', result: 0, policy: -1, reqData: 'DROP TABLE sales.orders' }),
    rangerLine({ id: '5b1c9c7e-1111-4000-8000-000000000000-2', seq_num: 5, evtTime: '2026-11-20 10:00:09.500', access: 'CREATE', action: 'create', resType: '@database', resource: 'sales', reqData: 'CREATE TABLE sales.t (id int)' }),
  ],
  events: 3,
  badTimestamp: rangerLine({ evtTime: 'yesterday' }),
};
