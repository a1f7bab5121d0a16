import { describe, expect, it } from 'vitest';
import { autoLayout, layoutFromOption, partitionRange, templateLayout } from '../../src/ingest/layout.js';

describe('layouts', () => {
  it('reads Hive-style date folders in their common spellings', () => {
    expect(autoLayout.matchSegment('ymd=2026-11-20', 0, {})).toEqual({ year: 2026, month: 11, day: 20 });
    expect(autoLayout.matchSegment('dt=20261120', 0, {})).toEqual({ year: 2026, month: 11, day: 20 });
    expect(autoLayout.matchSegment('date=2026-11-20', 0, {})).toEqual({ year: 2026, month: 11, day: 20 });
    expect(autoLayout.matchSegment('hour=07', 1, { year: 2026, month: 11, day: 20 })).toEqual({ hour: 7 });
    expect(autoLayout.matchSegment('hh=23', 1, { year: 2026, month: 11, day: 20 })).toEqual({ hour: 23 });
  });

  it('reads path-style YYYY/MM/DD/HH folders level by level', () => {
    expect(autoLayout.matchSegment('2026', 3, {})).toEqual({ year: 2026 });
    expect(autoLayout.matchSegment('11', 4, { year: 2026 })).toEqual({ month: 11 });
    expect(autoLayout.matchSegment('20', 5, { year: 2026, month: 11 })).toEqual({ day: 20 });
    expect(autoLayout.matchSegment('07', 6, { year: 2026, month: 11, day: 20 })).toEqual({ hour: 7 });
  });

  it('sees no date in folders such as account ids or region names', () => {
    expect(autoLayout.matchSegment('AWSLogs', 0, {})).toBeNull();
    expect(autoLayout.matchSegment('123456789012', 1, {})).toBeNull();
    expect(autoLayout.matchSegment('us-east-1', 3, {})).toBeNull();
  });

  it('matches a template segment by segment', () => {
    const layout = templateLayout('logs/{yyyy}-{MM}-{dd}/{HH}');
    expect(layout.matchSegment('logs', 0, {})).toEqual({});
    expect(layout.matchSegment('2026-11-20', 1, {})).toEqual({ year: 2026, month: 11, day: 20 });
    expect(layout.matchSegment('09', 2, {})).toEqual({ hour: 9 });
    expect(layout.matchSegment('2026-11-20', 0, {})).toBeNull();
  });

  it('refuses a template with an unknown field', () => {
    expect(() => layoutFromOption('{yyyy}/{week}')).toThrow(/unknown field \{week\}/);
  });

  it('computes the range a partition covers from the fields known so far', () => {
    expect(partitionRange({ year: 2026, month: 11, day: 20 })).toEqual({ start: Date.UTC(2026, 10, 20), end: Date.UTC(2026, 10, 21) });
    expect(partitionRange({ year: 2026, month: 12 })).toEqual({ start: Date.UTC(2026, 11, 1), end: Date.UTC(2027, 0, 1) });
    expect(partitionRange({ year: 2026, month: 11, day: 20, hour: 23 })).toEqual({
      start: Date.UTC(2026, 10, 20, 23),
      end: Date.UTC(2026, 10, 21, 0),
    });
    expect(partitionRange({})).toBeNull();
  });
});
