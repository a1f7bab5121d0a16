import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reject } from '../../src/core/audit-event.js';
import { extract } from '../../src/extract/extract-pipeline.js';
import { RejectLog } from '../../src/ingest/reject-log.js';
import type { Source } from '../../src/ingest/source.js';
import { LocalSource } from '../../src/ingest/sources/local/local-source.js';
import { redshiftHeader } from '../formats/redshift/contract.js';
import { collect, makeTree } from '../helpers/temp-tree.js';

const DAY = 86_400_000;
const D20 = Date.UTC(2026, 10, 20);
const PREFIX = 'AWSLogs/123456789012/redshift/us-east-1';
const NAME = '123456789012_redshift_us-east-1_prod';

/** Redshift's S3 key of one log object of a day and hour. */
function key(day: number, kind: 'useractivitylog' | 'connectionlog' | 'userlog', hour: string): string {
  return `${PREFIX}/2026/11/${day}/${NAME}_${kind}_2026-11-${day}T${hour}.gz`;
}

function connLine(event: string, time: string, pid: number, app: string, durationUs = 0): string {
  return `${event} |${time}|10.0.0.7 |51234 |${pid}|dev |etl |password |${durationUs}|TLSv1.2 |ECDHE |0| | | |${app} |Linux |JDBC 2.1 | |2| | |`;
}

/** Records which objects a source opened. */
function watched(inner: Source): { source: Source; opened: string[] } {
  const opened: string[] = [];
  return {
    opened,
    source: {
      url: inner.url,
      listDir: (p, s) => inner.listDir(p, s),
      open: async (k, o) => {
        opened.push(k);
        return inner.open(k, o);
      },
      close: () => inner.close(),
    },
  };
}

describe('extract over a Redshift AWSLogs tree', () => {
  let tree: Awaited<ReturnType<typeof makeTree>>;
  beforeAll(async () => {
    tree = await makeTree({
      [key(19, 'useractivitylog', '10:00')]: { gzip: `${redshiftHeader('2026-11-19T10:00:00Z', { pid: 5 })}SELECT 'the day before';\n` },
      [key(19, 'connectionlog', '10:00')]: { gzip: connLine('initiating session', 'Thu, 19 Nov 2026 09:59:00:000', 5, 'psql') + '\n' },
      [key(20, 'useractivitylog', '10:00')]: {
        gzip: [
          `${redshiftHeader('2026-11-20T10:00:01Z', { pid: 7 })}CREATE TABLE sales.orders (`,
          '  id bigint',
          ');',
          `${redshiftHeader('2026-11-20T10:00:02Z', { pid: 8, user: 'rdsdb', userid: 1 })}SELECT 1;`,
          '',
        ].join('\n'),
      },
      [key(20, 'connectionlog', '10:00')]: {
        gzip: [connLine('authenticated', 'Fri, 20 Nov 2026 10:00:00:250', 7, ''), connLine('initiating session', 'Fri, 20 Nov 2026 10:00:00:300', 7, 'dbt')].join('\n') + '\n',
      },
      [key(20, 'userlog', '10:00')]: { gzip: '100|etl | |create |1|0|0|9223372036854775807|14888|1080|Fri, 20 Nov 2026 10:18:38:695\n' },
      [key(21, 'useractivitylog', '00:00')]: { gzip: `${redshiftHeader('2026-11-20T23:59:30Z', { pid: 9 })}GRANT SELECT ON sales.orders TO GROUP readers;\n` },
      [key(21, 'connectionlog', '00:00')]: { gzip: connLine('disconnecting session', 'Sat, 21 Nov 2026 00:10:00:000', 7, 'dbt', 50_000_000) + '\n' },
      [key(25, 'useractivitylog', '10:00')]: { gzip: `${redshiftHeader('2026-11-25T10:00:00Z', { pid: 5 })}SELECT 'days later';\n` },
    });
  });
  afterAll(() => tree.cleanup());

  const run = async () => {
    const w = watched(new LocalSource(tree.root));
    const written: Reject[] = [];
    const rejects = new RejectLog({ write: async (b) => void written.push(...b) });
    const { events, stats } = extract({ source: w.source, window: { from: D20, to: D20 + DAY }, rejects });
    return { events: await collect(events), stats, opened: [...new Set(w.opened)].sort(), rejects: written };
  };

  it("opens only the objects of the window's days (and the next day's, which the lookback can need), pruning the rest by their YYYY/MM/DD folders", async () => {
    const { opened, stats } = await run();
    expect(opened).toEqual([key(20, 'connectionlog', '10:00'), key(20, 'useractivitylog', '10:00'), key(20, 'userlog', '10:00'), key(21, 'connectionlog', '00:00'), key(21, 'useractivitylog', '00:00')]);
    expect(stats.ingest.prunedPrefixes).toBeGreaterThanOrEqual(2); // the 19th and the 25th
  });

  it('decodes the statements, joined with their connections, and skips the connectionlog and userlog lines with a count', async () => {
    const { events, stats, rejects } = await run();
    expect(rejects).toEqual([]);
    expect(events.map((e) => [e.statement, e.session, e.client, e.kind])).toEqual([
      ['CREATE TABLE sales.orders (\n  id bigint\n)', '7@2026-11-20T10:00:00.250Z', 'dbt', 'ddl'],
      ['SELECT 1', '8', null, 'query'],
      ['GRANT SELECT ON sales.orders TO GROUP readers', '9', null, 'dcl'],
    ]);
    expect(events[0]!.id).toBe(`${NAME}_useractivitylog_2026-11-20T10:00.gz:1`);
    expect(stats.ingest.skipped).toEqual({ 'redshift-connectionlog': 3, 'redshift-userlog': 1 });
  });
});
