import { describe, expect, it } from 'vitest';
import { DECODERS, decoderForFormat, sniffDecoder } from '../../src/ingest/decoder-registry.js';
import { okeraLine, pgJsonLine } from '../helpers/temp-tree.js';
import { decoderContract, type DecoderFixture } from './decoder-contract.js';

const T0 = Date.UTC(2026, 10, 20, 10, 0, 0);

/** One fixture per registered decoder; a decoder added without one fails the check below. */
const FIXTURES: Record<string, DecoderFixture> = {
  okera: {
    lines: [
      okeraLine({ request_id: 'a:1', start_unix_time: T0, statement: 'CREATE ROLE analyst' }),
      okeraLine({ request_id: 'a:2', start_unix_time: T0 + 1000, statement: 'SELECT * FROM sales.orders' }),
      okeraLine({ request_id: 'a:3', start_unix_time: T0 + 2000, status: 'AnalysisException: no table', statement: 'SELECT * FROM nope' }),
    ],
    events: 3,
    badTimestamp: JSON.stringify({ request_id: 'x', request_time: 'yesterday', statement: 'SELECT 1' }),
  },
  'pg-json': {
    lines: [
      pgJsonLine({ line_num: 1, message: 'connection authorized: user=app database=appdb' }),
      pgJsonLine({ line_num: 2, timestamp: '2026-11-20 10:00:01.000 UTC', message: 'duration: 1.500 ms  statement: SELECT 1' }),
      pgJsonLine({ line_num: 3, timestamp: '2026-11-20 10:00:02.000 UTC', message: 'statement: CREATE TABLE t (id int)' }),
      pgJsonLine({ line_num: 4, timestamp: '2026-11-20 10:00:02.010 UTC', message: 'duration: 9.250 ms' }),
    ],
    events: 2,
    badTimestamp: pgJsonLine({ timestamp: '20/11/2026 10:00', message: 'statement: SELECT 1' }),
  },
};

it('has a contract fixture for every registered decoder', () => {
  expect(Object.keys(FIXTURES).sort()).toEqual(DECODERS.map((d) => d.format).sort());
});

for (const decoder of DECODERS) {
  decoderContract(
    decoder,
    FIXTURES[decoder.format]!,
    DECODERS.filter((d) => d !== decoder),
  );
}

describe('decoder registry', () => {
  it('sniffs each format from its first line and nothing from other text', () => {
    expect(sniffDecoder(FIXTURES.okera!.lines[0]!)?.format).toBe('okera');
    expect(sniffDecoder(FIXTURES['pg-json']!.lines[0]!)?.format).toBe('pg-json');
    expect(sniffDecoder('2026-11-20 10:00:00 UTC [123] LOG:  statement: SELECT 1')).toBeNull();
    expect(sniffDecoder('{"some":"json"}')).toBeNull();
  });

  it('names the known formats when --format is unknown', () => {
    expect(() => decoderForFormat('csv')).toThrow(/unknown --format 'csv'; known: auto, pg-json, okera/);
    expect(decoderForFormat('auto')).toBeNull();
  });
});
