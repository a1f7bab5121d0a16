/**
 * Takes secrets out of statements before they reach logs, reports and sinks. The statement
 * keeps its shape (a literal stays a literal, a connection string stays one) so a reader
 * still sees what ran. Over-redaction is preferred to a leak: any string literal that looks
 * like a connection string with a password is redacted wherever it appears.
 */
import { T_OP, T_QIDENT, T_STRING, T_WORD } from '../../extract/sql/lexer.js';
import { TokenBuffer, nameOf } from './sql-names.js';

const buffer = new TokenBuffer();
const MASK = "'***'";

/** Cheap test that skips the lexer for the vast majority of statements. */
const MAYBE = /pass|pwd|secret|identified|:\/\//i;
/** Option or property keys whose value is a secret. */
const SECRET_KEY = /pass(word|wd)?$|pwd$|secret|token$|private_key$/i;
/** `password=value` inside a connection string (libpq keywords, JDBC/ODBC style, AWS credentials). */
const CONNINFO =
  /(\b(?:ssl)?password|\bpasswd|\bpwd|\bsecret_access_key|\bsession_token)(\s*=\s*)(''(?:[^']|'''')*?''|\\'.*?\\'|[^\s;'&]+)/gi;
/** `scheme://user:password@host`. */
const URI_PASSWORD = /(\/\/[^:/@\s'"]*:)[^@\s'"/]+(@)/g;

/** The statement with secrets replaced by '***' keeping the statement shape: PASSWORD '...' (CREATE/ALTER ROLE|USER, also
 *  ENCRYPTED PASSWORD, and dollar-quoted), OPTIONS (... password '...') in CREATE/ALTER SERVER / USER MAPPING, connection strings
 *  containing password=... in CREATE/ALTER SUBSCRIPTION and dblink-style literals, Okera/Hive `... PASSWORD '...'` too.
 *  Also `IDENTIFIED BY '...'`, `'...password'='...'` properties and `scheme://user:secret@host` in any literal. */
export function redactSecrets(sql: string): string {
  if (!MAYBE.test(sql)) return sql;
  const tb = buffer;
  tb.reset(sql);
  const n = tb.all();
  const edits = new Map<number, string>();
  for (let i = 0; i < n; i++) {
    const t = tb.t(i);
    if (t === T_STRING) {
      if (edits.has(i)) continue;
      const text = tb.text(i);
      const red = text.replace(CONNINFO, '$1$2***').replace(URI_PASSWORD, '$1***$2');
      if (red !== text) edits.set(i, red);
      // 'jdbc.password' = 'x' (Hive/Okera properties)
      if (isSecretKey(tb, i)) markValue(tb, i + 1, edits);
    } else if (t === T_WORD || t === T_QIDENT) {
      if (t === T_WORD && tb.isWord(i, 'identified') && tb.isWord(i + 1, 'by')) markValue(tb, i + 2, edits);
      else if (isSecretKey(tb, i)) markValue(tb, i + 1, edits);
    }
  }
  if (edits.size === 0) return sql;
  let out = '';
  let pos = 0;
  for (const i of [...edits.keys()].sort((a, b) => a - b)) {
    out += sql.slice(pos, tb.starts[i]) + edits.get(i)!;
    pos = tb.ends[i]!;
  }
  return out + sql.slice(pos);
}

/** Whether `sql` holds a secret that `redactSecrets` would take out. */
export function hasSecret(sql: string): boolean {
  return MAYBE.test(sql) && redactSecrets(sql) !== sql;
}

function isSecretKey(tb: TokenBuffer, i: number): boolean {
  const name = nameOf(tb, i);
  return name !== null && name.length < 64 && SECRET_KEY.test(name);
}

/** Masks the literal at `i`, or after an `=` there. */
function markValue(tb: TokenBuffer, i: number, edits: Map<number, string>): void {
  if (tb.t(i) === T_OP && tb.text(i) === '=') i++;
  if (tb.t(i) === T_STRING) edits.set(i, MASK);
}
