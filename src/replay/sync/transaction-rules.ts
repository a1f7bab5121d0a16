/**
 * Statements PostgreSQL refuses inside a transaction block (SQLSTATE 25001), and how to tell
 * after a crash whether such a statement took effect. Sync applies these alone and records
 * them in its ledger right after, so a crash between the two leaves the ledger behind the
 * catalog: `catalogCheck` closes that gap.
 */
import { T_COMMA, T_DOT, T_LPAREN, T_OP, T_QIDENT, T_RPAREN, T_STRING, T_WORD } from '../../extract/sql/lexer.js';
import { TokenBuffer, nameOf } from './sql-names.js';

const buffer = new TokenBuffer();

/** True for statements PostgreSQL refuses inside a transaction block: CREATE/DROP DATABASE, ALTER DATABASE ... SET TABLESPACE,
 *  CREATE/DROP TABLESPACE, CREATE INDEX CONCURRENTLY, DROP INDEX CONCURRENTLY, REINDEX ... CONCURRENTLY, REINDEX
 *  SCHEMA|DATABASE|SYSTEM, ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY, ALTER SYSTEM, VACUUM, CLUSTER without a table,
 *  CREATE SUBSCRIPTION unless `create_slot = false` or `connect = false`, DROP SUBSCRIPTION (whether it has a slot is not in
 *  the statement), ALTER SUBSCRIPTION ... REFRESH PUBLICATION and SET|ADD|DROP PUBLICATION unless `refresh = false`,
 *  COMMIT|ROLLBACK PREPARED, DISCARD ALL. Not CHECKPOINT, ANALYZE, REFRESH MATERIALIZED VIEW CONCURRENTLY. */
export function runsOutsideTransaction(sql: string): boolean {
  const tb = buffer;
  tb.reset(sql);
  const verb = tb.word(0);
  switch (verb) {
    case 'create':
    case 'drop': {
      let i = 1;
      if (tb.isWord(i, 'unique')) i++;
      const type = tb.word(i);
      if (type === 'database' || type === 'tablespace') return true;
      if (type === 'index') return tb.isWord(i + 1, 'concurrently');
      if (type === 'subscription') return verb === 'drop' || !hasOption(tb, ['create_slot', 'connect'], false);
      return false;
    }
    case 'alter': {
      const type = tb.word(1);
      if (type === 'system') return true;
      if (type === 'database') return findWords(tb, 2, 'set', 'tablespace');
      if (type === 'table') return findWords(tb, 2, 'detach', 'partition') && findWord(tb, 2, 'concurrently');
      if (type === 'subscription') {
        if (findWords(tb, 2, 'refresh', 'publication')) return true;
        if (findWord(tb, 2, 'publication') && !findWords(tb, 2, 'refresh', 'publication')) return !hasOption(tb, ['refresh'], false);
      }
      return false;
    }
    case 'reindex': {
      let i = 1;
      let concurrent = false;
      if (tb.t(i) === T_LPAREN) {
        const end = skipParens(tb, i);
        for (let j = i; j < end; j++) if (tb.isWord(j, 'concurrently') && !isFalse(tb, j + 1)) concurrent = true;
        i = end;
      }
      const type = tb.word(i);
      return concurrent || tb.isWord(i + 1, 'concurrently') || type === 'schema' || type === 'database' || type === 'system';
    }
    case 'vacuum':
      return true;
    case 'cluster': {
      let i = 1;
      if (tb.t(i) === T_LPAREN) i = skipParens(tb, i);
      if (tb.isWord(i, 'verbose')) i++;
      return !(tb.t(i) === T_WORD || tb.t(i) === T_QIDENT);
    }
    case 'commit':
    case 'rollback':
      return tb.isWord(1, 'prepared');
    case 'discard':
      return tb.isWord(1, 'all');
    default:
      return false;
  }
}

export interface CatalogCheck {
  /** a query returning one row with a boolean column `present` */
  sql: string;
  params: unknown[];
  /** the statement took effect when `present` equals this */
  appliedWhen: boolean;
  /** human description */
  what: string;
}

/** For a non-transactional statement that may or may not have taken effect before a crash: how to tell from the catalog.
 *  CREATE DATABASE x -> present in pg_database; DROP DATABASE [IF EXISTS] x -> absent; CREATE INDEX CONCURRENTLY [IF NOT EXISTS]
 *  name ON [ONLY] s.t -> a VALID index of that name in the table's schema (per search_path when unqualified, via to_regclass);
 *  an invalid leftover counts as not applied (see `cleanupBeforeRetry`); DROP INDEX CONCURRENTLY -> absent; CREATE/DROP
 *  TABLESPACE; CREATE/DROP SUBSCRIPTION (in the current database); COMMIT/ROLLBACK PREPARED -> the prepared transaction is gone.
 *  Null when the statement is idempotent or the catalog cannot tell (ALTER SYSTEM, VACUUM, REINDEX, CLUSTER: safe to run twice),
 *  and for unnamed CREATE INDEX CONCURRENTLY. */
export function catalogCheck(sql: string): CatalogCheck | null {
  const tb = buffer;
  tb.reset(sql);
  const verb = tb.word(0);
  if (verb === 'commit' || verb === 'rollback') {
    if (!tb.isWord(1, 'prepared')) return null;
    const gid = nameOf(tb, 2);
    if (gid === null) return null;
    return {
      sql: 'SELECT EXISTS (SELECT 1 FROM pg_prepared_xacts WHERE gid = $1) AS present',
      params: [gid],
      appliedWhen: false,
      what: `prepared transaction '${gid}' is gone`,
    };
  }
  if (verb !== 'create' && verb !== 'drop') return null;
  const create = verb === 'create';
  let i = 1;
  if (create && tb.isWord(i, 'unique')) i++;
  const type = tb.word(i);
  i++;
  switch (type) {
    case 'database':
    case 'tablespace':
    case 'subscription': {
      i = skipIfExists(tb, i);
      const name = nameOf(tb, i);
      if (name === null || tb.t(i) === T_STRING) return null;
      const q =
        type === 'database'
          ? 'SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS present'
          : type === 'tablespace'
            ? 'SELECT EXISTS (SELECT 1 FROM pg_tablespace WHERE spcname = $1) AS present'
            : 'SELECT EXISTS (SELECT 1 FROM pg_subscription s JOIN pg_database d ON d.oid = s.subdbid ' +
              'WHERE s.subname = $1 AND d.datname = current_database()) AS present';
      return { sql: q, params: [name], appliedWhen: create, what: `${type} ${name} ${create ? 'exists' : 'is gone'}` };
    }
    case 'index': {
      if (!tb.isWord(i, 'concurrently')) return null;
      const index = create ? createdIndex(tb, i + 1) : droppedIndex(tb, i + 1);
      if (index === null) return null;
      return create
        ? {
            sql: 'SELECT EXISTS (SELECT 1 FROM pg_index WHERE indexrelid = to_regclass($1) AND indisvalid) AS present',
            params: [index],
            appliedWhen: true,
            what: `index ${index} exists and is valid`,
          }
        : {
            sql: 'SELECT to_regclass($1) IS NOT NULL AS present',
            params: [index],
            appliedWhen: false,
            what: `index ${index} is gone`,
          };
    }
    default:
      return null;
  }
}

/**
 * A statement to run before retrying `sql` when `catalogCheck` said it did not take effect:
 * a failed CREATE INDEX CONCURRENTLY leaves an INVALID index of its name behind, which the
 * retry would trip over (or, with IF NOT EXISTS, silently keep). Null when nothing is left.
 */
export function cleanupBeforeRetry(sql: string): string | null {
  const tb = buffer;
  tb.reset(sql);
  if (!tb.isWord(0, 'create')) return null;
  let i = 1;
  if (tb.isWord(i, 'unique')) i++;
  if (!tb.isWord(i, 'index') || !tb.isWord(i + 1, 'concurrently')) return null;
  const index = createdIndex(tb, i + 2);
  return index === null ? null : `DROP INDEX IF EXISTS ${index}`;
}

/**
 * `"schema"."name"` (or `"name"`) of the index a CREATE INDEX CONCURRENTLY creates: it
 * goes into its table's schema. Always quoted, so to_regclass reads it exactly.
 */
function createdIndex(tb: TokenBuffer, i: number): string | null {
  i = skipIfExists(tb, i);
  if (tb.isWord(i, 'on')) return null;
  const name = nameOf(tb, i);
  if (name === null || !tb.isWord(i + 1, 'on')) return null;
  i += 2;
  if (tb.isWord(i, 'only')) i++;
  const parts: string[] = [];
  for (;;) {
    const p = nameOf(tb, i);
    if (p === null) break;
    parts.push(p);
    if (tb.t(i + 1) !== T_DOT) break;
    i += 2;
  }
  if (parts.length === 0) return null;
  const schema = parts.length >= 2 ? parts[parts.length - 2]! : null;
  return schema === null ? quote(name) : `${quote(schema)}.${quote(name)}`;
}

function droppedIndex(tb: TokenBuffer, i: number): string | null {
  i = skipIfExists(tb, i);
  const parts: string[] = [];
  for (;;) {
    const p = nameOf(tb, i);
    if (p === null) break;
    parts.push(p);
    if (tb.t(i + 1) !== T_DOT) break;
    i += 2;
  }
  // DROP INDEX CONCURRENTLY takes one index; a list would have failed on the primary.
  if (parts.length === 0 || tb.t(i + 1) === T_COMMA) return null;
  return parts.slice(-2).map(quote).join('.');
}

function quote(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function skipIfExists(tb: TokenBuffer, i: number): number {
  if (tb.isWord(i, 'if')) {
    if (tb.isWord(i + 1, 'not') && tb.isWord(i + 2, 'exists')) return i + 3;
    if (tb.isWord(i + 1, 'exists')) return i + 2;
  }
  return i;
}

function skipParens(tb: TokenBuffer, i: number): number {
  let d = 0;
  for (;; i++) {
    const t = tb.t(i);
    if (t === 0) return i;
    if (t === T_LPAREN) d++;
    else if (t === T_RPAREN && --d === 0) return i + 1;
  }
}

function findWord(tb: TokenBuffer, from: number, w: string): boolean {
  for (let i = from; tb.t(i) !== 0; i++) if (tb.isWord(i, w)) return true;
  return false;
}

function findWords(tb: TokenBuffer, from: number, a: string, b: string): boolean {
  for (let i = from; tb.t(i) !== 0; i++) if (tb.isWord(i, a) && tb.isWord(i + 1, b)) return true;
  return false;
}

function isFalse(tb: TokenBuffer, i: number): boolean {
  return tb.isWord(i, 'false') || tb.isWord(i, 'off') || tb.text(i) === '0';
}

/** Whether a `WITH (...)` option among `keys` is set to `value` (a bare option means true). */
function hasOption(tb: TokenBuffer, keys: string[], value: boolean): boolean {
  for (let i = 1; tb.t(i) !== 0; i++) {
    if (!keys.some((k) => tb.isWord(i, k))) continue;
    let j = i + 1;
    if (tb.t(j) === T_OP && tb.text(j) === '=') j++;
    const bare = tb.t(j) === T_COMMA || tb.t(j) === T_RPAREN;
    const v = bare || !(isFalse(tb, j) || /^'(false|off|0)'$/i.test(tb.text(j)));
    if (v === value) return true;
  }
  return false;
}
