/**
 * Statement classifier: reads the leading keywords (and, where the kind depends on it, a
 * few more tokens at the statement's own nesting level) to decide the EventKind and a
 * normalised command tag. No parse tree: every rule is a keyword pattern over tokens.
 * Leading comments, stray `;` and opening parentheses are skipped.
 *
 * Decisions for statements whose kind is a matter of policy (the project's contract):
 * - SHOW (any form: SHOW TABLES, SHOW GRANT, SHOW CREATE...) and DESCRIBE/DESC → `utility`,
 *   command `SHOW`/`DESCRIBE`: they inspect the catalog or settings, not user data, so
 *   replaying them as queries would skew performance comparisons.
 * - EXPLAIN → `query`, unless ANALYZE makes it execute a statement whose kind is `dml`,
 *   `ddl` or `unknown`; then it takes that kind. The command is always `EXPLAIN`.
 * - REFRESH MATERIALIZED VIEW → `dml` (it rewrites the view's rows, not its definition);
 *   Impala/Okera `REFRESH t` (a metadata reload) → `utility`.
 * - UNLOAD (Redshift) → `utility`: it writes to object storage and must never be replayed
 *   as a query. For the same reason `COPY ... TO 'file'` and `TO PROGRAM` → `utility`;
 *   only `COPY ... TO STDOUT` is a `query`. `COPY ... FROM` and Hive `LOAD DATA` → `dml`.
 * - CALL → `dml` (procedures exist to change data). DO blocks and EXECUTE of a prepared
 *   statement → `unknown` (they can do anything).
 * - CREATE/ALTER/DROP POLICY and SECURITY LABEL → `dcl` (they govern access);
 *   CREATE/ALTER/DROP USER MAPPING → `ddl`.
 * - SET TRANSACTION → `tcl`; every other SET form → `session`; ALTER SYSTEM → `utility`.
 * - Redshift `ALTER TABLE ... APPEND FROM` → `dml` (it moves rows). Impala `COMPUTE STATS`
 *   and `DROP STATS` → `utility`. Hive `ADD|DELETE JAR|FILE|ARCHIVE` → `session`.
 * - DECLARE/FETCH/MOVE (cursors) → `query`; CLOSE → `session`.
 * - END → command `COMMIT`, ABORT → `ROLLBACK` (PostgreSQL's own tags for them).
 * - SELECT ... INTO and CREATE TABLE ... AS → `ddl` (they create a table).
 * - Anything unrecognised → `unknown`, with its first word as the command when that looks
 *   like a keyword.
 */
import type { EventKind } from '../../core/audit-event.js';
import { TokenBuffer, T_EOF, T_LPAREN, T_NUMBER, T_RPAREN, T_SEMI, T_WORD } from './lexer.js';

/** What a statement is: its kind and a normalised upper-case command tag such as `CREATE TABLE`. */
export interface Classification {
  kind: EventKind;
  command: string;
}

const buffer = new TokenBuffer();

/** Classifies one SQL statement (only the first one when `sql` holds several). */
export function classify(sql: string): Classification {
  buffer.reset(sql);
  const res: Classification = { kind: 'unknown', command: '' };
  classifyTokens(buffer, res);
  return res;
}

/** Classifies the statement in `tb` (already reset), writing into `res`. */
export function classifyTokens(tb: TokenBuffer, res: Classification): void {
  classifyAt(tb, 0, res);
}

function set(res: Classification, kind: EventKind, command: string): void {
  res.kind = kind;
  res.command = command;
}

function classifyAt(tb: TokenBuffer, i: number, res: Classification): void {
  // A stray `;` before the statement is noise; `(SELECT 1) UNION ...` starts inside the parentheses.
  while (tb.t(i) === T_SEMI) i++;
  let depth = 0;
  while (tb.t(i) === T_LPAREN) {
    i++;
    depth++;
  }
  const w = tb.word(i);
  switch (w) {
    case '':
      return set(res, 'unknown', '');

    // Queries and data changes.
    case 'select':
      return selectStmt(tb, i + 1, depth, false, res);
    case 'with':
      return withStmt(tb, i + 1, depth, res);
    case 'from':
      return fromFirst(tb, i + 1, depth, false, res);
    case 'values':
      return set(res, 'query', 'VALUES');
    case 'table':
      return set(res, 'query', 'TABLE');
    case 'insert':
      return set(res, 'dml', 'INSERT');
    case 'update':
      return set(res, 'dml', 'UPDATE');
    case 'delete':
      // Hive `DELETE JAR|FILE|ARCHIVE` removes a session resource.
      return hiveResource(tb, i + 1, 'DELETE', res) ? undefined : set(res, 'dml', 'DELETE');
    case 'merge':
      return set(res, 'dml', 'MERGE');
    case 'upsert':
      return set(res, 'dml', 'UPSERT');
    case 'truncate':
      return set(res, 'dml', 'TRUNCATE');
    case 'copy':
      return copyStmt(tb, i + 1, res);
    case 'call':
      return set(res, 'dml', 'CALL');
    case 'load':
      return tb.isWord(i + 1, 'data') ? set(res, 'dml', 'LOAD DATA') : set(res, 'utility', 'LOAD');
    case 'explain':
      return explainStmt(tb, i + 1, res);
    case 'declare':
    case 'fetch':
    case 'move':
      return set(res, 'query', w.toUpperCase());

    // Catalog and privileges.
    case 'create':
    case 'alter':
    case 'drop':
      return objectStmt(tb, i, w, res);
    case 'comment':
      return set(res, 'ddl', 'COMMENT');
    case 'msck':
      return set(res, 'ddl', 'MSCK REPAIR TABLE');
    case 'import':
      return tb.isWord(i + 1, 'foreign') ? set(res, 'ddl', 'IMPORT FOREIGN SCHEMA') : set(res, 'ddl', 'IMPORT');
    case 'grant':
    case 'revoke':
    case 'deny':
      return set(res, 'dcl', w.toUpperCase());
    case 'reassign':
      return set(res, 'dcl', 'REASSIGN OWNED');
    case 'security':
      return set(res, 'dcl', 'SECURITY LABEL');

    // Session state.
    case 'set':
      return setStmt(tb, i + 1, res);
    case 'reset':
    case 'use':
    case 'discard':
    case 'deallocate':
    case 'close':
    case 'list':
      return set(res, 'session', w.toUpperCase());
    case 'prepare':
      return tb.isWord(i + 1, 'transaction') ? set(res, 'tcl', 'PREPARE TRANSACTION') : set(res, 'session', 'PREPARE');
    case 'add':
      return hiveResource(tb, i + 1, 'ADD', res) ? undefined : set(res, 'unknown', 'ADD');

    // Transactions.
    case 'begin':
      return set(res, 'tcl', 'BEGIN');
    case 'start':
      return tb.isWord(i + 1, 'transaction') ? set(res, 'tcl', 'START TRANSACTION') : set(res, 'unknown', 'START');
    case 'commit':
      return set(res, 'tcl', tb.isWord(i + 1, 'prepared') ? 'COMMIT PREPARED' : 'COMMIT');
    case 'end':
      return set(res, 'tcl', 'COMMIT');
    case 'rollback':
      return set(res, 'tcl', tb.isWord(i + 1, 'prepared') ? 'ROLLBACK PREPARED' : 'ROLLBACK');
    case 'abort':
      // Hive `ABORT TRANSACTIONS 12 13` aborts other sessions' transactions.
      return tb.isWord(i + 1, 'transactions') ? set(res, 'utility', 'ABORT TRANSACTIONS') : set(res, 'tcl', 'ROLLBACK');
    case 'savepoint':
    case 'release':
      return set(res, 'tcl', w.toUpperCase());

    // Maintenance, inspection, and statements with side effects outside the tables.
    case 'analyze':
    case 'analyse':
      return set(res, 'utility', 'ANALYZE');
    case 'describe':
    case 'desc':
      return set(res, 'utility', 'DESCRIBE');
    case 'invalidate':
      return set(res, 'utility', 'INVALIDATE METADATA');
    case 'compute':
      return set(res, 'utility', 'COMPUTE STATS');
    case 'refresh':
      return tb.isWord(i + 1, 'materialized')
        ? set(res, 'dml', 'REFRESH MATERIALIZED VIEW')
        : set(res, 'utility', 'REFRESH');
    case 'vacuum':
    case 'checkpoint':
    case 'cluster':
    case 'reindex':
    case 'show':
    case 'listen':
    case 'notify':
    case 'unlisten':
    case 'lock':
    case 'unlock':
    case 'unload':
    case 'cancel':
    case 'kill':
    case 'export':
    case 'reload':
      return set(res, 'utility', w.toUpperCase());

    case 'do':
    case 'execute':
      return set(res, 'unknown', w.toUpperCase());
    case 'exec':
      return set(res, 'unknown', 'EXECUTE');
    default:
      // Name the statement by its first word only when that looks like a keyword, not garbage.
      return set(res, 'unknown', /^[a-z_]{1,32}$/.test(w) ? w.toUpperCase() : '');
  }
}

/** Hive `ADD|DELETE JAR|FILE|ARCHIVE path` manage session resources; sets `res` when it is one. */
function hiveResource(tb: TokenBuffer, j: number, verb: string, res: Classification): boolean {
  const r = tb.word(j);
  const what =
    r === 'jar' || r === 'jars'
      ? 'JAR'
      : r === 'file' || r === 'files'
        ? 'FILE'
        : r === 'archive' || r === 'archives'
          ? 'ARCHIVE'
          : '';
  if (what === '') return false;
  set(res, 'session', `${verb} ${what}`);
  return true;
}

/**
 * Whether word `j` (at the SELECT's own level) is INTO (1), starts a clause after the
 * target list (2), or neither (0). Length and first letter filter before any comparison.
 */
function targetListWord(tb: TokenBuffer, j: number): number {
  const st = tb.starts[j]!;
  const len = tb.ends[j]! - st;
  if (len < 3 || len > 9) return 0;
  switch (tb.src.charCodeAt(st) | 0x20) {
    case 105: // i
      if (tb.isWord(j, 'into')) return 1;
      return tb.isWord(j, 'intersect') ? 2 : 0;
    case 102: // f
      return tb.isWord(j, 'from') || tb.isWord(j, 'for') || tb.isWord(j, 'fetch') ? 2 : 0;
    case 119: // w
      return tb.isWord(j, 'where') || tb.isWord(j, 'window') ? 2 : 0;
    case 103: // g
      return tb.isWord(j, 'group') ? 2 : 0;
    case 104: // h
      return tb.isWord(j, 'having') ? 2 : 0;
    case 117: // u
      return tb.isWord(j, 'union') ? 2 : 0;
    case 101: // e
      return tb.isWord(j, 'except') ? 2 : 0;
    case 111: // o
      return tb.isWord(j, 'order') || tb.isWord(j, 'offset') ? 2 : 0;
    case 108: // l
      return tb.isWord(j, 'limit') ? 2 : 0;
    default:
      return 0;
  }
}

/**
 * SELECT: `query`, or `ddl`/`SELECT INTO` when an INTO at the statement's level precedes
 * FROM (PostgreSQL and Redshift only allow it there, so the scan stops early).
 */
function selectStmt(tb: TokenBuffer, j: number, depth: number, modifying: boolean, res: Classification): void {
  let d = depth;
  for (; ; j++) {
    const ty = tb.t(j);
    if (ty === T_EOF || ty === T_SEMI) break;
    if (ty === T_LPAREN) d++;
    else if (ty === T_RPAREN) {
      if (--d < depth) break;
    } else if (ty === T_WORD && d === depth) {
      const w = targetListWord(tb, j);
      if (w === 1) return set(res, 'ddl', 'SELECT INTO');
      if (w === 2) break;
    }
  }
  set(res, modifying ? 'dml' : 'query', 'SELECT');
}

/**
 * WITH: the command is the main statement's; the kind is `dml` when the main statement
 * changes data or any CTE is INSERT/UPDATE/DELETE/MERGE (PostgreSQL data-modifying CTEs).
 */
function withStmt(tb: TokenBuffer, j: number, depth: number, res: Classification): void {
  if (tb.isWord(j, 'recursive')) j++;
  let d = depth;
  let modifying = false;
  for (; ; j++) {
    const ty = tb.t(j);
    if (ty === T_EOF || ty === T_SEMI) break;
    if (ty === T_LPAREN) {
      d++;
      continue;
    }
    if (ty === T_RPAREN) {
      d--;
      continue;
    }
    if (ty !== T_WORD) continue;
    const len = tb.ends[j]! - tb.starts[j]!;
    if (d === depth) {
      if (len < 4 || len > 6) continue;
      if (tb.isWord(j, 'select')) return selectStmt(tb, j + 1, depth, modifying, res);
      if (tb.isWord(j, 'insert')) return set(res, 'dml', 'INSERT');
      if (tb.isWord(j, 'update')) return set(res, 'dml', 'UPDATE');
      if (tb.isWord(j, 'delete')) return set(res, 'dml', 'DELETE');
      if (tb.isWord(j, 'merge')) return set(res, 'dml', 'MERGE');
      if (tb.isWord(j, 'values')) return set(res, modifying ? 'dml' : 'query', 'VALUES');
      if (tb.isWord(j, 'table')) return set(res, modifying ? 'dml' : 'query', 'TABLE');
      if (tb.isWord(j, 'from')) return fromFirst(tb, j + 1, depth, modifying, res);
    } else if (!modifying && (len === 6 || len === 5)) {
      if (tb.isWord(j, 'insert') || tb.isWord(j, 'delete')) modifying = true;
      // `FOR UPDATE` / `FOR NO KEY UPDATE` lock rows; they change nothing.
      else if (tb.isWord(j, 'update') && !tb.isWord(j - 1, 'for') && !tb.isWord(j - 1, 'key')) modifying = true;
      else if (tb.isWord(j, 'merge') && tb.t(j - 1) === T_LPAREN) modifying = true;
    }
  }
  set(res, modifying ? 'dml' : 'query', 'SELECT');
}

/** Hive `FROM src INSERT OVERWRITE TABLE t SELECT ...` (multi-insert) or `FROM src SELECT ...`. */
function fromFirst(tb: TokenBuffer, j: number, depth: number, modifying: boolean, res: Classification): void {
  let d = depth;
  for (; ; j++) {
    const ty = tb.t(j);
    if (ty === T_EOF || ty === T_SEMI) break;
    if (ty === T_LPAREN) d++;
    else if (ty === T_RPAREN) d--;
    else if (ty === T_WORD && d === depth) {
      if (tb.isWord(j, 'insert')) return set(res, 'dml', 'INSERT');
      if (tb.isWord(j, 'select')) break;
    }
  }
  set(res, modifying ? 'dml' : 'query', 'SELECT');
}

/** COPY ... FROM loads rows (`dml`); COPY ... TO STDOUT reads (`query`); TO a file or program writes outside the database (`utility`). */
function copyStmt(tb: TokenBuffer, j: number, res: Classification): void {
  let d = 0;
  for (; ; j++) {
    const ty = tb.t(j);
    if (ty === T_EOF || ty === T_SEMI) break;
    if (ty === T_LPAREN) d++;
    else if (ty === T_RPAREN) d--;
    else if (ty === T_WORD && d === 0) {
      if (tb.isWord(j, 'from')) return set(res, 'dml', 'COPY');
      if (tb.isWord(j, 'to')) return set(res, tb.isWord(j + 1, 'stdout') ? 'query' : 'utility', 'COPY');
    }
  }
  set(res, 'dml', 'COPY');
}

const EXPLAIN_FLAGS = new Set([
  'verbose',
  'extended',
  'cbo',
  'ast',
  'dependency',
  'authorization',
  'locks',
  'vectorization',
  'formatted',
  'logical',
  'reoptimization',
  'only',
  'summary',
  'detail',
  'expression',
  'operator',
  'cost',
  'joincost',
  'plan',
  'for',
]);

function startsStatement(tb: TokenBuffer, j: number): boolean {
  return (
    tb.isWord(j, 'select') ||
    tb.isWord(j, 'with') ||
    tb.isWord(j, 'values') ||
    tb.isWord(j, 'table') ||
    tb.isWord(j, 'insert') ||
    tb.isWord(j, 'update') ||
    tb.isWord(j, 'delete') ||
    tb.isWord(j, 'merge')
  );
}

/**
 * EXPLAIN [ (options) ] [ANALYZE] [VERBOSE|EXTENDED|...] statement. Without ANALYZE nothing
 * runs, so it is a `query`; with ANALYZE the statement executes and keeps its own kind
 * when that kind changes something (or is unknown).
 */
function explainStmt(tb: TokenBuffer, j: number, res: Classification): void {
  let analyze = false;
  if (tb.t(j) === T_LPAREN && !startsStatement(tb, j + 1)) {
    let d = 0;
    for (; ; j++) {
      const ty = tb.t(j);
      if (ty === T_EOF) break;
      if (ty === T_LPAREN) d++;
      else if (ty === T_RPAREN) {
        if (--d === 0) {
          j++;
          break;
        }
      } else if (d === 1 && (tb.isWord(j, 'analyze') || tb.isWord(j, 'analyse'))) {
        analyze = !isFalse(tb, j + 1);
      }
    }
  }
  for (;;) {
    if (tb.isWord(j, 'analyze') || tb.isWord(j, 'analyse')) analyze = true;
    // A repeated EXPLAIN is skipped here rather than recursed into, so garbage cannot overflow the stack.
    else if (!EXPLAIN_FLAGS.has(tb.word(j)) && !tb.isWord(j, 'explain')) break;
    j++;
  }
  classifyAt(tb, j, res);
  const inner = res.kind;
  res.command = 'EXPLAIN';
  res.kind = analyze && (inner === 'dml' || inner === 'ddl' || inner === 'unknown') ? inner : 'query';
}

function isFalse(tb: TokenBuffer, j: number): boolean {
  if (tb.t(j) === T_NUMBER) return tb.text(j) === '0';
  return tb.isWord(j, 'false') || tb.isWord(j, 'off');
}

const OBJECT_MODIFIERS = new Set([
  'temp',
  'temporary',
  'global',
  'local',
  'unlogged',
  'transient',
  'volatile',
  'unique',
  'constraint',
  'trusted',
  'procedural',
  'recursive',
  'secure',
]);

/** Whether object-type word `w` continues into token `k` (`MATERIALIZED VIEW`, `FOREIGN DATA WRAPPER`...). */
function typeContinues(tb: TokenBuffer, w: string, k: number): boolean {
  switch (w) {
    case 'materialized':
      return tb.isWord(k, 'view');
    case 'foreign':
    case 'external':
      return tb.t(k) === T_WORD;
    case 'data':
      return tb.isWord(k, 'wrapper');
    case 'event':
      return tb.isWord(k, 'trigger');
    case 'text':
      return tb.isWord(k, 'search');
    case 'search':
      return tb.t(k) === T_WORD;
    case 'access':
      return tb.isWord(k, 'method');
    case 'large':
      return tb.isWord(k, 'object');
    case 'default':
      return tb.isWord(k, 'privileges') || tb.isWord(k, 'conversion');
    case 'incremental':
      return tb.isWord(k, 'stats');
    case 'user':
      return tb.isWord(k, 'mapping');
    case 'attribute':
      return tb.isWord(k, 'namespace');
    case 'operator':
      return tb.isWord(k, 'class') || tb.isWord(k, 'family');
    default:
      return false;
  }
}

/** CREATE / ALTER / DROP: the tag names the object type with modifiers such as TEMP or OR REPLACE removed. */
function objectStmt(tb: TokenBuffer, i: number, verb: string, res: Classification): void {
  let j = i + 1;
  for (;;) {
    const w = tb.word(j);
    if (w === 'or' && (tb.isWord(j + 1, 'replace') || tb.isWord(j + 1, 'alter'))) j += 2;
    else if (OBJECT_MODIFIERS.has(w)) j++;
    else break;
  }
  let w = tb.word(j);
  const VERB = verb.toUpperCase();
  if (w === '') return set(res, 'ddl', VERB);
  let obj = w.toUpperCase();
  let k = j + 1;
  while (typeContinues(tb, w, k)) {
    w = tb.word(k);
    obj += ' ' + w.toUpperCase();
    k++;
  }
  switch (obj) {
    case 'ROLE':
    case 'USER':
    case 'GROUP':
    case 'POLICY':
    case 'DEFAULT PRIVILEGES':
    case 'OWNED':
      return set(res, 'dcl', `${VERB} ${obj}`);
    case 'STATS':
    case 'INCREMENTAL STATS':
      return set(res, 'utility', `${VERB} STATS`);
    case 'SYSTEM':
      return set(res, 'utility', `${VERB} SYSTEM`);
    case 'SESSION':
      return set(res, 'session', `${VERB} SESSION`);
    case 'TABLE':
    case 'EXTERNAL TABLE':
      if (verb === 'create' && isCreateTableAs(tb, k)) return set(res, 'ddl', 'CREATE TABLE AS');
      if (verb === 'alter' && obj === 'TABLE' && isAppendFrom(tb, k)) return set(res, 'dml', 'ALTER TABLE');
      return set(res, 'ddl', `${VERB} ${obj}`);
    default:
      return set(res, 'ddl', `${VERB} ${obj}`);
  }
}

/** A top-level `AS` followed by a query (not Hive's `STORED AS`) makes CREATE TABLE a CTAS. */
function isCreateTableAs(tb: TokenBuffer, j: number): boolean {
  let d = 0;
  for (; ; j++) {
    const ty = tb.t(j);
    if (ty === T_EOF || ty === T_SEMI) return false;
    if (ty === T_LPAREN) d++;
    else if (ty === T_RPAREN) d--;
    else if (d === 0 && tb.isWord(j, 'as') && !tb.isWord(j - 1, 'stored')) {
      return tb.t(j + 1) === T_LPAREN || startsStatement(tb, j + 1) || tb.isWord(j + 1, 'execute');
    }
  }
}

/** Redshift `ALTER TABLE target APPEND FROM source` moves rows between tables. */
function isAppendFrom(tb: TokenBuffer, j: number): boolean {
  for (; ; j++) {
    const ty = tb.t(j);
    if (ty === T_EOF || ty === T_SEMI) return false;
    if (tb.isWord(j, 'append') && tb.isWord(j + 1, 'from')) return true;
  }
}

/** SET: ROLE and SESSION AUTHORIZATION get their own tags; SET TRANSACTION is transaction control. */
function setStmt(tb: TokenBuffer, j: number, res: Classification): void {
  if (tb.isWord(j, 'local')) j++;
  if (tb.isWord(j, 'session')) {
    if (tb.isWord(j + 1, 'authorization')) return set(res, 'session', 'SET SESSION AUTHORIZATION');
    if (tb.isWord(j + 1, 'characteristics')) return set(res, 'session', 'SET');
    j++;
  }
  if (tb.isWord(j, 'role')) return set(res, 'session', 'SET ROLE');
  if (tb.isWord(j, 'transaction')) return set(res, 'tcl', 'SET TRANSACTION');
  set(res, 'session', 'SET');
}
