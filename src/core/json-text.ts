// JSON must escape control characters, so the pattern has to name them. Surrogates go the
// slow way too: JSON.stringify escapes a lone one, which UTF-8 output would otherwise mangle.
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * A string (or null) as JSON text. The record writers build lines by hand because
 * JSON.stringify of whole records was the costliest step of extract; most values need
 * no escaping, and a regex test is cheaper than JSON.stringify's own scan.
 */
export const jsonString = (s: string | null): string => (s === null ? 'null' : NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`);

/** A number as JSON text; null, NaN and infinities become null. */
export const jsonNumber = (n: number | null): string => (n === null || !Number.isFinite(n) ? 'null' : String(n));
