import { describe, expect, it } from 'vitest';
import { okeraDecoder, parseRequestTime } from '../../src/ingest/decoders/okera/okera-decoder.js';
import { decodeLines, OBJECT } from './decoder-contract.js';

const EXAMPLE =
  '{"request_time":"2018-09-05 16:19:01.628368000","request_id":"97451917614274a8:bd6c2b3347c651a6","start_unix_time":1536164341628,"end_unix_time":1536164342121,"auth_failure":false,"status":"ok","user":"root","connected_user":"root","client_application":"okera-execute-ddl","statement_type":"DDL","default_db":"default","statement":"CREATE ROLE IF NOT EXISTS okera_public_role","ae_role":"okera_public_role"}';

describe('Okera decoder', () => {
  it('decodes the documented example with sub-millisecond start time', () => {
    const { events } = decodeLines(okeraDecoder, [EXAMPLE]);
    expect(events).toEqual([
      {
        id: '97451917614274a8:bd6c2b3347c651a6',
        ts: expect.closeTo(1536164341628.368, 3),
        end: 1536164342121,
        durationMs: 493,
        user: 'root',
        database: 'default',
        session: null,
        client: 'okera-execute-ddl',
        statement: 'CREATE ROLE IF NOT EXISTS okera_public_role',
        ok: true,
        error: null,
        source: { format: 'okera', object: OBJECT.name, line: 1 },
        extra: { connected_user: 'root', statement_type: 'DDL', ae_role: 'okera_public_role' },
      },
    ]);
  });

  it('reads a start record (no end time, no status) as outcome unknown', () => {
    const start = JSON.parse(EXAMPLE) as Record<string, unknown>;
    delete start.end_unix_time;
    delete start.status;
    const { events } = decodeLines(okeraDecoder, [JSON.stringify(start)]);
    expect(events[0]).toMatchObject({ ok: null, end: null, durationMs: null, error: null });
  });

  it('keeps the error text of a failed request', () => {
    const failed = { ...(JSON.parse(EXAMPLE) as object), status: 'AuthorizationException: not allowed' };
    const { events } = decodeLines(okeraDecoder, [JSON.stringify(failed)]);
    expect(events[0]).toMatchObject({ ok: false, error: 'AuthorizationException: not allowed' });
  });

  it('falls back to start_unix_time when request_time disagrees with it', () => {
    const odd = { ...(JSON.parse(EXAMPLE) as object), request_time: '2018-09-05 00:00:00.000' };
    expect(decodeLines(okeraDecoder, [JSON.stringify(odd)]).events[0]!.ts).toBe(1536164341628);
  });

  it('parses request_time as GMT with its nanosecond digits', () => {
    expect(parseRequestTime('2018-09-05 16:19:01.628368000')).toBeCloseTo(1536164341628.368, 3);
    expect(parseRequestTime('2018-09-05 16:19:01')).toBe(1536164341000);
    expect(parseRequestTime('not a time')).toBeNull();
  });
});

describe('request_time parsing across neighbouring records', () => {
  it('gives the same answers when records share a second as when each is read alone', () => {
    const times = ['2026-11-20 10:00:01.5', '2026-11-20 10:00:01.250', '2026-11-20 10:00:01', '2026-11-20 10:00:01.x', '2026-11-20 10:00:02.000500'];
    const expected = [Date.UTC(2026, 10, 20, 10, 0, 1, 500), Date.UTC(2026, 10, 20, 10, 0, 1, 250), Date.UTC(2026, 10, 20, 10, 0, 1), Date.UTC(2026, 10, 20, 10, 0, 1), Date.UTC(2026, 10, 20, 10, 0, 2) + 0.5];
    times.forEach((t, i) => expect(parseRequestTime(t)).toBeCloseTo(expected[i]!, 3));
  });
});
