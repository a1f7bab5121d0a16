import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/core/audit-event.js';
import { inShard, type Shard } from '../../src/core/shard.js';
import { parseTime } from '../../src/core/time.js';
import { coalesceDuplicates } from '../../src/extract/coalesce-duplicates.js';
import { extract, type ExtractStats } from '../../src/extract/extract-pipeline.js';
import { compareIds } from '../../src/extract/order-events.js';
import { RejectLog } from '../../src/ingest/reject-log.js';
import { openSource } from '../../src/ingest/source-registry.js';
import type { Source } from '../../src/ingest/source.js';
import { runCli } from '../helpers/run-cli.js';

/**
 * `--shard k/N` on extract: each shard reads only its objects (by a stable hash of the
 * object's key), and the shards of N = 1..4 together give what one unsharded run gives,
 * on the bundled samples (4 days, 24 objects, two formats).
 */

const WINDOW = { from: parseTime('2026-11-17', 0), to: parseTime('2026-11-21', 0) };
const CLI_WINDOW = ['--from', '2026-11-17', '--to', '2026-11-21'];

interface Run {
  events: AuditEvent[];
  stats: ExtractStats;
  /** Keys of the objects the source was asked to open. */
  opened: string[];
  rejects: number;
}

/** Extract in-process, watching which objects are opened. */
async function run(sourceUrl: string, shard?: Shard): Promise<Run> {
  const inner = await openSource(sourceUrl);
  const opened: string[] = [];
  const source: Source = {
    url: inner.url,
    listDir: (prefix, signal) => inner.listDir(prefix, signal),
    open: (key, options) => {
      opened.push(key);
      return inner.open(key, options);
    },
    close: () => inner.close(),
  };
  const rejects = new RejectLog(null);
  const { events, stats } = extract({ source, window: WINDOW, rejects, ...(shard ? { shard } : {}) });
  const out: AuditEvent[] = [];
  for await (const batch of events) out.push(...batch);
  return { events: out, stats, opened, rejects: rejects.total };
}

const shardsOf = (count: number): Shard[] => Array.from({ length: count }, (_, index) => ({ index, count }));
const baseId = (id: string): string => id.replace(/#\d+$/, '');

/** Every object key of a local tree, relative to its root. */
async function keysUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(root.length + 1));
}

/** Okera request ids whose records (start and end) sit in more than one object, read from the raw files, with the objects. */
async function okeraRequestsAcrossObjects(root: string): Promise<Map<string, Set<string>>> {
  const objectsOf = new Map<string, Set<string>>();
  for (const key of await keysUnder(root)) {
    if (!key.startsWith('okera/')) continue;
    let bytes = await readFile(join(root, key));
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
    for (const line of bytes.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      const id = (JSON.parse(line) as { request_id: string }).request_id;
      objectsOf.set(id, (objectsOf.get(id) ?? new Set()).add(key));
    }
  }
  return new Map([...objectsOf].filter(([, objects]) => objects.size > 1));
}

/** What a consumer of several shard outputs does with them: one (ts, id) order, records of one request folded as extract folds them. */
async function merge(outputs: AuditEvent[][]): Promise<AuditEvent[]> {
  const all = outputs.flat().sort((a, b) => a.ts - b.ts || compareIds(a.id, b.id));
  const merged: AuditEvent[] = [];
  for await (const batch of coalesceDuplicates((async function* () { yield all; })(), () => {})) merged.push(...(batch as AuditEvent[]));
  return merged;
}

describe('extract --shard on the PostgreSQL samples', () => {
  const root = 'samples/logs/postgres';
  let whole: Run;
  beforeAll(async () => {
    whole = await run(root);
  });

  it('reads the whole window when unsharded', () => {
    expect(whole.events.length).toBe(454);
    expect(whole.rejects).toBe(0);
    expect(whole.stats.ingest.objectsOtherShard).toBe(0);
    expect(new Set(whole.opened).size).toBe(12);
  });

  for (const count of [1, 2, 3, 4]) {
    it(`splits into ${count} disjoint shards whose union is the unsharded run, event for event`, async () => {
      const runs = await Promise.all(shardsOf(count).map((s) => run(root, s)));
      const owner = new Map<string, number>();
      for (const [k, r] of runs.entries()) {
        expect(r.rejects).toBe(0);
        for (const e of r.events) {
          expect(owner.get(e.id), `${e.id} in shards ${owner.get(e.id)} and ${k}`).toBeUndefined();
          owner.set(e.id, k);
        }
        // Only this shard's objects were opened, and the others were counted, not read.
        expect(r.opened.every((key) => inShard(key, { index: k, count }))).toBe(true);
        expect(r.stats.ingest.objectsOtherShard).toBe(12 - new Set(r.opened).size);
        expect(r.stats.ingest.objectsListed).toBe(new Set(r.opened).size);
      }
      expect(runs.flatMap((r) => r.opened).sort()).toEqual([...new Set(whole.opened)].sort());
      const byId = new Map(runs.flatMap((r) => r.events).map((e) => [e.id, e]));
      expect(byId.size).toBe(whole.events.length);
      for (const e of whole.events) expect(byId.get(e.id), e.id).toEqual(e);
      if (count > 1) expect(runs.filter((r) => r.events.length > 0).length).toBeGreaterThan(1);
    });
  }
});

describe('extract --shard on the whole samples tree (Okera and PostgreSQL)', () => {
  const root = 'samples/logs';
  let whole: Run;
  let across: Map<string, Set<string>>;
  beforeAll(async () => {
    whole = await run(root);
    across = await okeraRequestsAcrossObjects(root);
  });

  it('knows the requests whose start and end records sit in two objects', () => {
    // samples/README.md: 7 of the 36 Okera START records are in another planner's file than their END.
    expect(whole.events.length).toBe(820);
    expect(across.size).toBe(7);
  });

  for (const count of [1, 2, 3, 4]) {
    it(`reads each object in one of ${count} shards; only requests split across shards show twice, and merging folds them back`, async () => {
      const runs = await Promise.all(shardsOf(count).map((s) => run(root, s)));
      expect(runs.flatMap((r) => r.opened).sort()).toEqual([...new Set(whole.opened)].sort());
      const shardOfObject = (key: string): number => shardsOf(count).findIndex((s) => inShard(key, s));
      // Requests whose objects fall in different shards appear in each of them (one shard holds only the start record).
      const split = new Set([...across].filter(([, objects]) => new Set([...objects].map(shardOfObject)).size > 1).map(([id]) => id));
      const seen = new Map<string, number[]>();
      for (const [k, r] of runs.entries()) for (const e of r.events) seen.set(e.id, [...(seen.get(e.id) ?? []), k]);
      const twice = [...seen].filter(([, ks]) => ks.length > 1).map(([id]) => baseId(id));
      expect(new Set(twice)).toEqual(split);
      if (count === 1) expect(split.size).toBe(0);
      expect(new Set(seen.keys())).toEqual(new Set(whole.events.map((e) => e.id)));
      for (const [k, r] of runs.entries()) {
        for (const e of r.events.filter((x) => split.has(baseId(x.id)) && x.end === null)) {
          expect(shardOfObject(e.source.object.slice(root.length + 1)), e.id).toBe(k);
        }
      }
      expect(await merge(runs.map((r) => r.events))).toEqual(whole.events);
    });
  }
});

describe('extract --shard from the CLI', () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'auditreplay-shard-extract-'));
  });
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });
  const SOURCE = ['--source', 'samples/logs/postgres', ...CLI_WINDOW, '--progress', 'none'];
  const NO_SHARD_ENV = { JOB_COMPLETION_INDEX: undefined, AUDITREPLAY_SHARDS: undefined, AUDITREPLAY_SHARD: undefined };
  const lines = async (path: string): Promise<AuditEvent[]> => (await readFile(path, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditEvent);

  it('writes shard k of N to the names {shard} makes, with what the in-process shard gives', async () => {
    const dir = join(work, 'flag');
    const r = await runCli(['extract', ...SOURCE, '--shard', '1/3', '--out', join(dir, 'events-{shard}.jsonl'), '--rejects', join(dir, 'rejects-{shard}.jsonl')], { env: NO_SHARD_ENV });
    expect(r.code, r.stderr).toBe(0);
    expect((await readdir(dir)).sort()).toEqual(['events-1-of-3.jsonl', 'rejects-1-of-3.jsonl']);
    const inProcess = await run('samples/logs/postgres', { index: 1, count: 3 });
    expect(await lines(join(dir, 'events-1-of-3.jsonl'))).toEqual(JSON.parse(JSON.stringify(inProcess.events)));
    expect(r.summary).toMatchObject({ shard: '1-of-3', objectsOtherShard: inProcess.stats.ingest.objectsOtherShard, objectsListed: r.summary!.objects, selected: inProcess.events.length });
    expect(r.summary!.objectsOtherShard).toBeGreaterThan(0);
    expect(Number(r.summary!.objects) + Number(r.summary!.objectsOtherShard)).toBe(12);
  });

  it('takes the shard from JOB_COMPLETION_INDEX and AUDITREPLAY_SHARDS when --shard is not given', async () => {
    const dir = join(work, 'env');
    const r = await runCli(['extract', ...SOURCE, '--out', join(dir, 'events-{shard}.jsonl')], { env: { ...NO_SHARD_ENV, JOB_COMPLETION_INDEX: '1', AUDITREPLAY_SHARDS: '3' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.summary).toMatchObject({ shard: '1-of-3' });
    expect(await readFile(join(dir, 'events-1-of-3.jsonl'), 'utf8')).toBe(await readFile(join(work, 'flag', 'events-1-of-3.jsonl'), 'utf8'));
  });

  it('lets --shard win over the environment, and names an unsharded output 0-of-1', async () => {
    const dir = join(work, 'win');
    const [flag, none] = await Promise.all([
      runCli(['extract', ...SOURCE, '--shard', '0/2', '--out', join(dir, 'a-{shard}.jsonl')], { env: { ...NO_SHARD_ENV, JOB_COMPLETION_INDEX: '1', AUDITREPLAY_SHARDS: '3' } }),
      runCli(['extract', ...SOURCE, '--out', join(dir, 'b-{shard}.jsonl')], { env: NO_SHARD_ENV }),
    ]);
    expect(flag.code, flag.stderr).toBe(0);
    expect(flag.summary).toMatchObject({ shard: '0-of-2' });
    expect(none.code, none.stderr).toBe(0);
    expect(none.summary).toMatchObject({ shard: null, objectsOtherShard: 0, objects: 12 });
    expect((await readdir(dir)).sort()).toEqual(['a-0-of-2.jsonl', 'b-0-of-1.jsonl']);
  });

  it('refuses a half-set environment and a shard out of range before writing anything', async () => {
    const dir = join(work, 'bad');
    const out = ['--out', join(dir, 'e-{shard}.jsonl')];
    const [half, range, envRange] = await Promise.all([
      runCli(['extract', ...SOURCE, ...out], { env: { ...NO_SHARD_ENV, JOB_COMPLETION_INDEX: '1' } }),
      runCli(['extract', ...SOURCE, '--shard', '3/3', ...out], { env: NO_SHARD_ENV }),
      runCli(['extract', ...SOURCE, ...out], { env: { ...NO_SHARD_ENV, JOB_COMPLETION_INDEX: '3', AUDITREPLAY_SHARDS: '3' } }),
    ]);
    expect(half.code).toBe(2);
    expect(half.stderr).toMatch(/JOB_COMPLETION_INDEX is set but AUDITREPLAY_SHARDS is not/);
    expect(range.code).toBe(2);
    expect(range.stderr).toMatch(/--shard takes k\/N .*'3\/3'/);
    expect(envRange.code).toBe(2);
    expect(envRange.stderr).toMatch(/JOB_COMPLETION_INDEX\/AUDITREPLAY_SHARDS takes k\/N .*'3\/3'/);
    await expect(readdir(dir)).rejects.toThrow();
  });
});
