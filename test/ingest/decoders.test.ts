import { describe, expect, it } from 'vitest';
import { DECODERS, decoderForFormat, sniffDecoder } from '../../src/ingest/decoder-registry.js';
import { decoderContract, type DecoderFixture } from './decoder-contract.js';

/**
 * Every registered decoder runs the contract suite on the fixture in
 * test/formats/<format>/contract.ts; a decoder added without one fails here.
 */
const fixtures = new Map<string, DecoderFixture>();
for (const d of DECODERS) {
  try {
    fixtures.set(d.format, ((await import(`../formats/${d.format}/contract.ts`)) as { fixture: DecoderFixture }).fixture);
  } catch {
    // reported by the test below
  }
}

it('has a contract fixture for every registered decoder', () => {
  expect(DECODERS.filter((d) => !fixtures.has(d.format)).map((d) => d.format)).toEqual([]);
});

for (const decoder of DECODERS) {
  const fixture = fixtures.get(decoder.format);
  if (fixture) decoderContract(decoder, fixture, DECODERS.filter((d) => d !== decoder));
}

describe('decoder registry', () => {
  it('sniffs each format from the first line of its fixture', () => {
    for (const [format, fixture] of fixtures) expect(sniffDecoder(fixture.lines[0]!)?.format).toBe(format);
  });

  it('sniffs nothing from text in no known format', () => {
    expect(sniffDecoder('{"some":"json"}')).toBeNull();
    expect(sniffDecoder('id,when,what')).toBeNull();
  });

  it('names the known formats when --format is unknown', () => {
    expect(() => decoderForFormat('csv')).toThrow(/unknown --format 'csv'; known: auto, /);
    expect(decoderForFormat('auto')).toBeNull();
  });
});
