import { AuditReplayError } from '../core/errors.js';
import type { Decoder, ObjectDecoder } from './decoder.js';
import { decoder as okera } from './decoders/okera/index.js';
import { decoder as parquet } from './decoders/parquet/index.js';
import { decoder as pgCsv } from './decoders/pg-csv/index.js';
import { decoder as pgJson } from './decoders/pg-json/index.js';
import { decoder as pgStderr } from './decoders/pg-stderr/index.js';
import { decoder as ranger } from './decoders/ranger/index.js';
import { decoder as redshift } from './decoders/redshift/index.js';
import { decoder as trino } from './decoders/trino/index.js';

/** Every line decoder, in sniffing order: the more specific formats first. */
export const DECODERS: readonly Decoder[] = [pgJson, okera, trino, ranger, pgCsv, redshift, pgStderr];

/** Every binary format, read by random access; `--format auto` tries them on an object's first bytes before any line format. */
export const OBJECT_DECODERS: readonly ObjectDecoder[] = [parquet];

/**
 * `--format parquet` passes through code that expects a line Decoder (the pipeline's
 * `prepare` loop); a stand-in carries the name there and decodeObject swaps it for the
 * ObjectDecoder. Fed lines anyway, it rejects them rather than guessing.
 */
const STAND_INS = new Map<Decoder, ObjectDecoder>(
  OBJECT_DECODERS.map((d) => [
    {
      format: d.format,
      description: d.description,
      sniff: () => false,
      open: (_object, out) => ({
        line: (text, lineNo) => out.reject(lineNo, 'unknown-format', `${d.format} is a binary format, read by random access, not by lines`, text),
        end: () => {},
      }),
    },
    d,
  ]),
);

/** The decoder named by `--format`, or null for `auto` (sniff each object). A binary format gives its stand-in (see objectDecoderOf). */
export function decoderForFormat(format: string | undefined): Decoder | null {
  if (format === undefined || format === 'auto') return null;
  const d = DECODERS.find((x) => x.format === format) ?? [...STAND_INS.keys()].find((x) => x.format === format);
  if (!d) {
    const known = [...DECODERS, ...OBJECT_DECODERS].map((x) => x.format).join(', ');
    throw new AuditReplayError('usage', `unknown --format '${format}'; known: auto, ${known}`);
  }
  return d;
}

/** The binary decoder a `decoderForFormat` result stands for, or null for a line decoder and for `auto`. */
export function objectDecoderOf(decoder: Decoder | null): ObjectDecoder | null {
  return decoder === null ? null : (STAND_INS.get(decoder) ?? null);
}

/** The binary decoder whose format an object's first bytes (its first chunk as read) are in, or null. */
export function sniffObjectDecoder(head: Buffer): ObjectDecoder | null {
  return OBJECT_DECODERS.find((d) => d.sniffBytes(head)) ?? null;
}

/** The decoder whose format the first non-empty line of an object is in, or null. */
export function sniffDecoder(firstLine: string): Decoder | null {
  return DECODERS.find((d) => d.sniff(firstLine)) ?? null;
}
