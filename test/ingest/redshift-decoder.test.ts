import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionIndex, parseConnectionLogLine, type ConnectionLogRecord } from '../../src/ingest/decoders/redshift/connection-log.js';
import { redshiftDecoder } from '../../src/ingest/decoders/redshift/redshift-decoder.js';
import { DECODERS } from '../../src/ingest/decoder-registry.js';
import type { DecoderOptions } from '../../src/ingest/decoder.js';
import type { ObjectRef } from '../../src/ingest/source.js';
import { LocalSource } from '../../src/ingest/sources/local/local-source.js';
import { redshiftHeader } from '../formats/redshift/contract.js';
import { makeTree } from '../helpers/temp-tree.js';
import { type Decoded } from './decoder-contract.js';

const ACTIVITY_KEY = 'AWSLogs/123456789012/redshift/us-east-1/2026/11/20/123456789012_redshift_us-east-1_prod_useractivitylog_2026-11-20T10:00.gz';
const CONNECTION_KEY = 'AWSLogs/123456789012/redshift/us-east-1/2026/11/20/123456789012_redshift_us-east-1_prod_connectionlog_2026-11-20T10:00.gz';
const USERLOG_KEY = 'AWSLogs/123456789012/redshift/us-east-1/2026/11/20/123456789012_redshift_us-east-1_prod_userlog_2026-11-20T10:00.gz';

function ref(key: string, root = 's3://audit-bucket'): ObjectRef {
  return { key, size: null, name: `${root}/${key}`, minTs: -Infinity, maxTs: Infinity };
}

/** Feeds lines to the Redshift decoder as the pipeline does, for an object of the given key. */
function decode(lines: string[], key = ACTIVITY_KEY, options: DecoderOptions = {}, root?: string): Decoded {
  const out: Decoded = { events: [], rejects: [], skips: [] };
  const parser = redshiftDecoder.open(
    ref(key, root),
    { event: (e) => out.events.push(e), reject: (line, reason, message) => out.rejects.push({ line, reason, message }), skip: (r) => out.skips.push(r) },
    options,
  );
  lines.forEach((l, i) => parser.line(l, i + 1));
  parser.end();
  return out;
}

/** A connectionlog line in the column order of STL_CONNECTION_LOG, padded as Redshift pads it. */
function connLine(event: string, time: string, pid: number, f: { user?: string; host?: string; app?: string; durationUs?: number; sessionId?: string } = {}): string {
  const cols = [event, time, f.host ?? '10.0.0.7', '51234', String(pid), 'dev', f.user ?? 'etl', 'password', String(f.durationUs ?? 0), 'TLSv1.2', 'ECDHE-RSA-AES256-GCM-SHA384', '0', '', '', '', f.app ?? '', 'Linux', 'JDBC 2.1', '', '2', f.sessionId ?? '', ''];
  return cols.map((c, i) => (i === 1 || i === 4 ? c : `${c} `)).join('|') + '|';
}

describe('Redshift useractivitylog decoder', () => {
  it('reads a record whose query runs over the following lines up to the next header', () => {
    const { events, rejects } = decode([
      `${redshiftHeader('2026-11-20T10:00:00Z', { pid: 7, userid: 100, xid: 900 })}CREATE TABLE t (`,
      '  id int',
      ');',
      `${redshiftHeader('2026-11-20T10:00:01Z', { db: 'analytics', user: 'bi user', pid: 8, userid: 101, xid: 901 })}SELECT 1;`,
    ]);
    expect(rejects).toEqual([]);
    expect(events).toHaveLength(2);
    expect(events[0]).toEqual({
      id: '123456789012_redshift_us-east-1_prod_useractivitylog_2026-11-20T10:00.gz:1',
      ts: Date.UTC(2026, 10, 20, 10, 0, 0),
      end: null,
      durationMs: null,
      user: 'etl',
      database: 'dev',
      session: '7',
      client: null,
      statement: 'CREATE TABLE t (\n  id int\n);',
      ok: null,
      error: null,
      source: { format: 'redshift', object: `s3://audit-bucket/${ACTIVITY_KEY}`, line: 1 },
      extra: { pid: 7, userid: 100, xid: '900' },
    });
    // A user name with a space runs to the next label.
    expect(events[1]).toMatchObject({ user: 'bi user', database: 'analytics', statement: 'SELECT 1;', source: { line: 4 } });
  });

  it('keeps a query line that starts with a quote but is no record header, and blank lines inside a query', () => {
    const { events } = decode([
      `${redshiftHeader('2026-11-20T10:00:00Z')}INSERT INTO t VALUES`,
      "'2026-11-20T10:00:00Z UTC', 1,",
      '',
      "'x [ db=y', 2);",
      '',
      '',
    ]);
    expect(events.map((e) => e.statement)).toEqual(["INSERT INTO t VALUES\n'2026-11-20T10:00:00Z UTC', 1,\n\n'x [ db=y', 2);"]);
  });

  it('names the object by its Redshift file name alone, so ids do not depend on how the bucket is addressed', () => {
    const line = `${redshiftHeader('2026-11-20T10:00:00Z')}SELECT 1;`;
    const viaBucket = decode([line], ACTIVITY_KEY, {}, 's3://audit-bucket').events[0]!.id;
    const viaPrefix = decode([line], ACTIVITY_KEY.slice('AWSLogs/123456789012/'.length), {}, 's3://audit-bucket/AWSLogs/123456789012').events[0]!.id;
    expect(viaPrefix).toBe(viaBucket);
    // Any other name needs its folders: two days' `useractivitylog.gz` must not share ids.
    expect(decode([line], '2026/11/20/useractivitylog.gz').events[0]!.id).toBe('2026/11/20/useractivitylog.gz:1');
  });

  it('rejects the lines before the first record header once, at the first of them, and goes on with the records', () => {
    const { events, rejects } = decode(['', 'stray text', 'more stray text', `${redshiftHeader('2026-11-20T10:00:00Z')}SELECT 1;`]);
    expect(rejects).toEqual([{ line: 2, reason: 'malformed-line', message: '2 lines before any record header: not a Redshift useractivitylog record' }]);
    expect(events).toHaveLength(1);
  });

  it('rejects a record with an unreadable time or header together with its query lines, never guessing a time', () => {
    const { events, rejects } = decode([
      `${redshiftHeader('2026-11-31T10:00:00Z')}SELECT a`,
      'FROM b;',
      `'2026-11-20T10:00:00Z UTC [ db=dev user=etl pid=abc userid=1 xid=2 ]' LOG: SELECT 2;`,
      `${redshiftHeader('2026-11-20T10:00:00Z')}`,
      `${redshiftHeader('2026-11-20T10:00:01Z')}SELECT 3;`,
    ]);
    expect(rejects.map((r) => [r.line, r.reason])).toEqual([
      [1, 'bad-timestamp'],
      [3, 'malformed-line'],
      [4, 'malformed-line'],
    ]);
    expect(events.map((e) => e.statement)).toEqual(['SELECT 3;']);
  });

  it('skips and counts connectionlog and userlog objects, even under --format redshift, and rejects their odd lines', () => {
    const conn = decode([connLine('authenticated', 'Fri, 20 Nov 2026 10:00:00:250', 7), 'garbage', connLine('initiating session', 'Fri, 20 Nov 2026 10:61:00:250', 7)], CONNECTION_KEY);
    expect(conn.events).toEqual([]);
    expect(conn.skips).toEqual(['redshift-connectionlog']);
    expect(conn.rejects.map((r) => [r.line, r.reason])).toEqual([
      [2, 'malformed-line'],
      [3, 'bad-timestamp'],
    ]);
    const user = decode(['100|etl | |create |1|0|0|9223372036854775807|14888|1080|Fri, 20 Nov 2026 10:18:38:695'], USERLOG_KEY);
    expect(user).toEqual({ events: [], rejects: [], skips: ['redshift-userlog'] });
  });

  it('tells a connectionlog object by its content when its name says nothing', () => {
    const d = decode([connLine('authenticated', 'Fri, 20 Nov 2026 10:00:00:250', 7)], 'exports/conn.txt');
    expect(d).toEqual({ events: [], rejects: [], skips: ['redshift-connectionlog'] });
  });

  it('sniffs each of the three logs from its first line, and no other registered format claims them or is claimed', () => {
    expect(redshiftDecoder.sniff(`${redshiftHeader('2026-11-20T10:00:00Z')}SELECT 1;`)).toBe(true);
    expect(redshiftDecoder.sniff(`${redshiftHeader('yesterday')}SELECT 1;`)).toBe(true);
    expect(redshiftDecoder.sniff('authenticated |Mon, 7 Dec 2020 20:01:55:177|[local] | |5108|dev |rdsdb |Ident |0| | |0| | | | | | |')).toBe(true);
    expect(redshiftDecoder.sniff('1|rdsdb | |alter |1|1|1|9223372036854775807|14872|1061|Thu, 3 Dec 2020 10:18:38:416')).toBe(true);
    expect(redshiftDecoder.sniff('2026-11-20 10:00:00.000 UTC|app|appdb|6736a1b2.1092|LOG:  statement: SELECT 1')).toBe(false);
    expect(redshiftDecoder.sniff('2026-11-20 10:00:00.000 UTC,"app","appdb",4242,"[local]",6736a1b2.1092,1,"idle",2026-11-20 09:00:00 UTC,3/4,0,LOG,00000,"statement: SELECT 1",,,,,,,,,"psql","client backend",,0')).toBe(false);
    expect(redshiftDecoder.sniff('{"timestamp":"x"}')).toBe(false);
    for (const first of [
      `${redshiftHeader('2026-11-20T10:00:00Z')}SELECT 1;`,
      connLine('authenticated', 'Fri, 20 Nov 2026 10:00:00:250', 7),
      '100|etl | |create |1|0|0|9223372036854775807|14888|1080|Fri, 20 Nov 2026 10:18:38:695',
    ]) {
      expect(DECODERS.filter((d) => d.sniff(first)).map((d) => d.format)).toEqual(['redshift']);
    }
  });

  it('fills session, client and address from the connection open at the record time, and falls back to the pid', () => {
    const index = new ConnectionIndex();
    for (const line of [
      connLine('authenticated', 'Fri, 20 Nov 2026 10:00:00:250', 7, { app: 'psql' }),
      connLine('initiating session', 'Fri, 20 Nov 2026 10:00:00:300', 7, { app: 'psql' }),
      connLine('disconnecting session', 'Fri, 20 Nov 2026 10:10:00:000', 7, { durationUs: 599_750_000 }),
    ]) {
      index.add('123456789012_redshift_us-east-1_prod', parseOrFail(line));
    }
    const { events } = decode(
      [`${redshiftHeader('2026-11-20T10:05:00Z', { pid: 7 })}SELECT 1;`, `${redshiftHeader('2026-11-20T10:15:00Z', { pid: 7 })}SELECT 2;`],
      ACTIVITY_KEY,
      { prepared: new Map([['redshift', index.build()]]) },
    );
    expect(events[0]).toMatchObject({ session: '7@2026-11-20T10:00:00.250Z', client: 'psql', extra: { remoteHost: '10.0.0.7', remotePort: '51234', applicationName: 'psql' } });
    expect(events[1]).toMatchObject({ session: '7', client: null, extra: { pid: 7, userid: 100, xid: '456' } });
  });

  describe('prepare', () => {
    let tree: Awaited<ReturnType<typeof makeTree>>;
    beforeAll(async () => {
      tree = await makeTree({
        [CONNECTION_KEY]: { gzip: [connLine('initiating session', 'Fri, 20 Nov 2026 10:00:00:300', 7, { app: 'airflow', sessionId: 'aa11bb22-0000-4000-8000-000000000001' }), 'not a connection line'].join('\n') + '\n' },
        [ACTIVITY_KEY]: { gzip: `${redshiftHeader('2026-11-20T10:05:00Z', { pid: 7 })}SELECT 1;\n` },
      });
    });
    afterAll(() => tree.cleanup());

    it('reads the connectionlog objects of the window, gzip or not, and skips their bad lines silently (the decode reports them)', async () => {
      const source = new LocalSource(tree.root);
      const index = (await redshiftDecoder.prepare!(source, [ref(ACTIVITY_KEY, tree.root), ref(CONNECTION_KEY, tree.root)], {})) as ConnectionIndex;
      expect(index).toBeInstanceOf(ConnectionIndex);
      expect(index.connections).toBe(1);
      expect(index.info('123456789012_redshift_us-east-1_prod', 7, Date.UTC(2026, 10, 20, 10, 5), 'etl', 'dev')).toMatchObject({
        session: 'aa11bb22-0000-4000-8000-000000000001',
        client: 'airflow',
      });
    });

    it('returns nothing, reading nothing, when the window holds no connectionlog', async () => {
      const source = new LocalSource(tree.root);
      expect(await redshiftDecoder.prepare!(source, [ref(ACTIVITY_KEY, tree.root)], {})).toBeNull();
    });
  });
});

function parseOrFail(line: string): ConnectionLogRecord {
  const r = parseConnectionLogLine(line);
  if (r === null || r === 'bad-timestamp') throw new Error(`not a connectionlog line: ${line}`);
  return r;
}
