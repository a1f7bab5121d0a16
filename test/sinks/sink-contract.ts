import { describe, expect, it } from 'vitest';
import type { RecordSchema, Row } from '../../src/sinks/record-schema.js';
import { openSink, readRecords } from '../../src/sinks/sink-registry.js';
import type { Sink, SinkOptions } from '../../src/sinks/sink.js';

export interface SinkHarness {
  /** A fresh output URL each call (a file, an object, a table with a new run id). */
  url(): Promise<string>;
  /** Endpoints and the like the sink and reader need. */
  options?: Omit<SinkOptions<Row>, 'schema'>;
  /** Names of leftovers (temporary files, uploads in progress) at the last URL, beyond the output itself. */
  leftovers?(url: string): Promise<string[]>;
}

/** Every column type, nullable and optional ones, as the public records have them. */
export const CONTRACT_SCHEMA: RecordSchema = {
  name: 'contract',
  columns: [
    { name: 'id', type: 'string', nullable: false },
    { name: 'ts', type: 'timestamp', nullable: false },
    { name: 'end', type: 'timestamp', nullable: true },
    { name: 'n', type: 'int64', nullable: true },
    { name: 'x', type: 'double', nullable: true },
    { name: 'ok', type: 'boolean', nullable: true },
    { name: 'statement', type: 'string', nullable: false },
    { name: 'meta', type: 'json', nullable: true, optional: true },
  ],
};

const BIG = 2n ** 60n;

/** 2,500 records: fractional-millisecond times, int64 beyond 2^53, nulls, unicode and emoji, one statement of 1 MB. */
export const RECORDS: Row[] = Array.from({ length: 2500 }, (_, i) => ({
  id: `r${i}`,
  ts: 1795168800000 + i * 1000.5 + (i % 7 === 0 ? 0.897 : 0),
  end: i % 2 === 0 ? null : 1795168800000 + i * 1000.5 + 12.25,
  n: i % 4 === 0 ? null : i % 4 === 1 ? BIG + BigInt(i) : i % 4 === 2 ? -i : Number.MAX_SAFE_INTEGER - i,
  x: i % 5 === 0 ? null : i / 3,
  ok: i % 3 === 0 ? null : i % 3 === 1,
  statement: i === 7 ? 'x'.repeat(1024 * 1024) : `SELECT '${'é😀\t"\\'.repeat(i % 5)}', ${i} -- ünïcödé ${'€'.repeat(i % 3)}`,
  ...(i % 3 === 0 ? { meta: { a: [1, 'é'], b: { c: null } } } : {}),
}));

async function readBack(url: string, options: SinkHarness['options']): Promise<Row[] | null> {
  const rows: Row[] = [];
  try {
    for await (const batch of readRecords(url, CONTRACT_SCHEMA, options ?? {})) rows.push(...batch);
  } catch (err) {
    if ((err as { code?: string }).code === 'sink-not-found') return null;
    throw err;
  }
  return rows;
}

async function open(h: SinkHarness, url: string): Promise<Sink<Row>> {
  return openSink<Row>(url, { ...h.options, schema: CONTRACT_SCHEMA, rowGroupSize: 1000 });
}

/**
 * The contract every sink keeps, whatever its format and location: run for each one
 * by sinks.test.ts. What is read back goes through the same registry compare uses.
 */
export function sinkContract(name: string, make: () => Promise<SinkHarness>): void {
  describe(`Sink contract: ${name}`, () => {
    it('holds exactly the records written, in order and with every value intact, after commit', async () => {
      const h = await make();
      const url = await h.url();
      const sink = await open(h, url);
      for (let i = 0; i < RECORDS.length; i += 700) await sink.write(RECORDS.slice(i, i + 700));
      await sink.commit();
      const back = await readBack(url, h.options);
      expect(back).toHaveLength(RECORDS.length);
      // One by one: a failure names the record instead of printing 2,500 of them.
      for (let i = 0; i < RECORDS.length; i++) expect(back![i], `record ${i}`).toEqual(RECORDS[i]);
      expect(await h.leftovers?.(url)).toEqual(h.leftovers ? [] : undefined);
    });

    it('shows nothing under the final name before commit', async () => {
      const h = await make();
      const url = await h.url();
      const sink = await open(h, url);
      await sink.write(RECORDS.slice(0, 10));
      expect((await readBack(url, h.options)) ?? []).toEqual([]);
      await sink.commit();
      expect(await readBack(url, h.options)).toHaveLength(10);
    });

    it('leaves nothing behind when aborted', async () => {
      const h = await make();
      const url = await h.url();
      const sink = await open(h, url);
      await sink.write(RECORDS.slice(0, 100));
      await sink.abort();
      expect((await readBack(url, h.options)) ?? []).toEqual([]);
      expect(await h.leftovers?.(url)).toEqual(h.leftovers ? [] : undefined);
    });

    it('commits a valid empty output when nothing was written', async () => {
      const h = await make();
      const url = await h.url();
      const sink = await open(h, url);
      await sink.commit();
      expect(await readBack(url, h.options)).toEqual([]);
    });

    it('ignores abort after commit', async () => {
      const h = await make();
      const url = await h.url();
      const sink = await open(h, url);
      await sink.write(RECORDS.slice(0, 3));
      await sink.commit();
      await sink.abort();
      expect(await readBack(url, h.options)).toEqual(RECORDS.slice(0, 3));
    });
  });
}
