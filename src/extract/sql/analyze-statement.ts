import type { EventKind } from '../../core/audit-event.js';
import { classifyTokens, type Classification } from './classify.js';
import { fingerprintTokens } from './fingerprint.js';
import { TokenBuffer } from './lexer.js';

/** Classification and fingerprint of one statement. */
export interface StatementAnalysis {
  kind: EventKind;
  command: string;
  fingerprint: string;
}

const buffer = new TokenBuffer();
const scratch: Classification = { kind: 'unknown', command: '' };

/**
 * Classifies and fingerprints one statement with a single lexing pass into a reused token
 * buffer that both the classifier and the fingerprinter then read.
 */
export function analyzeStatement(sql: string): StatementAnalysis {
  buffer.reset(sql);
  // The fingerprint needs every token anyway; lexing them up front keeps the classifier's
  // lookups on the buffer's fast path instead of interleaving lazy lexing with them.
  buffer.all();
  classifyTokens(buffer, scratch);
  return { kind: scratch.kind, command: scratch.command, fingerprint: fingerprintTokens(buffer) };
}
