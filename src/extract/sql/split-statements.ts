import { TokenBuffer, T_EOF, T_LPAREN, T_RPAREN, T_SEMI, T_WORD, wordIs } from './lexer.js';

// Streamed in chunks, so a huge script does not hold all its tokens at once.
const tokens = new TokenBuffer();

/**
 * Splits text holding several statements on top-level `;` — not those inside quotes,
 * comments, dollar quotes, backticks, or the `BEGIN ... END` body of a
 * `CREATE [OR REPLACE] FUNCTION|PROCEDURE` (PostgreSQL `BEGIN ATOMIC`, Trino SQL routines).
 * Returns the statements trimmed and without their `;`; empty and comment-only pieces are
 * dropped, and a comment before a statement stays with that statement. An unclosed quote,
 * comment or routine body keeps the rest of the text in its statement.
 */
export function splitStatements(sql: string): string[] {
  // Most records hold one statement: with no `;`, or only a trailing one, skip lexing.
  const semi = sql.indexOf(';');
  if (semi < 0 || semi === lastNonSpace(sql)) return single(semi < 0 ? sql : sql.slice(0, semi));

  tokens.reset(sql);
  const out: string[] = [];
  let pieceStart = 0;
  let hasToken = false;
  // Routine-body tracking, after psql's heuristic: only statements that start with
  // CREATE [OR REPLACE] FUNCTION|PROCEDURE count BEGIN/CASE ... END at paren depth 0.
  let headerWords = 0;
  let routine = 0; // 0 undecided, 1 routine, -1 anything else
  let depth = 0;
  let block = 0;
  let pendingEnd = false;

  for (let count = tokens.nextChunk(); count > 0; count = tokens.nextChunk()) {
    const types = tokens.types;
    const starts = tokens.starts;
    const ends = tokens.ends;
    for (let k = 0; k < count; k++) {
      const ty = types[k]!;
      const st = starts[k]!;
      const en = ends[k]!;
      if (pendingEnd) {
        pendingEnd = false;
        // `END IF`, `END LOOP`... close blocks that were never counted; `END CASE` closes a CASE.
        if (ty === T_WORD && isBlockSuffix(sql, st, en)) {
          if (wordIs(sql, st, en, 'case')) block--;
          continue;
        }
        block--;
      }
      if (ty === T_SEMI) {
        if (block > 0) continue;
        if (hasToken) out.push(sql.slice(pieceStart, st).trim());
        pieceStart = en;
        hasToken = false;
        headerWords = 0;
        routine = 0;
        depth = 0;
        block = 0;
        continue;
      }
      hasToken = true;
      if (ty === T_LPAREN) depth++;
      else if (ty === T_RPAREN) depth--;
      else if (ty === T_WORD && routine >= 0) {
        if (routine === 0) routine = routineHeader(sql, st, en, headerWords++);
        else if (depth === 0) {
          if (wordIs(sql, st, en, 'begin')) block++;
          else if (block > 0 && wordIs(sql, st, en, 'case')) block++;
          else if (block > 0 && wordIs(sql, st, en, 'end')) pendingEnd = true;
        }
      }
    }
  }
  if (hasToken) out.push(sql.slice(pieceStart).trim());
  return out;
}

function single(text: string): string[] {
  const t = text.trim();
  if (t === '') return [];
  // Only a comment-only text has no token; one token of lexing tells.
  tokens.reset(t, false);
  return tokens.t(0) === T_EOF ? [] : [t];
}

function lastNonSpace(s: string): number {
  let i = s.length - 1;
  while (i >= 0 && s.charCodeAt(i) <= 32) i--;
  return i;
}

/** Advances the CREATE [OR REPLACE] FUNCTION|PROCEDURE match with word number `n`. */
function routineHeader(sql: string, st: number, en: number, n: number): number {
  switch (n) {
    case 0:
      return wordIs(sql, st, en, 'create') ? 0 : -1;
    case 1:
    case 3:
      if (wordIs(sql, st, en, 'function') || wordIs(sql, st, en, 'procedure')) return 1;
      return n === 1 && wordIs(sql, st, en, 'or') ? 0 : -1;
    case 2:
      return wordIs(sql, st, en, 'replace') ? 0 : -1;
    default:
      return -1;
  }
}

function isBlockSuffix(sql: string, st: number, en: number): boolean {
  return (
    wordIs(sql, st, en, 'if') ||
    wordIs(sql, st, en, 'loop') ||
    wordIs(sql, st, en, 'while') ||
    wordIs(sql, st, en, 'repeat') ||
    wordIs(sql, st, en, 'for') ||
    wordIs(sql, st, en, 'case')
  );
}
