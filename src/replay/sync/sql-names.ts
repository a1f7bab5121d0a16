/**
 * Where names sit in a DDL/DCL statement, found with the lexer alone (no parse tree), so
 * that renaming, object filtering and the DCL guard agree on one reading of a statement.
 *
 * `walkNames` reports, per statement of the buffer (split at `;`):
 * - objects in object position (`CREATE TABLE s.t`, `FROM s.t`, `GRANT ... ON s.t`,
 *   `CREATE INDEX ... ON s.t`, `REFERENCES s.t`, `COMMENT ON COLUMN s.t.c`...),
 * - schema qualifiers elsewhere (`s.f(...)`, `::s.type`, `s.t.col`, and `x.y` that may
 *   be an alias: `weak`, so the caller can check the alias first),
 * - schema names (`CREATE SCHEMA x`, `ON SCHEMA a, b`, `IN SCHEMA x`, `SET SCHEMA x`,
 *   `SET search_path TO a, 'b'`), database names, and role names with how they are used.
 *
 * Reading rules where SQL is ambiguous without a catalog: a 3-part name in object
 * position is `db.schema.object`, elsewhere `schema.table.column` (always so after
 * `COMMENT ON COLUMN` and `OWNED BY`). Unknown statements produce only qualifiers.
 */
import { TokenBuffer, T_COMMA, T_DOT, T_EOF, T_LPAREN, T_OP, T_QIDENT, T_RPAREN, T_SEMI, T_STRING, T_WORD } from '../../extract/sql/lexer.js';

export { TokenBuffer };

/** How a statement uses a role name; the DCL guard decides which uses it refuses. */
export type RoleUse =
  | 'create'
  | 'alter'
  | 'rename'
  | 'drop'
  /** CREATE ROLE x IN ROLE r: x becomes a member of r. */
  | 'member-of'
  /** CREATE ROLE x ROLE|USER r, ALTER GROUP x ADD|DROP USER r: r becomes (or stops being) a member of x. */
  | 'member'
  /** CREATE ROLE x ADMIN r: r becomes a member of x with the admin option. */
  | 'admin'
  /** GRANT r TO u / REVOKE r FROM u: the role whose membership is given or taken. */
  | 'granted'
  /** GRANT ... TO u / REVOKE ... FROM u. */
  | 'grantee'
  | 'grantor'
  | 'owner'
  | 'set-role'
  | 'default-privileges'
  | 'reassign'
  | 'drop-owned'
  | 'policy'
  | 'user-mapping'
  | 'comment';

/** Receives the names `walkNames` finds; token indices refer to the walked buffer. */
export interface NameSink {
  /** An object name: `db`/`schema` are -1 when the statement does not give them. */
  object?(db: number, schema: number, name: number): void;
  /** A schema qualifier outside object position; `weak` when it may be a table alias instead. */
  qualifier?(schema: number, weak: boolean): void;
  /** A schema name on its own; `path` for the entries of `SET search_path`/`SET SCHEMA` (which may be strings). */
  schema?(tok: number, path: boolean): void;
  database?(tok: number): void;
  role?(tok: number, use: RoleUse): void;
}

/**
 * Keywords PostgreSQL's quote_ident quotes (reserved, type/function-name and column-name
 * keywords, PostgreSQL 18); unreserved keywords are valid bare identifiers everywhere.
 */
const QUOTE_KEYWORDS = new Set(
  (
    'all analyse analyze and any array as asc asymmetric both case cast check collate column constraint create ' +
    'current_catalog current_date current_role current_time current_timestamp current_user default deferrable desc ' +
    'distinct do else end except false fetch for foreign from grant group having in initially intersect into lateral ' +
    'leading limit localtime localtimestamp not null offset on only or order placing primary references returning ' +
    'select session_user some symmetric system_user table then to trailing true union unique user using variadic when ' +
    'where window with authorization binary collation concurrently cross current_schema freeze full ilike inner is ' +
    'isnull join left like natural notnull outer overlaps right similar tablesample verbose between bigint bit boolean ' +
    'char character coalesce dec decimal exists extract float greatest grouping inout int integer interval json ' +
    'json_array json_arrayagg json_exists json_object json_objectagg json_query json_scalar json_serialize json_table ' +
    'json_value least merge_action national nchar none normalize nullif numeric out overlay position precision real ' +
    'row setof smallint substring time timestamp treat trim values varchar xmlattributes xmlconcat xmlelement ' +
    'xmlexists xmlforest xmlnamespaces xmlparse xmlpi xmlroot xmlserialize xmltable'
  ).split(' '),
);

/** `name` as SQL: bare when it is a plain lower-case identifier and no keyword, else double-quoted. */
export function quoteIdent(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) && !QUOTE_KEYWORDS.has(name) ? name : `"${name.replaceAll('"', '""')}"`;
}

/** `text` as a standard SQL string literal. */
export function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/**
 * The catalog name of identifier or string token `i`: unquoted words fold to lower case,
 * `"x"` and `'x'` keep their text, Hive backticks fold (Hive names are case-insensitive).
 * Null for tokens that are no plain name (`U&"..."`, `E'...'`, dollar quotes, operators).
 */
export function nameOf(tb: TokenBuffer, i: number): string | null {
  const ty = tb.t(i);
  const s = tb.src;
  const a = tb.starts[i]!;
  const b = tb.ends[i]!;
  if (ty === T_WORD) return s.slice(a, b).toLowerCase();
  const q = s.charCodeAt(a);
  if (b - a < 2 || s.charCodeAt(b - 1) !== q) return null;
  if (ty === T_QIDENT) {
    if (q === 34) return s.slice(a + 1, b - 1).replaceAll('""', '"');
    if (q === 96) return s.slice(a + 1, b - 1).replaceAll('``', '`').toLowerCase();
    return null;
  }
  if (ty === T_STRING && q === 39) return s.slice(a + 1, b - 1).replaceAll("''", "'");
  return null;
}

/** Whether token `i` can be a name: an unquoted word or a quoted identifier. */
function isIdent(tb: TokenBuffer, i: number): boolean {
  const ty = tb.t(i);
  return ty === T_WORD || ty === T_QIDENT;
}

/** Role specifications that are not role names. */
const ROLE_KEYWORDS = new Set(['public', 'current_user', 'session_user', 'current_role', 'none', 'all', 'default']);

/** Whether token `i` names a real role (not PUBLIC, CURRENT_USER, ...). */
function isRoleName(tb: TokenBuffer, i: number): boolean {
  const ty = tb.t(i);
  if (ty === T_QIDENT) return true;
  return ty === T_WORD && !ROLE_KEYWORDS.has(tb.word(i));
}

/** Object types whose names are not schema-qualified: their names are not objects. */
const UNQUALIFIED_TYPES = new Set([
  'tablespace',
  'server',
  'extension',
  'language',
  'publication',
  'subscription',
  'wrapper',
  'method',
  'cast',
  'transform',
  'trigger',
  'policy',
  'rule',
  'mapping',
  'privileges',
  'owned',
  'system',
  'session',
  'object',
  'parameter',
  'database',
  'schema',
  'schemas',
  'role',
  'user',
  'group',
  'constraint',
]);

/** Modifiers between CREATE/ALTER/DROP and the object type. */
const MODIFIERS = new Set([
  'or',
  'replace',
  'temp',
  'temporary',
  'global',
  'local',
  'unlogged',
  'unique',
  'materialized',
  'foreign',
  'external',
  'recursive',
  'trusted',
  'procedural',
  'constraint',
  'default',
  'event',
  'text',
  'search',
  'data',
  'access',
  'large',
  'operator',
]);

/** Functions whose parentheses hold `FROM` as a keyword, not a relation. */
const FROM_FUNCTIONS = new Set(['extract', 'substring', 'trim', 'overlay', 'position', 'normalize']);

/** Walks each statement in `tb` (reset by the caller) and reports its names to `sink`. */
export function walkNames(tb: TokenBuffer, sink: NameSink): void {
  const n = tb.all();
  let s = 0;
  while (s < n) {
    let e = s;
    while (e < n && tb.t(e) !== T_SEMI) e++;
    if (e > s) new StatementWalker(tb, s, e, sink).run();
    s = e + 1;
  }
}

class StatementWalker {
  /** Tokens already reported, so generic rules skip what statement rules took. */
  private readonly taken = new Set<number>();

  constructor(
    private readonly tb: TokenBuffer,
    private readonly s: number,
    private readonly e: number,
    private readonly sink: NameSink,
  ) {}

  private w(i: number): string {
    return i >= this.s && i < this.e ? this.tb.word(i) : '';
  }

  private ty(i: number): number {
    return i >= this.s && i < this.e ? this.tb.t(i) : T_EOF;
  }

  private ident(i: number): boolean {
    return i >= this.s && i < this.e && isIdent(this.tb, i);
  }

  run(): void {
    const { s } = this;
    const verb = this.w(s);
    if (verb === 'create' || verb === 'alter' || verb === 'drop') this.header(s);
    else if (verb === 'grant' || verb === 'revoke') this.grant(s);
    else if (verb === 'comment' || verb === 'security') this.commentOn(s);
    else if (verb === 'reassign' && this.w(s + 1) === 'owned' && this.w(s + 2) === 'by') {
      const j = this.roleList(s + 3, 'reassign');
      if (this.w(j) === 'to') this.roleList(j + 1, 'reassign');
    } else if (verb === 'set') this.setStmt(s + 1);
    else if (verb === 'import' && this.w(s + 1) === 'foreign' && this.w(s + 2) === 'schema') {
      // The remote schema lives on the other server; only the local one after INTO is ours.
      this.taken.add(s + 3);
      for (let i = s + 4; i < this.e; i++) if (this.w(i) === 'into' && this.ident(i + 1)) this.schemaName(i + 1);
    }
    this.generic();
  }

  /** Reports a schema name once. */
  private schemaName(i: number, path = false): void {
    if (this.taken.has(i)) return;
    this.taken.add(i);
    this.sink.schema?.(i, path);
  }

  private roleName(i: number, use: RoleUse): void {
    if (this.taken.has(i)) return;
    this.taken.add(i);
    if (isRoleName(this.tb, i) || this.tb.t(i) === T_STRING) this.sink.role?.(i, use);
  }

  /** `role [, role ...]` from `i` (skipping Hive's `ROLE|USER|GROUP` prefix); returns the index after it. */
  private roleList(i: number, use: RoleUse): number {
    for (;;) {
      const k = this.w(i);
      if ((k === 'role' || k === 'user' || k === 'group') && this.ident(i + 1) && this.ty(i + 2) !== T_DOT) i++;
      if (!this.ident(i)) return i;
      this.roleName(i, use);
      i++;
      if (this.ty(i) !== T_COMMA) return i;
      i++;
    }
  }

  /** `schema [, schema ...]` from `i`; returns the index after it. */
  private schemaList(i: number): number {
    for (;;) {
      if (!this.ident(i)) return i;
      this.schemaName(i);
      i++;
      if (this.ty(i) !== T_COMMA) return i;
      i++;
    }
  }

  /** Skips `IF [NOT] EXISTS`. */
  private skipIfExists(i: number): number {
    if (this.w(i) === 'if') {
      if (this.w(i + 1) === 'not' && this.w(i + 2) === 'exists') return i + 3;
      if (this.w(i + 1) === 'exists') return i + 2;
    }
    return i;
  }

  /**
   * A dotted name at `i` in object position: reports it and returns the index after it
   * (or `i` when there is no name). `columnLast` reads 3 parts as schema.table.column.
   */
  private objectName(i: number, columnLast = false): number {
    if (!this.ident(i)) return i;
    const parts = [i];
    let j = i + 1;
    while (this.ty(j) === T_DOT && this.ident(j + 1) && parts.length < 4) {
      parts.push(j + 1);
      j += 2;
    }
    for (const p of parts) this.taken.add(p);
    const c = parts.length;
    if (columnLast) {
      // [db.]schema.table.column or table.column
      if (c === 4) {
        this.sink.database?.(parts[0]!);
        this.sink.object?.(-1, parts[1]!, parts[2]!);
      } else if (c === 3) this.sink.object?.(-1, parts[0]!, parts[1]!);
      else if (c === 2) this.sink.object?.(-1, -1, parts[0]!);
    } else if (c === 3) {
      this.sink.database?.(parts[0]!);
      this.sink.object?.(-1, parts[1]!, parts[2]!);
    } else if (c === 2) this.sink.object?.(-1, parts[0]!, parts[1]!);
    else if (c === 1) this.sink.object?.(-1, -1, parts[0]!);
    return j;
  }

  /** A comma list of object names; a function's `(args)` after a name is skipped. */
  private objectList(i: number): number {
    for (;;) {
      const j = this.objectName(i);
      if (j === i) return i;
      i = this.skipParens(j);
      if (this.ty(i) !== T_COMMA) return i;
      i++;
    }
  }

  private skipParens(i: number): number {
    if (this.ty(i) !== T_LPAREN) return i;
    let d = 0;
    for (; i < this.e; i++) {
      const t = this.tb.t(i);
      if (t === T_LPAREN) d++;
      else if (t === T_RPAREN && --d === 0) return i + 1;
    }
    return i;
  }

  /** CREATE / ALTER / DROP: the object type decides what kind of name follows. */
  private header(s: number): void {
    const verb = this.w(s);
    let i = s + 1;
    while (MODIFIERS.has(this.w(i)) && this.ident(i + 1)) {
      // `DEFAULT PRIVILEGES` and `TEXT SEARCH ...` are types, the words in MODIFIERS only lead to them.
      if (this.w(i) === 'default' && this.w(i + 1) === 'privileges') {
        i++;
        break;
      }
      i++;
    }
    const type = this.w(i);
    i++;
    if (type === 'index' && this.w(i) === 'concurrently') i++;
    i = this.skipIfExists(i);
    switch (type) {
      case 'schema': {
        if (verb === 'create') {
          if (this.w(i) !== 'authorization') this.schemaName(i);
        } else if (verb === 'drop') this.schemaList(i);
        else {
          this.schemaName(i);
          if (this.w(i + 1) === 'rename' && this.w(i + 2) === 'to') this.schemaName(i + 3);
        }
        return;
      }
      case 'database':
        if (this.ident(i)) this.sink.database?.(i);
        this.taken.add(i);
        if (verb === 'alter' && this.w(i + 1) === 'rename' && this.w(i + 2) === 'to' && this.ident(i + 3)) {
          this.taken.add(i + 3);
          this.sink.database?.(i + 3);
        }
        return;
      case 'role':
      case 'user':
      case 'group':
        if (this.w(i) === 'mapping') return this.userMapping(i + 1);
        return this.roleStmt(verb, i);
      case 'owned':
        if (verb === 'drop' && this.w(i) === 'by') this.roleList(i + 1, 'drop-owned');
        return;
      case 'privileges':
        return this.defaultPrivileges(i);
      case 'index':
        if (verb === 'create') {
          // The index name takes its table's schema; the table after ON is the object.
          if (this.w(i) !== 'on') this.taken.add(i);
          for (let j = i; j < this.e; j++) {
            if (this.w(j) === 'on') {
              this.objectName(this.w(j + 1) === 'only' ? j + 2 : j + 1);
              return;
            }
          }
          return;
        }
        this.objectList(i);
        return;
      case 'trigger':
      case 'policy':
      case 'rule':
        this.taken.add(i);
        return this.onTable(i + 1, type === 'policy');
      default:
        if (type === '' || UNQUALIFIED_TYPES.has(type)) return;
        if (this.w(i) === 'only') i++;
        if (verb === 'drop') this.objectList(i);
        else this.objectName(i);
    }
  }

  /** `... ON table` of triggers, policies and rules; policies' `TO roles` too. */
  private onTable(i: number, policy: boolean): void {
    for (let j = i; j < this.e; j++) {
      if (this.w(j) === 'on') {
        j = this.objectName(this.w(j + 1) === 'only' ? j + 2 : j + 1);
        if (!policy) return;
        for (; j < this.e; j++) {
          if (this.w(j) === 'to' && this.w(j - 1) !== 'rename') {
            this.roleList(j + 1, 'policy');
            return;
          }
          if (this.w(j) === 'using' || this.w(j) === 'with') return;
        }
        return;
      }
    }
  }

  private userMapping(i: number): void {
    i = this.skipIfExists(i);
    if (this.w(i) === 'for') this.roleName(i + 1, 'user-mapping');
  }

  /** CREATE / ALTER / DROP ROLE | USER | GROUP. */
  private roleStmt(verb: string, i: number): void {
    if (verb === 'drop') {
      this.roleList(i, 'drop');
      return;
    }
    if (verb === 'alter' && this.w(i) === 'all') return;
    this.roleName(i, verb === 'create' ? 'create' : 'alter');
    let j = i + 1;
    if (verb === 'alter') {
      if (this.w(j) === 'rename' && this.w(j + 1) === 'to') {
        this.roleName(j + 2, 'rename');
        return;
      }
      if ((this.w(j) === 'add' || this.w(j) === 'drop') && this.w(j + 1) === 'user') {
        this.roleList(j + 2, 'member');
        return;
      }
      if (this.w(j) === 'in' && this.w(j + 1) === 'database' && this.ident(j + 2)) {
        this.taken.add(j + 2);
        this.sink.database?.(j + 2);
      }
      return;
    }
    // CREATE ROLE options: only the role lists matter here.
    for (; j < this.e; j++) {
      const k = this.w(j);
      if (k === 'in' && (this.w(j + 1) === 'role' || this.w(j + 1) === 'group')) j = this.roleList(j + 2, 'member-of') - 1;
      else if (k === 'role' || k === 'user') j = this.roleList(j + 1, 'member') - 1;
      else if (k === 'admin') j = this.roleList(j + 1, 'admin') - 1;
    }
  }

  /** ALTER DEFAULT PRIVILEGES [FOR ROLE r, ...] [IN SCHEMA s, ...] GRANT|REVOKE ... */
  private defaultPrivileges(i: number): void {
    for (; i < this.e; i++) {
      const k = this.w(i);
      if (k === 'for' && (this.w(i + 1) === 'role' || this.w(i + 1) === 'user')) {
        i = this.roleList(i + 2, 'default-privileges') - 1;
      } else if (k === 'grant' || k === 'revoke') {
        this.grant(i);
        return;
      }
    }
  }

  /**
   * GRANT / REVOKE. With ON at the top level it grants privileges on objects; without,
   * it grants role membership (`GRANT r1, r2 TO u`).
   */
  private grant(s: number): void {
    const revoke = this.w(s) === 'revoke';
    let on = -1;
    let to = -1;
    let d = 0;
    for (let j = s + 1; j < this.e; j++) {
      const t = this.tb.t(j);
      if (t === T_LPAREN) d++;
      else if (t === T_RPAREN) d--;
      else if (d === 0 && t === T_WORD) {
        const k = this.tb.word(j);
        if (k === 'on' && on < 0) on = j;
        else if (k === (revoke ? 'from' : 'to')) {
          to = j;
          break;
        }
      }
    }
    if (to < 0) return;
    if (on >= 0) {
      this.grantObjects(on + 1);
    } else {
      let j = s + 1;
      // REVOKE ADMIN|INHERIT|SET OPTION FOR r FROM u
      if (revoke && this.w(j + 1) === 'option' && this.w(j + 2) === 'for') j += 3;
      this.roleList(j, 'granted');
    }
    let j = this.roleList(to + 1, 'grantee');
    for (; j < this.e; j++) {
      if (this.w(j) === 'granted' && this.w(j + 1) === 'by') {
        this.roleName(j + 2, 'grantor');
        return;
      }
    }
  }

  /** The objects after GRANT ... ON. */
  private grantObjects(i: number): void {
    const k = this.w(i);
    if (k === 'all' && this.w(i + 2) === 'in' && this.w(i + 3) === 'schema') {
      this.schemaList(i + 4);
      return;
    }
    if (k === 'schema') return void this.schemaList(i + 1);
    if (k === 'database') {
      for (let j = i + 1; this.ident(j); j += 2) {
        this.taken.add(j);
        this.sink.database?.(j);
        if (this.ty(j + 1) !== T_COMMA) break;
      }
      return;
    }
    if (k === 'table' || k === 'sequence' || k === 'function' || k === 'procedure' || k === 'routine' || k === 'type' || k === 'domain' || k === 'view') {
      this.objectList(i + 1);
      return;
    }
    // ALTER DEFAULT PRIVILEGES ... ON TABLES|SEQUENCES|FUNCTIONS|...: a class of objects, no names.
    if (k.endsWith('s') && this.ty(i + 1) !== T_DOT && (this.w(i + 1) === 'to' || this.w(i + 1) === 'from')) return;
    if (k === 'foreign' || k === 'language' || k === 'tablespace' || k === 'large' || k === 'parameter' || k === 'server' || k === 'uri') return;
    this.objectList(i);
  }

  /** COMMENT ON type name / SECURITY LABEL [FOR provider] ON type name. */
  private commentOn(s: number): void {
    let i = s + 1;
    while (i < this.e && this.w(i) !== 'on') i++;
    i++;
    const type = this.w(i);
    switch (type) {
      case 'schema':
        return this.schemaName(i + 1);
      case 'database':
        if (this.ident(i + 1)) this.sink.database?.(i + 1);
        this.taken.add(i + 1);
        return;
      case 'role':
        return this.roleName(i + 1, 'comment');
      case 'column':
        this.objectName(i + 1, true);
        return;
      case 'constraint':
      case 'trigger':
      case 'policy':
      case 'rule':
        this.taken.add(i + 1);
        return this.onTable(i + 2, false);
      default: {
        let j = i + 1;
        while (MODIFIERS.has(this.w(j - 1)) && this.ident(j) && this.ty(j + 1) !== T_DOT && this.w(j) !== 'is') j++;
        const t = this.w(j - 1);
        if (!UNQUALIFIED_TYPES.has(t)) this.objectName(j);
      }
    }
  }

  /** SET [SESSION|LOCAL] ROLE r / SESSION AUTHORIZATION r / SCHEMA 'x'. */
  private setStmt(i: number): void {
    if (this.w(i) === 'session' || this.w(i) === 'local') i++;
    const k = this.w(i);
    if (k === 'role' || k === 'authorization') this.roleName(i + 1, 'set-role');
    else if (k === 'schema' && this.ty(i + 1) === T_STRING) this.schemaName(i + 1, true);
  }

  /** Rules that hold in any statement: relations after FROM/JOIN/..., SCHEMA x, search_path, OWNER TO, qualifiers. */
  private generic(): void {
    const { tb, s, e } = this;
    const revoke = this.w(s) === 'revoke';
    // Whether each open parenthesis belongs to a function whose FROM is a keyword.
    const fromFn: boolean[] = [];
    for (let i = s; i < e; i++) {
      const t = tb.t(i);
      if (t === T_LPAREN) {
        fromFn.push(FROM_FUNCTIONS.has(this.w(i - 1)));
        continue;
      }
      if (t === T_RPAREN) {
        fromFn.pop();
        continue;
      }
      if (t === T_WORD) {
        const k = tb.word(i);
        switch (k) {
          case 'from':
            if (!revoke && fromFn[fromFn.length - 1] !== true && this.w(i - 1) !== 'distinct') {
              i = this.relationList(i + 1) - 1;
            }
            continue;
          case 'join':
            i = this.relation(i + 1, true) - 1;
            continue;
          case 'references':
            i = this.relation(i + 1) - 1;
            continue;
          case 'into':
            if (this.w(s) !== 'import') i = this.relation(i + 1) - 1;
            continue;
          case 'update':
            if (i === s || tb.t(i - 1) === T_RPAREN) i = this.relation(i + 1) - 1;
            continue;
          case 'partition':
            if (this.w(i - 1) === 'attach' || this.w(i - 1) === 'detach') {
              i = this.relation(i + 1) - 1;
            } else if (this.w(i + 1) === 'of') i = this.relation(i + 2) - 1;
            continue;
          case 'like':
            if (tb.t(i - 1) === T_LPAREN || tb.t(i - 1) === T_COMMA) i = this.relation(i + 1) - 1;
            continue;
          case 'inherits':
            if (this.ty(i + 1) === T_LPAREN) i = this.relationList(i + 2) - 1;
            continue;
          case 'schema': {
            const p = this.w(i - 1);
            if (p === 'in' || p === 'on') i = this.schemaList(i + 1) - 1;
            else if ((p === 'set' || p === 'with') && this.ident(i + 1)) this.schemaName(i + 1);
            else if (this.w(s) === 'create' && this.w(s + 1) === 'extension' && this.ident(i + 1)) this.schemaName(i + 1);
            continue;
          }
          case 'search_path':
            this.searchPath(i);
            continue;
          case 'owner':
            if (this.w(i + 1) === 'to') this.roleName(i + 2, 'owner');
            continue;
          case 'authorization':
            if (this.ident(i + 1) && this.w(s) === 'create') this.roleName(i + 1, 'owner');
            continue;
          default:
        }
      }
      if ((t === T_WORD || t === T_QIDENT) && tb.t(i + 1) === T_DOT && !this.taken.has(i) && tb.t(i - 1) !== T_DOT) {
        i = this.qualified(i) - 1;
      }
    }
  }

  /** One relation in a FROM/JOIN-like position; a function call there (`FROM f(x)`) is not one. */
  private relation(i: number, tableFunctions = false): number {
    if (this.w(i) === 'only' || this.w(i) === 'lateral') i++;
    if (!this.ident(i) || this.taken.has(i)) return i;
    if (tableFunctions) {
      let j = i + 1;
      while (this.ty(j) === T_DOT && this.ident(j + 1)) j += 2;
      if (this.ty(j) === T_LPAREN) return i;
    }
    return this.objectName(i);
  }

  /** `rel [[AS] alias] [, rel ...]` after FROM. */
  private relationList(i: number): number {
    for (;;) {
      const j = this.relation(i, true);
      if (j === i) return i;
      i = j;
      if (this.w(i) === 'as') i++;
      if (this.ty(i) === T_WORD && !isClauseWord(this.w(i))) i++;
      if (this.ty(i) !== T_COMMA) return i;
      i++;
    }
  }

  /** `SET search_path TO|= a, "b", 'c'` (also inside ALTER ROLE/DATABASE/FUNCTION ... SET). */
  private searchPath(i: number): void {
    const p = this.w(i - 1);
    if (p !== 'set' && p !== 'session' && p !== 'local') return;
    let j = i + 1;
    if (!(this.w(j) === 'to' || (this.ty(j) === T_OP && this.tb.text(j) === '='))) return;
    j++;
    for (;;) {
      const t = this.ty(j);
      if (t === T_WORD && this.w(j) === 'default') return;
      if (t !== T_WORD && t !== T_QIDENT && t !== T_STRING) return;
      this.schemaName(j, true);
      j++;
      if (this.ty(j) !== T_COMMA) return;
      j++;
    }
  }

  /** A dotted name outside object position. */
  private qualified(i: number): number {
    const parts = [i];
    let j = i + 1;
    while (this.ty(j) === T_DOT && this.ident(j + 1)) {
      parts.push(j + 1);
      j += 2;
    }
    if (parts.length === 1) return j;
    const c = parts.length;
    if (c === 4) {
      this.sink.database?.(parts[0]!);
      this.sink.qualifier?.(parts[1]!, false);
    } else if (c === 3) {
      this.sink.qualifier?.(parts[0]!, false);
    } else if (c === 2) {
      const prev = this.ty(i - 1) === T_OP && this.tb.text(i - 1) === '::';
      this.sink.qualifier?.(parts[0]!, !(prev || this.ty(j) === T_LPAREN));
    }
    return j;
  }
}

/** Words that end a FROM item rather than alias it. */
function isClauseWord(w: string): boolean {
  return QUOTE_KEYWORDS.has(w) || w === 'set' || w === 'returning' || w === 'inner' || w === 'cross';
}

/**
 * Whether `name` (folded) is used in statement tokens [s, e) as a table name or alias:
 * a standalone identifier or the last part of a dotted name. Used before reading `x.y`
 * as schema.object, because `x` may be an alias of the query.
 */
export function usedAsRelationName(tb: TokenBuffer, name: string): boolean {
  const n = tb.all();
  for (let i = 0; i < n; i++) {
    const t = tb.t(i);
    if (t !== T_WORD && t !== T_QIDENT) continue;
    if (tb.t(i + 1) === T_DOT) continue;
    if (nameOf(tb, i) === name) return true;
  }
  return false;
}
