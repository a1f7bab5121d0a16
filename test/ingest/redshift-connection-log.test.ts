import { describe, expect, it } from 'vitest';
import { ConnectionIndex, parseConnectionLogLine, parseRecordTime, parseUserLogLine, type ConnectionLogRecord } from '../../src/ingest/decoders/redshift/connection-log.js';
import { redshiftLogName } from '../../src/ingest/decoders/redshift/log-name.js';

const CLUSTER = '123456789012_redshift_us-east-1_prod';
const at = (h: number, m: number, s: number, ms = 0) => Date.UTC(2026, 10, 20, h, m, s, ms);

function rec(event: string, time: number, pid: number, f: Partial<ConnectionLogRecord> = {}): ConnectionLogRecord {
  return {
    event,
    at: time,
    pid,
    remoteHost: '10.0.0.7',
    remotePort: '51234',
    database: 'dev',
    user: 'etl',
    durationUs: null,
    applicationName: null,
    driverVersion: null,
    sessionId: null,
    ...f,
  };
}

function index(records: ConnectionLogRecord[], cluster = CLUSTER): ConnectionIndex {
  const i = new ConnectionIndex();
  for (const r of records) i.add(cluster, r);
  return i.build();
}

describe('Redshift connectionlog', () => {
  it('reads a line of the 18-column layout older clusters write, space padding and all', () => {
    // As published in signalfx/aws-log-collector tests/data/e2e/redshift_connectionlog.log.
    const r = parseConnectionLogLine('disconnecting session |Mon, 7 Dec 2020 20:01:55:304|[local] | |5108|dev |rdsdb |Ident |127304| | |0| | | | | | |');
    expect(r).toEqual({
      event: 'disconnecting session',
      at: Date.UTC(2020, 11, 7, 20, 1, 55, 304),
      pid: 5108,
      remoteHost: '[local]',
      remotePort: null,
      database: 'dev',
      user: 'rdsdb',
      durationUs: 127304,
      applicationName: null,
      driverVersion: null,
      sessionId: null,
    });
  });

  it('reads application_name, driver_version and sessionid where newer clusters write them', () => {
    const line = 'initiating session |Fri, 20 Nov 2026 10:00:00:300|10.0.0.9 |40001 |1001|dev |analyst |password |0|TLSv1.2 |ECDHE-RSA-AES256-GCM-SHA384 |0| | | |Tableau |Linux 5.10 |Redshift JDBC 2.1.0.26 | |2|3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b | |';
    expect(parseConnectionLogLine(line)).toMatchObject({ applicationName: 'Tableau', driverVersion: 'Redshift JDBC 2.1.0.26', sessionId: '3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b' });
  });

  it('tells a line of another shape from one whose time is unreadable', () => {
    expect(parseConnectionLogLine('a|b|c')).toBeNull();
    expect(parseConnectionLogLine("'2026-11-20T10:00:00Z UTC [ db=dev user=etl pid=1 userid=1 xid=1 ]' LOG: SELECT 'a|b|c|d|e|f|g|h|i|j'")).toBeNull();
    expect(parseConnectionLogLine('authenticated |yesterday|[local] | |5108|dev |rdsdb |Ident |0| | |0| | | | | | |')).toBe('bad-timestamp');
  });

  it('reads recordtime as UTC with the digits after the last colon as a fraction of a second, and refuses impossible dates', () => {
    expect(parseRecordTime('Mon, 7 Dec 2020 20:01:55:177')).toBe(Date.UTC(2020, 11, 7, 20, 1, 55, 177));
    expect(parseRecordTime('Mon, 7 Dec 2020 20:01:55')).toBe(Date.UTC(2020, 11, 7, 20, 1, 55));
    expect(parseRecordTime('Mon, 31 Nov 2020 20:01:55:177')).toBeNull();
    expect(parseRecordTime('Mon, 7 Foo 2020 20:01:55:177')).toBeNull();
  });

  it('recognises userlog lines', () => {
    expect(parseUserLogLine('100|awsuser | |create |1|1|0|9223372036854775807|14888|1080|Thu, 3 Dec 2020 10:18:38:695')).toBe('ok');
    expect(parseUserLogLine('100|awsuser | |create |1|1|0|9223372036854775807|14888|1080|someday')).toBe('bad-timestamp');
    expect(parseUserLogLine('authenticated |Mon, 7 Dec 2020 20:01:55:177|[local] | |5108|dev |rdsdb |Ident |0| | |0| | | | | | |')).toBeNull();
  });

  it('reads the cluster and log kind from Redshift object names', () => {
    expect(redshiftLogName('AWSLogs/123456789012/redshift/us-east-1/2026/11/20/123456789012_redshift_us-east-1_my_cluster_connectionlog_2026-11-20T10:00.gz')).toEqual({
      cluster: '123456789012_redshift_us-east-1_my_cluster',
      kind: 'connectionlog',
      base: '123456789012_redshift_us-east-1_my_cluster_connectionlog_2026-11-20T10:00.gz',
    });
    expect(redshiftLogName('logs/useractivitylog.gz').kind).toBeNull();
  });
});

describe('joining user activity to connections', () => {
  it('takes, for a reused pid, the connection open at the record time', () => {
    const i = index([
      rec('authenticated', at(10, 0, 0, 250), 7, { user: 'etl' }),
      rec('initiating session', at(10, 0, 0, 300), 7, { user: 'etl', applicationName: 'psql' }),
      rec('disconnecting session', at(10, 4, 0), 7, { user: 'etl', durationUs: 239_750_000 }),
      rec('initiating session', at(10, 5, 0), 7, { user: 'bi', remoteHost: '10.0.0.9', applicationName: 'Tableau' }),
    ]);
    expect(i.connections).toBe(2);
    expect(i.info(CLUSTER, 7, at(10, 1, 0), 'etl', 'dev')).toMatchObject({ session: '7@2026-11-20T10:00:00.250Z', client: 'psql' });
    expect(i.info(CLUSTER, 7, at(10, 4, 30), 'etl', 'dev')).toBeNull();
    expect(i.info(CLUSTER, 7, at(10, 6, 0), 'bi', 'dev')).toMatchObject({ session: '7@2026-11-20T10:05:00.000Z', client: 'Tableau', remoteHost: '10.0.0.9' });
    expect(i.info(CLUSTER, 8, at(10, 6, 0), 'bi', 'dev')).toBeNull();
  });

  it('matches a record logged in the truncated second before its connection started', () => {
    const i = index([rec('initiating session', at(10, 0, 0, 700), 7)]);
    // The statement ran at 10:00:00.9 and was logged as 10:00:00.
    expect(i.find(CLUSTER, 7, at(10, 0, 0), 'etl', 'dev')?.start).toBe(at(10, 0, 0, 700));
    expect(i.find(CLUSTER, 7, at(9, 59, 59), 'etl', 'dev')).toBeNull();
  });

  it('prefers the connection of the record user when a pid was reused within the same second', () => {
    const i = index([
      rec('initiating session', at(10, 0, 0, 100), 7, { user: 'etl' }),
      rec('disconnecting session', at(10, 0, 0, 400), 7, { user: 'etl', durationUs: 300_000 }),
      rec('initiating session', at(10, 0, 0, 600), 7, { user: 'bi' }),
    ]);
    expect(i.find(CLUSTER, 7, at(10, 0, 0), 'etl', 'dev')?.user).toBe('etl');
    expect(i.find(CLUSTER, 7, at(10, 0, 0), 'bi', 'dev')?.user).toBe('bi');
  });

  it('knows a connection opened before the window from its disconnect record and duration', () => {
    const i = index([rec('disconnecting session', at(11, 0, 0), 9, { durationUs: 3_600_000_000, sessionId: 'sess-9', applicationName: 'airflow' })]);
    expect(i.find(CLUSTER, 9, at(10, 30, 0), 'etl', 'dev')).toMatchObject({ start: at(10, 0, 0), end: at(11, 0, 0) });
    expect(i.info(CLUSTER, 9, at(10, 30, 0), 'etl', 'dev')).toMatchObject({ session: 'sess-9', client: 'airflow' });
    expect(i.find(CLUSTER, 9, at(9, 30, 0), 'etl', 'dev')).toBeNull();
  });

  it('follows set application_name through the session', () => {
    const i = index([
      rec('initiating session', at(10, 0, 0), 7, { applicationName: 'psql' }),
      rec('set application_name', at(10, 5, 0), 7, { applicationName: 'dbt' }),
    ]);
    expect(i.info(CLUSTER, 7, at(10, 1, 0), 'etl', 'dev')?.client).toBe('psql');
    expect(i.info(CLUSTER, 7, at(10, 6, 0), 'etl', 'dev')?.client).toBe('dbt');
  });

  it('uses the remote host as the client when the connection names no application', () => {
    const i = index([rec('initiating session', at(10, 0, 0), 7, { remoteHost: '[local]' })]);
    expect(i.info(CLUSTER, 7, at(10, 1, 0), 'etl', 'dev')?.client).toBe('[local]');
  });

  it('keeps the pids of different clusters apart', () => {
    const i = index([rec('initiating session', at(10, 0, 0), 7)], 'other_cluster');
    expect(i.find(CLUSTER, 7, at(10, 1, 0), 'etl', 'dev')).toBeNull();
    expect(i.find('other_cluster', 7, at(10, 1, 0), 'etl', 'dev')).not.toBeNull();
  });

  it('opens no connection on an authentication failure', () => {
    expect(index([rec('authentication failure', at(10, 0, 0), 7)]).connections).toBe(0);
  });
});
