import { describe, expect, it } from 'vitest';
import { parsePgTime } from '../../src/ingest/decoders/pg-common/pg-time.js';
import { parsePgTimestamp } from '../../src/ingest/decoders/pg-timestamp.js';

describe('parsePgTime', () => {
  it('reads the %m and %t forms in UTC, GMT, Z and numeric offsets', () => {
    expect(parsePgTime('2026-11-20 10:00:00.123 UTC')).toBe(Date.UTC(2026, 10, 20, 10, 0, 0, 123));
    expect(parsePgTime('2026-11-20 10:00:00 GMT')).toBe(Date.UTC(2026, 10, 20, 10));
    expect(parsePgTime('2026-11-20T10:00:00.5Z')).toBe(Date.UTC(2026, 10, 20, 10, 0, 0, 500));
    expect(parsePgTime('2026-11-20 12:00:00 +02')).toBe(Date.UTC(2026, 10, 20, 10));
    expect(parsePgTime('2026-11-20 05:30:00 -0430')).toBe(Date.UTC(2026, 10, 20, 10));
    expect(parsePgTime('2026-11-20 15:30:00 +05:30')).toBe(Date.UTC(2026, 10, 20, 10));
    expect(parsePgTime('2026-11-20 10:00:00.123456 UTC')).toBeCloseTo(Date.UTC(2026, 10, 20, 10) + 123.456, 3);
  });

  it('reads a timestamp inside a line, between offsets', () => {
    const line = 'x|2026-11-20 10:00:01.250 UTC|app';
    expect(parsePgTime(line, 2, 29)).toBe(Date.UTC(2026, 10, 20, 10, 0, 1, 250));
  });

  it('refuses ambiguous zone names, impossible fields and other shapes; a missing zone is UTC unless one is required', () => {
    for (const bad of ['2026-11-20 10:00:00 CET', '2026-13-20 10:00:00 UTC', '2026-11-20 10:61:00 UTC', '2026-11-20 10:00:00. UTC', '20/11/2026 10:00', 'yesterday', '2026-11-20 10:00:00 +2']) {
      expect({ bad, ms: parsePgTime(bad) }).toEqual({ bad, ms: null });
    }
    expect(parsePgTime('2026-11-20 10:00:00')).toBe(Date.UTC(2026, 10, 20, 10));
    expect(parsePgTime('2026-11-20 10:00:00', 0, undefined, true)).toBeNull();
  });

  it('gives the same result as the regex reader whatever came before it', () => {
    const samples = ['2026-11-20 10:00:00.001 UTC', '2026-11-20 10:00:00.999 UTC', '2026-11-20 10:00:01.000 +01', '2026-11-20 10:00:01.000 UTC', '2026-12-31 23:59:59.999 UTC', '2027-01-01 00:00:00.000 -03', '2026-11-20 10:00:00.001 UTC'];
    for (let round = 0; round < 2; round++) for (const s of samples) expect(parsePgTime(s)).toBe(parsePgTimestamp(s));
  });
});
