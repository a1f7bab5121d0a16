import { TokenBuffer, T_COMMA, T_EOF, T_SEMI, T_WORD, wordIs } from '../../extract/sql/lexer.js';
import { nameOf } from './sql-names.js';

/**
 * The session state that decides how a statement resolves names and who owns what it
 * creates: the statements that set it are replayed before the DDL that depends on it.
 */
export interface SessionContext {
  /** The `SET search_path ...` statement in force, verbatim; null for the server default. */
  searchPath: string | null;
  /** The schemas of that search path as the catalog names them (`$user` left out). */
  searchPathSchemas: readonly string[];
  /** The role of `SET ROLE x` in force, as the catalog names it; null after RESET ROLE / SET ROLE NONE. */
  role: string | null;
  /** The user of `SET SESSION AUTHORIZATION x` in force, as the catalog names it; null for the login user. */
  sessionUser: string | null;
}

export const EMPTY_CONTEXT: SessionContext = Object.freeze({ searchPath: null, searchPathSchemas: Object.freeze([]), role: null, sessionUser: null });

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
  /** The statement's text from token `from` to its end. */
  const text = (from: number): string => {
    let end = from;
    while (tb.t(end) !== T_EOF && tb.t(end) !== T_SEMI) end++;
    return end > from ? sql.slice(tb.starts[from], tb.ends[end - 1]) : '';
  };
  /** The names of the comma-separated list that starts at token `from`. */
  const names = (from: number): string[] => {
    const out: string[] = [];
    for (let i = from; tb.t(i) !== T_EOF && tb.t(i) !== T_SEMI; i++) {
      if (tb.t(i) === T_COMMA) continue;
      const name = nameOf(tb, i);
      if (name !== null && name !== '$user') out.push(name);
    }
    return out;
  };
  if (w(0, 'use')) {
    const name = text(1);
    return name ? { ...before, searchPath: `SET search_path TO ${name}`, searchPathSchemas: names(1) } : before;
  }
  if (w(0, 'discard') && w(1, 'all')) return EMPTY_CONTEXT;
  if (w(0, 'reset')) {
    if (w(1, 'all')) return EMPTY_CONTEXT;
    if (w(1, 'role')) return { ...before, role: null };
    if (w(1, 'search_path')) return { ...before, searchPath: null, searchPathSchemas: [] };
    if (w(1, 'session') && w(2, 'authorization')) return { ...before, sessionUser: null, role: null };
    return before;
  }
  if (!w(0, 'set')) return before;
  let i = 1;
  if (w(i, 'local')) return before;
  if (w(i, 'session') && !w(i + 1, 'authorization')) i++;
  if (w(i, 'search_path') || w(i, 'schema')) {
    const from = w(i + 1, 'to') || (tb.t(i + 1) !== T_WORD && text(i + 1).startsWith('=')) ? i + 2 : i + 1;
    const value = text(from);
    if (/^default$/i.test(value)) return { ...before, searchPath: null, searchPathSchemas: [] };
    return { ...before, searchPath: w(i, 'schema') ? `SET search_path TO ${value}` : text(0), searchPathSchemas: names(from) };
  }
  if (w(i, 'role')) {
    const role = nameOf(tb, i + 1);
    return { ...before, role: role === null || (tb.t(i + 1) === T_WORD && role === 'none') ? null : role };
  }
  if (w(i, 'session') && w(i + 1, 'authorization')) {
    const user = nameOf(tb, i + 2);
    return user === null || (tb.t(i + 2) === T_WORD && user === 'default') ? { ...before, sessionUser: null, role: null } : { ...before, sessionUser: user, role: null };
  }
  return before;
}
