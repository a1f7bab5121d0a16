import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/core/audit-event.js';
import { auditEventToJson } from '../../src/core/audit-event-json.js';

const event = (over: Partial<AuditEvent> = {}): AuditEvent => ({
  id: 'r1',
  ts: 1795168800000.25,
  end: null,
  durationMs: null,
  user: 'alice',
  database: null,
  session: 's',
  client: null,
  statement: 'SELECT 1',
  ok: true,
  error: null,
  kind: 'query',
  command: 'SELECT',
  fingerprint: 'select ?',
  fingerprintId: '0123456789abcdef',
  source: { format: 'okera', object: 'a.log', line: 3 },
  ...over,
});

describe('auditEventToJson', () => {
  it('writes the contract fields in the documented order', () => {
    expect(Object.keys(JSON.parse(auditEventToJson(event({ extra: { ae_table: 't' } }))) as object)).toEqual([
      'id', 'ts', 'end', 'durationMs', 'user', 'database', 'session', 'client', 'statement', 'ok', 'error',
      'kind', 'command', 'fingerprint', 'fingerprintId', 'source', 'extra',
    ]);
  });

  it('escapes a lone surrogate, so the UTF-8 output keeps it', () => {
    expect(auditEventToJson(event({ statement: 'x\ud800y' }))).toContain('"statement":"x\\ud800y"');
  });

  it('round-trips any text, including quotes, backslashes, control characters and emoji', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.option(fc.string({ unit: 'grapheme' })), (statement, user) => {
        const e = event({ statement, user });
        expect(JSON.parse(auditEventToJson(e))).toEqual(e);
      }),
      { numRuns: 300 },
    );
  });
});
