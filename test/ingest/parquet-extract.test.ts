import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reject } from '../../src/core/audit-event.js';
import { extract, type ExtractOptions } from '../../src/extract/extract-pipeline.js';
import { RejectLog } from '../../src/ingest/reject-log.js';
import type { Source } from '../../src/ingest/source.js';
import { LocalSource } from '../../src/ingest/sources/local/local-source.js';
import { OKERA_FIELDS, okeraRow, SNOWFLAKE_FIELDS, snowflakeRow, writeParquet } from '../formats/parquet/tables.js';
import { collect, makeTree, okeraLine, pgJsonLine } from '../helpers/temp-tree.js';

const DAY = 86_400_000;
const D20 = Date.UTC(2026, 10, 20);
const H = 3_600_000;

/** Wraps a source to record every open (key and offset) and the streams it returned; `sizes: false` hides object sizes from listings. */
function watched(inner: Source, sizes = true): { source: Source; opens: { key: string; offset: number }[]; streams: Readable[] } {
  const opens: { key: string; offset: number }[] = [];
  const streams: Readable[] = [];
  return {
    opens,
    streams,
    source: {
      url: inner.url,
      listDir: async (p, s) => {
        const l = await inner.listDir(p, s);
        return sizes ? l : { ...l, objects: l.objects.map((o) => ({ ...o, size: null })) };
      },
      open: async (key, o) => {
        opens.push({ key, offset: o?.offset ?? 0 });
        const stream = await inner.open(key, o);
        streams.push(stream);
        return stream;
      },
      close: () => inner.close(),
    },
  };
}

async function run(source: Source, options: Partial<ExtractOptions> = {}) {
  const written: Reject[] = [];
  const rejects = new RejectLog({ write: async (b) => void written.push(...b) });
  const { events, stats } = extract({ source, window: { from: D20, to: D20 + DAY }, rejects, ...options });
  return { events: await collect(events), stats, rejects: written };
}

describe('extract over Parquet audit tables', () => {
  let tree: Awaited<ReturnType<typeof makeTree>>;
  beforeAll(async () => {
    // Okera: hours 1..9 over three row groups, row 5 lacking its statement; one row of the day before.
    const okera = [
      okeraRow(D20 - 2 * H, { request_id: 'ok-prev' }),
      ...Array.from({ length: 9 }, (_, i) =>
        okeraRow(D20 + (i + 1) * H, { request_id: `ok-${i + 1}`, statement: i === 4 ? undefined : `SELECT ${i + 1} FROM sales.orders` }),
      ),
    ];
    const snowflake = [
      snowflakeRow(D20 + 1.5 * H, { QUERY_ID: 'sf-1', QUERY_TEXT: 'CREATE TABLE analytics.public.t (a int)', QUERY_TYPE: 'CREATE_TABLE' }),
      snowflakeRow(D20 + 2.5 * H, { QUERY_ID: 'sf-2', QUERY_TEXT: 'GRANT SELECT ON TABLE t TO ROLE analyst', EXECUTION_STATUS: 'FAIL', ERROR_MESSAGE: 'Insufficient privileges' }),
      snowflakeRow(D20 + 3.5 * H, { QUERY_ID: 'sf-3', START_TIME: undefined }),
      snowflakeRow(D20 + 4.5 * H, { QUERY_ID: 'sf-4', QUERY_TEXT: 'SELECT 4' }),
    ];
    tree = await makeTree({
      'ymd=2026-11-20/okera-audit.parquet': await writeParquet(OKERA_FIELDS, okera, { rowGroupSize: 4, compression: 'SNAPPY' }),
      'ymd=2026-11-20/snowflake-history.parquet': await writeParquet(SNOWFLAKE_FIELDS, snowflake, { rowGroupSize: 2, pageV2: false, compression: 'GZIP' }),
      'ymd=2026-11-20/okera.log': [okeraLine({ request_id: 'json-1', start_unix_time: D20 + 2 * H }), okeraLine({ request_id: 'json-2', start_unix_time: D20 + 6 * H })].join('\n'),
      'ymd=2026-11-20/postgresql.json': pgJsonLine({ timestamp: '2026-11-20 05:00:00.000 UTC', message: 'duration: 1.000 ms  statement: SELECT 42' }),
    });
  });
  afterAll(() => tree.cleanup());

  const parquetIds = ['ok-1', 'sf-1', 'ok-2', 'sf-2', 'ok-3', 'ok-4', 'sf-4', 'ok-6', 'ok-7', 'ok-8', 'ok-9'];

  it('reads Okera and Snowflake tables with --format parquet, merged in (ts, id) order, rejecting bad rows with object and row', async () => {
    const { events, stats, rejects } = await run(new LocalSource(tree.root), { format: 'parquet' });
    expect(events.map((e) => e.id)).toEqual(parquetIds);
    expect(events.every((e) => e.source.format === 'parquet')).toBe(true);
    const grant = events.find((e) => e.id === 'sf-2')!;
    expect(grant).toMatchObject({ kind: 'dcl', command: 'GRANT', ok: false, error: 'Insufficient privileges', user: 'ETL_USER', database: 'ANALYTICS' });
    expect(grant.source).toEqual({ format: 'parquet', object: `${tree.root}/ymd=2026-11-20/snowflake-history.parquet`, line: 2 });
    expect(events.find((e) => e.id === 'sf-1')).toMatchObject({ kind: 'ddl', command: 'CREATE TABLE', extra: expect.objectContaining({ schema_name: 'PUBLIC', query_type: 'CREATE_TABLE' }) });
    expect(rejects.map((r) => [r.object.slice(tree.root.length + 1), r.line, r.reason, r.format]).sort()).toEqual([
      ['ymd=2026-11-20/okera-audit.parquet', 6, 'malformed-line', 'parquet'],
      ['ymd=2026-11-20/okera.log', 1, 'malformed-line', 'parquet'],
      ['ymd=2026-11-20/postgresql.json', 1, 'malformed-line', 'parquet'],
      ['ymd=2026-11-20/snowflake-history.parquet', 3, 'bad-timestamp', 'parquet'],
    ]);
    expect(stats.ingest).toMatchObject({ objectsOpened: 4, objectsDone: 4, records: 12, outsideWindow: 1 });
    expect(stats.ingest.bytesRead).toBeGreaterThan(0);
  });

  it('sniffs Parquet from the first bytes in a folder mixed with JSON logs, opening each object once from its start', async () => {
    const w = watched(new LocalSource(tree.root));
    const { events, rejects } = await run(w.source);
    expect(events.map((e) => [e.id, e.source.format])).toEqual([
      ['ok-1', 'parquet'],
      ['sf-1', 'parquet'],
      ['json-1', 'okera'],
      ['ok-2', 'parquet'],
      ['sf-2', 'parquet'],
      ['ok-3', 'parquet'],
      ['ok-4', 'parquet'],
      ['sf-4', 'parquet'],
      ['6736a1b2.1092:1', 'pg-json'],
      ['json-2', 'okera'],
      ['ok-6', 'parquet'],
      ['ok-7', 'parquet'],
      ['ok-8', 'parquet'],
      ['ok-9', 'parquet'],
    ]);
    expect(rejects.map((r) => [r.object.slice(tree.root.length + 1), r.line, r.reason, r.format]).sort()).toEqual([
      ['ymd=2026-11-20/okera-audit.parquet', 6, 'malformed-line', 'parquet'],
      ['ymd=2026-11-20/snowflake-history.parquet', 3, 'bad-timestamp', 'parquet'],
    ]);
    // Small files: the stream opened for sniffing serves the footer and every row group.
    const opensOf = (key: string) => w.opens.filter((o) => o.key === key).map((o) => o.offset);
    expect(opensOf('ymd=2026-11-20/okera-audit.parquet')).toEqual([0]);
    expect(opensOf('ymd=2026-11-20/snowflake-history.parquet')).toEqual([0]);
    expect(opensOf('ymd=2026-11-20/okera.log')).toEqual([0]);
    expect(w.streams.every((s) => s.destroyed)).toBe(true);
  });

  it('maps columns given as decoder options', async () => {
    const w = watched(new LocalSource(tree.root));
    const { events } = await run(w.source, { format: 'parquet', decoderOptions: { columns: { user: 'connected_user', database: 'ae_table' } }, layout: 'flat' });
    // The Snowflake file lacks those columns and is rejected whole; the JSON files are no Parquet.
    expect(events.map((e) => e.id)).toEqual(['ok-1', 'ok-2', 'ok-3', 'ok-4', 'ok-6', 'ok-7', 'ok-8', 'ok-9']);
  });

  it('rejects text objects forced to --format parquet, and Parquet objects forced to a line format, without guessing', async () => {
    const w = watched(new LocalSource(tree.root));
    const forced = await run(w.source, { format: 'parquet' });
    expect(forced.rejects.filter((r) => r.object.endsWith('okera.log'))).toEqual([
      expect.objectContaining({ line: 1, reason: 'malformed-line', message: 'not a readable Parquet file: does not start with the Parquet magic bytes PAR1' }),
    ]);
    const asOkera = await run(new LocalSource(tree.root), { format: 'okera' });
    expect(asOkera.events.map((e) => e.id)).toEqual(['json-1', 'json-2']);
    expect(asOkera.rejects.some((r) => r.object.endsWith('.parquet') && r.format === 'okera')).toBe(true);
  });

  it('rejects a Parquet object whose size the listing does not give, and closes its stream', async () => {
    const w = watched(new LocalSource(tree.root), false);
    const { events, rejects } = await run(w.source);
    expect(events.map((e) => e.id)).toEqual(['json-1', '6736a1b2.1092:1', 'json-2']);
    expect(rejects.map((r) => [r.object.slice(tree.root.length + 1), r.line, r.reason, r.message]).sort()).toEqual([
      ['ymd=2026-11-20/okera-audit.parquet', 1, 'read-error', "parquet is read from its footer, and the listing did not give the object's size"],
      ['ymd=2026-11-20/snowflake-history.parquet', 1, 'read-error', "parquet is read from its footer, and the listing did not give the object's size"],
    ]);
    expect(w.streams.every((s) => s.destroyed)).toBe(true);
  });
});

describe('extract over a large Parquet table', () => {
  it('reads it row group by row group through few opens, and closes its streams when stopped early', async () => {
    const rows = Array.from({ length: 3000 }, (_, i) => ({ ...okeraRow(D20 + i * 1000, { request_id: `r${i}` }), note: `n${i}`.padEnd(400, '.') }));
    const t = await makeTree({ 'audit.parquet': await writeParquet({ ...OKERA_FIELDS, note: { type: 'UTF8' } }, rows, { rowGroupSize: 500 }) });
    try {
      const all = watched(new LocalSource(t.root));
      const { events, stats } = await run(all.source, { layout: 'flat' });
      expect(events).toHaveLength(3000);
      expect(new Set(all.opens.map((o) => o.key))).toEqual(new Set(['audit.parquet']));
      // The note column (most of the file) is not decoded; its chunks, under 1 MiB each, are read through
      // rather than opened around, so opens stay few and each byte is read about once.
      expect(all.opens.length).toBeLessThanOrEqual(3);
      expect(stats.ingest.bytesRead).toBeLessThan(statSync(join(t.root, 'audit.parquet')).size + 128 * 1024);

      const early = watched(new LocalSource(t.root));
      const { events: stream } = extract({ source: early.source, window: { from: D20, to: D20 + DAY }, rejects: new RejectLog(null), layout: 'flat' });
      for await (const batch of stream) {
        expect(batch.length).toBeGreaterThan(0);
        break;
      }
      expect(early.streams.length).toBeGreaterThan(0);
      expect(early.streams.every((s) => s.destroyed)).toBe(true);
    } finally {
      await t.cleanup();
    }
  });
});
