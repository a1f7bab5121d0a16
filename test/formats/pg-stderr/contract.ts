import type { DecoderFixture } from '../../ingest/decoder-contract.js';

/** PostgreSQL stderr lines (log_line_prefix `%m|%u|%d|%c|%l|%e|`) for the Decoder contract suite. */
export const fixture: DecoderFixture = {
  options: { pgPrefix: '%m|%u|%d|%c|%l|%e|' },
  lines: [
    '2026-11-20 10:00:00.000 UTC|app|appdb|6736a1b2.1092|1|00000|LOG:  connection authorized: user=app database=appdb',
    '2026-11-20 10:00:01.000 UTC|app|appdb|6736a1b2.1092|2|00000|LOG:  duration: 1.500 ms  statement: SELECT 1',
    '2026-11-20 10:00:02.000 UTC|app|appdb|6736a1b2.1092|3|00000|LOG:  statement: CREATE TABLE t (',
    '\t  id int',
    '\t)',
    '2026-11-20 10:00:02.010 UTC|app|appdb|6736a1b2.1092|4|00000|LOG:  duration: 9.250 ms',
    '2026-11-20 10:00:03.000 UTC|app|appdb|6736a1b2.1092|5|42P01|ERROR:  relation "nope" does not exist at character 15',
    '2026-11-20 10:00:03.000 UTC|app|appdb|6736a1b2.1092|6|42P01|STATEMENT:  SELECT * FROM nope',
  ],
  events: 3,
  badTimestamp: '2026-11-20 10:00:00.000 CET|app|appdb|6736a1b2.1092|1|00000|LOG:  statement: SELECT 1',
};
