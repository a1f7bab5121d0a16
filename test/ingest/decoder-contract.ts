import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BaseEvent, RejectReason } from '../../src/core/audit-event.js';
import type { Decoder, DecoderOptions } from '../../src/ingest/decoder.js';
import type { ObjectRef } from '../../src/ingest/source.js';

export interface DecoderFixture {
  /** Lines in the format, as a file would hold them. */
  lines: string[];
  /** How many events they make. */
  events: number;
  /** A record of the format with an unreadable timestamp. */
  badTimestamp: string;
  /** Settings the format needs (e.g. the stderr prefix). */
  options?: DecoderOptions;
  /** A line the format must reject (default: a truncated JSON object). */
  malformed?: string;
  /**
   * Where the malformed line goes, 0-based (default 1). Formats whose records continue
   * over following lines (stderr, Redshift) can only reject a line that no record owns.
   */
  malformedAt?: number;
}

export interface Decoded {
  events: BaseEvent[];
  rejects: { line: number; reason: RejectReason; message: string }[];
  skips: string[];
}

export const OBJECT: ObjectRef = { key: 'ymd=2026-11-20/a.log', size: null, name: 'mem://ymd=2026-11-20/a.log', minTs: -Infinity, maxTs: Infinity };

/** Feeds lines to a decoder as the pipeline does, numbering them from 1. */
export function decodeLines(decoder: Decoder, lines: string[], options: DecoderOptions = {}): Decoded {
  const out: Decoded = { events: [], rejects: [], skips: [] };
  const parser = decoder.open(
    OBJECT,
    {
      event: (e) => out.events.push(e),
      reject: (line, reason, message) => out.rejects.push({ line, reason, message }),
      skip: (reason) => out.skips.push(reason),
    },
    options,
  );
  lines.forEach((l, i) => parser.line(l, i + 1));
  parser.end();
  return out;
}

/** The contract every Decoder keeps, run against each registered one. */
export function decoderContract(decoder: Decoder, fixture: DecoderFixture, others: readonly Decoder[]): void {
  describe(`Decoder contract: ${decoder.format}`, () => {
    it('sniffs its own first line and no other format claims it', () => {
      expect(decoder.sniff(fixture.lines[0]!)).toBe(true);
      for (const other of others) expect(other.sniff(fixture.lines[0]!)).toBe(false);
    });

    it('decodes its fixture into the expected number of events with provenance', () => {
      const d = decodeLines(decoder, fixture.lines, fixture.options);
      expect(d.rejects).toEqual([]);
      expect(d.events).toHaveLength(fixture.events);
      for (const e of d.events) {
        expect(e.source.format).toBe(decoder.format);
        expect(e.source.object).toBe(OBJECT.name);
        expect(e.source.line).toBeGreaterThanOrEqual(1);
        expect(Number.isFinite(e.ts)).toBe(true);
        expect(typeof e.statement).toBe('string');
      }
    });

    it('gives the same ids on every run, so reruns see the same events', () => {
      const a = decodeLines(decoder, fixture.lines, fixture.options).events.map((e) => e.id);
      const b = decodeLines(decoder, fixture.lines, fixture.options).events.map((e) => e.id);
      expect(a).toEqual(b);
      expect(new Set(a).size).toBe(a.length);
    });

    it('rejects a malformed line with its line number and keeps decoding', () => {
      const lines = [...fixture.lines];
      const at = fixture.malformedAt ?? 1;
      lines.splice(at, 0, fixture.malformed ?? '{"truncated": ');
      const d = decodeLines(decoder, lines, fixture.options);
      expect(d.rejects).toEqual([expect.objectContaining({ line: at + 1, reason: 'malformed-line' })]);
      expect(d.events).toHaveLength(fixture.events);
    });

    it('rejects JSON that is not a record of its format instead of guessing', () => {
      const d = decodeLines(decoder, ['{"hello":"world"}'], fixture.options);
      expect(d.events).toEqual([]);
      expect(d.rejects).toEqual([expect.objectContaining({ line: 1, reason: 'malformed-line' })]);
    });

    it('rejects a record whose timestamp cannot be read', () => {
      const d = decodeLines(decoder, [fixture.badTimestamp], fixture.options);
      expect(d.events).toEqual([]);
      expect(d.rejects).toEqual([expect.objectContaining({ line: 1, reason: 'bad-timestamp' })]);
    });

    it('never throws on arbitrary text, makes no event of it, and rejects it from its first line', () => {
      fc.assert(
        fc.property(fc.array(fc.string({ unit: 'grapheme', maxLength: 80 }), { maxLength: 20 }), (lines) => {
          const d = decodeLines(decoder, lines, fixture.options);
          expect(d.events).toEqual([]);
          const nonBlank = lines.flatMap((l, i) => (l.trim() === '' ? [] : [i + 1]));
          // A record may span lines (a quoted CSV field, a stderr continuation): one reject can stand for several.
          for (const r of d.rejects) expect(nonBlank).toContain(r.line);
          if (nonBlank.length > 0) expect(d.rejects[0]?.line).toBe(nonBlank[0]);
        }),
        { numRuns: 200 },
      );
    });
  });
}
