import { statementObjects } from './statement-objects.js';

export interface ObjectFilterOptions {
  include?: readonly string[];
  exclude?: readonly string[];
}

/** reason e.g. "excluded by --exclude '*.tmp_*' (sales.tmp_x)" */
export type FilterDecision = { keep: true } | { keep: false; reason: string };

interface Glob {
  text: string;
  re: RegExp;
  /** For `x.*`: the pattern of `x`, so that "schema:x" matches it. */
  schemaRe: RegExp | null;
}

/** `*` is any run of characters (dots included), `?` one character; matching ignores case. */
function compile(text: string): Glob {
  const toRe = (g: string): RegExp =>
    new RegExp(`^${g.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.')}$`, 'i');
  return { text, re: toRe(text), schemaRe: text.endsWith('.*') ? toRe(text.slice(0, -2)) : null };
}

function matches(glob: Glob, object: string): boolean {
  if (object.startsWith('schema:')) {
    const schema = object.slice(7);
    return glob.re.test(schema) || (glob.schemaRe !== null && glob.schemaRe.test(schema));
  }
  return glob.re.test(object);
}

const KEEP: FilterDecision = { keep: true };

/** Keeps a statement when (no include, or some object matches an include glob) and no object matches an exclude glob.
 *  Statements that touch no object (roles, SET) are kept. An unqualified name is matched as-is ("orders" matches `orders` and `*`,
 *  not `sales.*`) unless a `searchPath` is given, then the first schema qualifies it. "schema:x" matches `x` and `x.*`.
 *  Globs: `*` any characters, `?` one; case is ignored. `$user` entries of the search path are skipped (the user is unknown).
 *  Defaults: no include (everything), no exclude. */
export function makeObjectFilter(options: ObjectFilterOptions): (sql: string, searchPath?: readonly string[]) => FilterDecision {
  const include = (options.include ?? []).map(compile);
  const exclude = (options.exclude ?? []).map(compile);
  if (include.length === 0 && exclude.length === 0) return () => KEEP;
  return (sql, searchPath) => {
    const raw = statementObjects(sql);
    if (raw.length === 0) return KEEP;
    const first = searchPath?.find((s) => s.replaceAll('"', '') !== '$user');
    const objects =
      first === undefined
        ? raw
        : raw.map((o) => (o.startsWith('schema:') || o.includes('.') ? o : `${first.replaceAll('"', '').toLowerCase()}.${o}`));
    for (const g of exclude) {
      const hit = objects.find((o) => matches(g, o));
      if (hit !== undefined) return { keep: false, reason: `excluded by --exclude '${g.text}' (${hit})` };
    }
    if (include.length > 0 && !objects.some((o) => include.some((g) => matches(g, o)))) {
      const globs = include.map((g) => `'${g.text}'`).join(', ');
      return { keep: false, reason: `not matched by --include ${globs} (${objects.join(', ')})` };
    }
    return KEEP;
  };
}
