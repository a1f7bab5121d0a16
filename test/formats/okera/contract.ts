import type { DecoderFixture } from '../../ingest/decoder-contract.js';
import { okeraLine } from '../../helpers/temp-tree.js';

const T0 = Date.UTC(2026, 10, 20, 10, 0, 0);

/** Okera records for the Decoder contract suite. */
export const fixture: DecoderFixture = {
  lines: [
    okeraLine({ request_id: 'a:1', start_unix_time: T0, statement: 'CREATE ROLE analyst' }),
    okeraLine({ request_id: 'a:2', start_unix_time: T0 + 1000, statement: 'SELECT * FROM sales.orders' }),
    okeraLine({ request_id: 'a:3', start_unix_time: T0 + 2000, status: 'AnalysisException: no table', statement: 'SELECT * FROM nope' }),
  ],
  events: 3,
  badTimestamp: JSON.stringify({ request_id: 'x', request_time: 'yesterday', statement: 'SELECT 1' }),
};
