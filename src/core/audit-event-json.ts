import type { AuditEvent } from './audit-event.js';

// JSON must escape control characters, so the pattern has to name them. Surrogates go the
// slow way too: JSON.stringify escapes a lone one, which UTF-8 output would otherwise mangle.
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;
// Most values need no escaping, and a regex test is cheaper than JSON.stringify's own scan.
const str = (s: string | null): string => (s === null ? 'null' : NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`);
const num = (n: number | null): string => (n === null || !Number.isFinite(n) ? 'null' : String(n));

/**
 * One AuditEvent as a JSON line, fields in the documented order. Written by hand
 * because generic JSON.stringify of the whole record was the costliest step of
 * extract; only strings go through JSON.stringify, for their escaping.
 */
export function auditEventToJson(e: AuditEvent): string {
  let out =
    `{"id":${str(e.id)},"ts":${num(e.ts)},"end":${num(e.end)},"durationMs":${num(e.durationMs)}` +
    `,"user":${str(e.user)},"database":${str(e.database)},"session":${str(e.session)},"client":${str(e.client)}` +
    `,"statement":${str(e.statement)},"ok":${e.ok === null ? 'null' : e.ok ? 'true' : 'false'},"error":${str(e.error)}` +
    `,"kind":"${e.kind}","command":${str(e.command)},"fingerprint":${str(e.fingerprint)},"fingerprintId":"${e.fingerprintId}"` +
    `,"source":{"format":${str(e.source.format)},"object":${str(e.source.object)},"line":${e.source.line}}`;
  if (e.extra !== undefined) out += `,"extra":${JSON.stringify(e.extra)}`;
  return out + '}';
}
