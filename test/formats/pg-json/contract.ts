import type { DecoderFixture } from '../../ingest/decoder-contract.js';
import { pgJsonLine } from '../../helpers/temp-tree.js';

/** PostgreSQL jsonlog records for the Decoder contract suite. */
export const fixture: DecoderFixture = {
  lines: [
    pgJsonLine({ line_num: 1, message: 'connection authorized: user=app database=appdb' }),
    pgJsonLine({ line_num: 2, timestamp: '2026-11-20 10:00:01.000 UTC', message: 'duration: 1.500 ms  statement: SELECT 1' }),
    pgJsonLine({ line_num: 3, timestamp: '2026-11-20 10:00:02.000 UTC', message: 'statement: CREATE TABLE t (id int)' }),
    pgJsonLine({ line_num: 4, timestamp: '2026-11-20 10:00:02.010 UTC', message: 'duration: 9.250 ms' }),
  ],
  events: 2,
  badTimestamp: pgJsonLine({ timestamp: '20/11/2026 10:00', message: 'statement: SELECT 1' }),
};
