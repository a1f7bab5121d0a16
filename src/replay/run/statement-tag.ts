/**
 * The comment replay puts in front of each statement, `/* auditreplay run=<run> orig=<id> *\/`,
 * so the secondary's own logs (pg_stat_statements aside, which strips comments) join back
 * to the primary's ids. Values are percent-encoded beyond a safe set, so no id can close
 * the comment or split the tag.
 */

const SAFE = /^[A-Za-z0-9._:/@#=+-]*$/;

function encode(value: string): string {
  if (SAFE.test(value)) return value;
  return value.replace(/[^A-Za-z0-9._:/@#=+-]/gu, (c) => encodeURIComponent(c).replace(/[*]/g, '%2A'));
}

/** The statement with its tag in front. */
export function tagStatement(statement: string, runId: string, originalId: string): string {
  return `/* auditreplay run=${encode(runId)} orig=${encode(originalId)} */ ${statement}`;
}

const TAG = /\/\* auditreplay run=([^\s*]*) orig=([^\s*]*) \*\//;

/** The run and original id of a tagged statement (anywhere in the text, as a log may prefix it), or null. */
export function parseTag(text: string): { runId: string; originalId: string } | null {
  const m = TAG.exec(text);
  if (!m) return null;
  try {
    return { runId: decodeURIComponent(m[1]!), originalId: decodeURIComponent(m[2]!) };
  } catch {
    return null;
  }
}
