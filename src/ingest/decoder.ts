import type { BaseEvent, RejectReason } from '../core/audit-event.js';
import type { ObjectRef } from './source.js';

/**
 * Where a decoder puts what it reads. Every line ends up in exactly one place: an
 * event, a reject (bad input), or a skip (a record that is not a statement, such as
 * a connection message), so the summary can account for every line.
 */
export interface DecodeSink {
  event(event: BaseEvent): void;
  reject(line: number, reason: RejectReason, message: string, raw: string | null): void;
  skip(reason: string): void;
}

/** The per-object state of a decoder: fed line by line, synchronously, for speed. */
export interface LineParser {
  line(text: string, lineNo: number): void;
  /** The object ended: flush whatever is still waiting for a companion record. */
  end(): void;
}

/** A log format. One instance serves every object; `open` makes the per-object parser. */
export interface Decoder {
  /** The `--format` name. */
  readonly format: string;
  readonly description: string;
  /** True when the first non-empty line of an object is in this format. */
  sniff(firstLine: string): boolean;
  open(object: ObjectRef, out: DecodeSink): LineParser;
}
