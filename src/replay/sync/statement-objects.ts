import { TokenBuffer, nameOf, walkNames } from './sql-names.js';

const buffer = new TokenBuffer();

/**
 * Objects a statement touches, lower-cased, schema-qualified when the statement qualifies them ("sales.orders", "orders"),
 * plus "schema:sales" for statements on a schema itself. Empty for role-only statements (CREATE ROLE, GRANT r TO u, SET ...).
 *
 * Objects are the statement's target and every relation it names (`REFERENCES`, `FROM`,
 * `INHERITS`, `PARTITION OF`...), target first, without duplicates. A database part of a
 * 3-part name is dropped. `SET search_path` and `SET SCHEMA 'x'` name no object.
 */
export function statementObjects(sql: string): string[] {
  const tb = buffer;
  tb.reset(sql);
  const out: string[] = [];
  const add = (name: string): void => {
    if (!out.includes(name)) out.push(name);
  };
  walkNames(tb, {
    object: (_db, schema, name) => {
      const n = nameOf(tb, name);
      if (n === null) return;
      const s = schema >= 0 ? nameOf(tb, schema) : null;
      add((s === null ? n : `${s}.${n}`).toLowerCase());
    },
    schema: (tok, path) => {
      if (path) return;
      const n = nameOf(tb, tok);
      if (n !== null) add(`schema:${n.toLowerCase()}`);
    },
  });
  return out;
}
