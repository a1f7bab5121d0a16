import type { DecodeSink, LineParser } from '../decoder.js';

/**
 * Parses one JSON-object line, or rejects it as malformed and returns null. Shared by
 * the JSON-lines formats so they word their rejects the same way.
 */
export function parseJsonObjectLine(text: string, lineNo: number, out: DecodeSink): Record<string, unknown> | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    out.reject(lineNo, 'malformed-line', `not valid JSON: ${(err as Error).message}`, text);
    return null;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    out.reject(lineNo, 'malformed-line', 'not a JSON object', text);
    return null;
  }
  return value as Record<string, unknown>;
}

export function str(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/** True when a line is blank; blank lines are neither events nor rejects. */
export function isBlank(text: string): boolean {
  return text.length === 0 || text.trim().length === 0;
}

/**
 * The line parser of a JSON-lines format: blank lines are passed over, a line that is not
 * a JSON object is rejected, and every record goes to `onRecord`. `end` (default: nothing)
 * flushes what the format holds back.
 */
export function jsonRecordParser(
  out: DecodeSink,
  onRecord: (record: Record<string, unknown>, text: string, lineNo: number) => void,
  end: () => void = () => {},
): LineParser {
  return {
    line(text, lineNo) {
      if (isBlank(text)) return;
      const r = parseJsonObjectLine(text, lineNo, out);
      if (r) onRecord(r, text, lineNo);
    },
    end,
  };
}
