import { TokenBuffer, T_EOF, T_SEMI, T_WORD, wordIs } from '../../extract/sql/lexer.js';

/**
 * The session state that decides how a statement resolves names and who owns what it
 * creates: the statements that set it are replayed before the DDL that depends on it.
 */
export interface SessionContext {
  /** The `SET search_path ...` statement in force, verbatim; null for the server default. */
  searchPath: string | null;
  /** `SET ROLE x` in force; null after RESET ROLE / SET ROLE NONE. */
  role: string | null;
  /** `SET SESSION AUTHORIZATION x` in force; null for the login user. */
  sessionUser: string | null;
}

export const EMPTY_CONTEXT: SessionContext = Object.freeze({ searchPath: null, role: null, sessionUser: null });

const tb = new TokenBuffer();

/**
 * The context after `sql` ran in a session whose context was `before`; `before` itself
 * when the statement does not change it. Transaction-scoped `SET LOCAL` is ignored (it
 * ends with its transaction), as are settings that do not affect DDL (statement_timeout).
 * Hive/Okera `USE db` sets the search path: on PostgreSQL a Hive database is a schema.
 */
export function nextContext(before: SessionContext, sql: string): SessionContext {
  tb.reset(sql);
  const w = (i: number, kw: string): boolean => tb.t(i) === T_WORD && wordIs(tb.src, tb.starts[i]!, tb.ends[i]!, kw);
  const text = (from: number): string => {
    let end = from;
    while (tb.t(end) !== T_EOF && tb.t(end) !== T_SEMI) end++;
    return end > from ? sql.slice(tb.starts[from], tb.ends[end - 1]) : '';
  };
  if (w(0, 'use')) {
    const name = text(1);
    return name ? { ...before, searchPath: `SET search_path TO ${name}` } : before;
  }
  if (w(0, 'discard') && w(1, 'all')) return EMPTY_CONTEXT;
  if (w(0, 'reset')) {
    if (w(1, 'all')) return EMPTY_CONTEXT;
    if (w(1, 'role')) return { ...before, role: null };
    if (w(1, 'search_path')) return { ...before, searchPath: null };
    if (w(1, 'session') && w(2, 'authorization')) return { ...before, sessionUser: null, role: null };
    return before;
  }
  if (!w(0, 'set')) return before;
  let i = 1;
  if (w(i, 'local')) return before;
  if (w(i, 'session') && !w(i + 1, 'authorization')) i++;
  if (w(i, 'search_path') || w(i, 'schema')) {
    const value = text(i + 1).replace(/^(to|=)\s*/i, '');
    if (/^default$/i.test(value)) return { ...before, searchPath: null };
    return { ...before, searchPath: w(i, 'schema') ? `SET search_path TO ${value}` : sql.slice(tb.starts[0], tb.ends[lastToken()]) };
  }
  if (w(i, 'role')) {
    const value = text(i + 1);
    return { ...before, role: /^none$/i.test(value) || value === '' ? null : value };
  }
  if (w(i, 'session') && w(i + 1, 'authorization')) {
    const value = text(i + 2);
    return /^default$/i.test(value) ? { ...before, sessionUser: null, role: null } : { ...before, sessionUser: value, role: null };
  }
  return before;
}

function lastToken(): number {
  let i = 0;
  while (tb.t(i + 1) !== T_EOF && tb.t(i + 1) !== T_SEMI) i++;
  return i;
}
