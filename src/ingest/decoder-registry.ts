import { AuditReplayError } from '../core/errors.js';
import type { Decoder } from './decoder.js';
import { decoder as okera } from './decoders/okera/index.js';
import { decoder as pgJson } from './decoders/pg-json/index.js';

/** Every decoder, in sniffing order: the more specific formats first. */
export const DECODERS: readonly Decoder[] = [pgJson, okera];

/** The decoder named by `--format`, or null for `auto` (sniff each object). */
export function decoderForFormat(format: string | undefined): Decoder | null {
  if (format === undefined || format === 'auto') return null;
  const d = DECODERS.find((x) => x.format === format);
  if (!d) {
    throw new AuditReplayError('usage', `unknown --format '${format}'; known: auto, ${DECODERS.map((x) => x.format).join(', ')}`);
  }
  return d;
}

/** The decoder whose format the first non-empty line of an object is in, or null. */
export function sniffDecoder(firstLine: string): Decoder | null {
  return DECODERS.find((d) => d.sniff(firstLine)) ?? null;
}
