import type { DecoderFixture } from '../../ingest/decoder-contract.js';

/** One useractivitylog record header as Redshift writes it; the query follows on the same line. */
export function redshiftHeader(time: string, fields: { db?: string; user?: string; pid?: number; userid?: number; xid?: number } = {}): string {
  const { db = 'dev', user = 'etl', pid = 123, userid = 100, xid = 456 } = fields;
  return `'${time} UTC [ db=${db} user=${user} pid=${pid} userid=${userid} xid=${xid} ]' LOG: `;
}

/** Redshift useractivitylog records for the Decoder contract suite: one spans four lines. */
export const fixture: DecoderFixture = {
  lines: [
    `${redshiftHeader('2026-11-20T10:00:00Z')}CREATE TABLE sales.orders (`,
    '  id int,',
    '  amount decimal(10,2)',
    ');',
    `${redshiftHeader('2026-11-20T10:00:01Z', { xid: 457 })}SELECT count(*) FROM sales.orders;`,
    `${redshiftHeader('2026-11-20T10:00:02Z', { user: 'analyst', pid: 124, userid: 101, xid: 458 })}GRANT SELECT ON sales.orders TO GROUP readers;`,
  ],
  events: 3,
  badTimestamp: `${redshiftHeader('yesterday')}SELECT 1;`,
  malformed: 'this line is not a useractivitylog record',
  // A line after a record is that record's query text: only a line before the first record belongs to none.
  malformedAt: 0,
};
