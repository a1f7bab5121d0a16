import pLimit from 'p-limit';
import picomatch from 'picomatch';
import { AuditReplayError } from '../core/errors.js';
import { openSource } from '../ingest/source-registry.js';
import type { ObjectInfo, Source } from '../ingest/source.js';
import { isTableUrl } from './postgres/index.js';
import type { StorageOptions } from './storage.js';

/** The extensions of the record formats a sink writes: what a prefix expands to. */
export const RECORD_EXTENSIONS = ['.jsonl', '.jsonl.gz', '.parquet', '.arrow', '.arrows'] as const;

const GLOB_CHARS = /[*?[\]{}]/;

/** Listings in flight at once while walking a prefix. */
const LIST_CONCURRENCY = 8;

/** True when `input` names several outputs: a glob (`*`, `?`, `[...]`, `{a,b}` in its path) or a prefix ending in `/`. */
export function isMultiInput(input: string): boolean {
  if (input === '-' || isTableUrl(input)) return false;
  const { path } = splitQuery(input);
  return path.endsWith('/') || GLOB_CHARS.test(path);
}

/**
 * The outputs an input names, sorted by key: for a glob (`out/results-*.jsonl`,
 * `s3://bucket/run/results-*.parquet`) every object it matches, for a prefix ending in
 * `/` (`s3://bucket/run/`) every object under it, at any depth; in both cases only
 * objects with a record format's extension (RECORD_EXTENSIONS), so the run summaries
 * and temporary files beside outputs never count. Listing goes through the ingest
 * Source of the scheme (a local folder, s3://, az://, https://<account>.blob..., gs://).
 * A table URL, stdout and a plain name without glob characters come back unchanged and
 * unchecked; a pattern that matches nothing is a usage error naming it.
 */
export async function expandInputs(input: string, storage: StorageOptions = {}): Promise<string[]> {
  if (!isMultiInput(input)) return [input];
  const { path, query } = splitQuery(input);
  const glob = GLOB_CHARS.exec(path);
  // The folder to list is the literal part before the first glob character.
  const base = path.slice(0, glob ? path.lastIndexOf('/', glob.index) + 1 : path.length);
  const pattern = path.slice(base.length);
  const isMatch = pattern === '' ? () => true : picomatch(pattern, { dot: false });
  const depth = pattern === '' || pattern.includes('**') ? Infinity : pattern.split('/').length - 1;

  const source = await openSource((base || '.') + query, {
    ...(storage.s3Endpoint ? { s3Endpoint: storage.s3Endpoint } : {}),
    ...(storage.gcsEndpoint ? { gcsEndpoint: storage.gcsEndpoint } : {}),
  });
  let keys: string[];
  try {
    keys = (await listUnder(source, depth)).map((o) => o.key).filter((key) => key !== '' && isRecordObject(key) && isMatch(key));
  } catch (err) {
    if (!(err instanceof AuditReplayError && err.code === 'source-not-found')) throw err;
    keys = [];
  } finally {
    await source.close();
  }
  if (keys.length === 0) {
    const what = glob ? 'matches no object' : 'holds no object';
    throw new AuditReplayError('usage', `'${redactQuery(input)}' ${what} with a results extension (${RECORD_EXTENSIONS.join(', ')})`);
  }
  keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return keys.map((key) => base + key + query);
}

/** Every object under the source root, descending at most `depth` folders. */
async function listUnder(source: Source, depth: number): Promise<ObjectInfo[]> {
  const limit = pLimit(LIST_CONCURRENCY);
  const objects: ObjectInfo[] = [];
  const visit = async (prefix: string, level: number): Promise<void> => {
    const listing = await limit(() => source.listDir(prefix));
    objects.push(...listing.objects);
    if (level >= depth) return;
    await Promise.all(listing.prefixes.map((p) => visit(p, level + 1)));
  };
  await visit('', 0);
  return objects;
}

/** A results object by its name: a record format's extension, and not hidden (temporary files start with '.'). */
function isRecordObject(key: string): boolean {
  const name = key.slice(key.lastIndexOf('/') + 1).toLowerCase();
  return !name.startsWith('.') && RECORD_EXTENSIONS.some((ext) => name.endsWith(ext));
}

/**
 * The path and the query string of an input. Only https URLs (Azure Blob, where the
 * query holds a SAS) have one; elsewhere `?` is a glob character.
 */
function splitQuery(input: string): { path: string; query: string } {
  if (!/^https?:\/\//i.test(input)) return { path: input, query: '' };
  const q = input.indexOf('?');
  return q < 0 ? { path: input, query: '' } : { path: input.slice(0, q), query: input.slice(q) };
}

/** The input without its query string, which may hold a SAS signature. */
function redactQuery(input: string): string {
  const { path, query } = splitQuery(input);
  return query ? `${path}?…` : path;
}
