import type { AuditEvent } from './audit-event.js';
import { jsonNumber as num, jsonString as str } from './json-text.js';

/** One AuditEvent as a JSON line, fields in the documented order. */
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
