/**
 * Renames schemas, roles and databases in one statement for the secondary, token by
 * token (see sql-names.ts for which tokens count as which name), so it works on any
 * statement the lexer can read and never touches strings, comments or function bodies,
 * except the string forms that are names: `SET search_path TO 'a'`, `SET SCHEMA 'a'`,
 * `SET ROLE 'r'`, `SET SESSION AUTHORIZATION 'r'`.
 *
 * Matching: unquoted names fold to lower case; quoted names match exactly, so `"Sales"`
 * is never renamed by a `sales=...` entry (the map's keys are lower case). A replacement
 * keeps the token's quoting style where it needs one: bare when it is a plain lower-case
 * non-keyword, `"double-quoted"` otherwise, `'string'` in string positions, backticks stay.
 */
import type { NameMaps } from '../name-map.js';
import { T_QIDENT, T_STRING } from '../../extract/sql/lexer.js';
import { TokenBuffer, nameOf, quoteIdent, quoteLiteral, usedAsRelationName, walkNames, type NameSink } from './sql-names.js';

export interface Rewrite {
  sql: string;
  /** human-readable, e.g. "schema sales -> sales_v2", "role alice -> alice_v2"; empty when unchanged */
  changes: string[];
}

const buffer = new TokenBuffer();

/**
 * `sql` with the schema, role and database names of `maps` replaced. Empty maps (or
 * maps that name nothing in the statement) return the input unchanged and no changes.
 */
export function rewriteNames(sql: string, maps: NameMaps): Rewrite {
  if (maps.schema.size === 0 && maps.role.size === 0 && maps.database.size === 0) return { sql, changes: [] };
  const tb = buffer;
  tb.reset(sql);
  const edits = new Map<number, string>();
  const changes: string[] = [];
  const seen = new Set<string>();
  /** Whether the statement's names as relations/aliases were computed, per name. */
  const aliasCache = new Map<string, boolean>();

  const rename = (tok: number, map: ReadonlyMap<string, string>, what: string): void => {
    if (map.size === 0 || edits.has(tok)) return;
    const name = nameOf(tb, tok);
    if (name === null) return;
    const to = map.get(name);
    if (to === undefined || to === name) return;
    const ty = tb.t(tok);
    const quote = tb.src.charCodeAt(tb.starts[tok]!);
    edits.set(
      tok,
      ty === T_STRING ? quoteLiteral(to) : ty === T_QIDENT && quote === 96 ? `\`${to.replaceAll('`', '``')}\`` : quoteIdent(to),
    );
    const change = `${what} ${name} -> ${to}`;
    if (!seen.has(change)) {
      seen.add(change);
      changes.push(change);
    }
  };

  const sink: NameSink = {
    object: (db, schema) => {
      if (db >= 0) rename(db, maps.database, 'database');
      if (schema >= 0) rename(schema, maps.schema, 'schema');
    },
    qualifier: (schema, weak) => {
      if (weak) {
        const name = nameOf(tb, schema);
        if (name === null || !maps.schema.has(name)) return;
        let alias = aliasCache.get(name);
        if (alias === undefined) {
          alias = usedAsRelationName(tb, name);
          aliasCache.set(name, alias);
        }
        // `x.col` where x is also a table or alias of this statement reads as that table's column.
        if (alias) return;
      }
      rename(schema, maps.schema, 'schema');
    },
    schema: (tok) => rename(tok, maps.schema, 'schema'),
    database: (tok) => rename(tok, maps.database, 'database'),
    role: (tok) => rename(tok, maps.role, 'role'),
  };
  walkNames(tb, sink);
  if (edits.size === 0) return { sql, changes: [] };

  const order = [...edits.keys()].sort((a, b) => a - b);
  let out = '';
  let pos = 0;
  for (const tok of order) {
    out += sql.slice(pos, tb.starts[tok]) + edits.get(tok)!;
    pos = tb.ends[tok]!;
  }
  out += sql.slice(pos);
  return { sql: out, changes };
}
