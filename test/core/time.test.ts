import { describe, expect, it } from 'vitest';
import { parseDuration, parseTime } from '../../src/core/time.js';

describe('parseTime', () => {
  const now = Date.UTC(2026, 10, 21, 12, 0, 0);

  it('reads a date as midnight UTC', () => {
    expect(parseTime('2026-11-20', now)).toBe(Date.UTC(2026, 10, 20));
  });

  it('reads ISO 8601 with and without a zone, treating no zone as UTC', () => {
    expect(parseTime('2026-11-20T10:30:00Z', now)).toBe(Date.UTC(2026, 10, 20, 10, 30));
    expect(parseTime('2026-11-20T10:30:00', now)).toBe(Date.UTC(2026, 10, 20, 10, 30));
    expect(parseTime('2026-11-20T10:30:00+02:00', now)).toBe(Date.UTC(2026, 10, 20, 8, 30));
    expect(parseTime('2026-11-20 10:30:00.250', now)).toBe(Date.UTC(2026, 10, 20, 10, 30, 0, 250));
  });

  it('reads relative times as that long before now', () => {
    expect(parseTime('24h', now)).toBe(now - 86_400_000);
    expect(parseTime('7d', now)).toBe(now - 7 * 86_400_000);
    expect(parseTime('now', now)).toBe(now);
  });

  it('refuses text that is no time, naming the accepted forms', () => {
    expect(() => parseTime('yesterday', now)).toThrow(/ISO 8601.*relative/);
    expect(() => parseTime('2026-02-30', now)).toThrow(/not a calendar date/);
  });
});

describe('parseDuration', () => {
  it('reads the usual units', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(() => parseDuration('1 fortnight')).toThrow(/cannot read duration/);
  });
});
