import type { DecoderFixture } from '../../ingest/decoder-contract.js';
import { csvlogLines, csvlogRecord } from './csvlog-line.js';

/** PostgreSQL csvlog records for the Decoder contract suite. */
export const fixture: DecoderFixture = {
  lines: csvlogLines(
    csvlogRecord({ session_line_num: 1, message: 'connection authorized: user=app database=appdb application_name=psql' }),
    csvlogRecord({ session_line_num: 2, log_time: '2026-11-20 10:00:01.000 UTC', message: 'duration: 1.500 ms  statement: SELECT 1' }),
    csvlogRecord({ session_line_num: 3, log_time: '2026-11-20 10:00:02.000 UTC', message: 'statement: CREATE TABLE t (\n  id int,\n  "v, w" text\n)' }),
    csvlogRecord({ session_line_num: 4, log_time: '2026-11-20 10:00:02.010 UTC', message: 'duration: 9.250 ms' }),
  ),
  events: 2,
  badTimestamp: csvlogRecord({ log_time: '20/11/2026 10:00', message: 'statement: SELECT 1' }),
};
