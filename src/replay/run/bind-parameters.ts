import { TokenBuffer, T_EOF, T_PARAM } from '../../extract/sql/lexer.js';

const tokens = new TokenBuffer();

/**
 * The values of a PostgreSQL log's `parameters: $1 = '42', $2 = NULL` detail, by
 * number. Values are SQL literals as the server printed them: quoted with `''` escapes,
 * or NULL. Null when the detail cannot be read.
 */
export function parseParameters(detail: string): Map<number, string> | null {
  const text = detail.replace(/^\s*parameters:\s*/, '');
  const values = new Map<number, string>();
  const re = /\s*\$(\d+)\s*=\s*('(?:[^']|'')*'|NULL)\s*(,|$)/y;
  let at = 0;
  while (at < text.length) {
    re.lastIndex = at;
    const m = re.exec(text);
    if (!m) return null;
    values.set(Number(m[1]), m[2]!);
    at = re.lastIndex;
  }
  return values;
}

/**
 * A statement that ran with bind parameters (`execute <unnamed>: ... $1`), with the
 * logged values put in place of `$n` as untyped literals, so the server infers their
 * types from the context as it did for the parameters. `$n` inside strings, comments and
 * dollar quotes is left alone. Null when a placeholder has no logged value.
 */
export function bindParameters(statement: string, values: ReadonlyMap<number, string>): string | null {
  tokens.reset(statement, false);
  let out = '';
  let last = 0;
  for (let i = 0; tokens.t(i) !== T_EOF; i++) {
    // The lexer's parameters also include `?` and `:name`; only PostgreSQL's `$n` are bound here.
    if (tokens.types[i] !== T_PARAM || statement.charCodeAt(tokens.starts[i]!) !== 36) continue;
    const start = tokens.starts[i]!;
    const end = tokens.ends[i]!;
    const value = values.get(Number(statement.slice(start + 1, end)));
    if (value === undefined) return null;
    out += statement.slice(last, start) + value;
    last = end;
  }
  return last === 0 ? statement : out + statement.slice(last);
}
