import { describe, expect, it } from 'vitest';
import type { Sink } from '../../src/sinks/sink.js';

export interface SinkHarness {
  /** Opens a sink writing to a fresh location. */
  open(): Promise<Sink<Record<string, unknown>>>;
  /** Reads back what the location holds, or null when nothing is there under the final name. */
  readBack(): Promise<Record<string, unknown>[] | null>;
  /** Names of leftovers (temporary files, uploads in progress) at the location. */
  leftovers(): Promise<string[]>;
}

const RECORDS = Array.from({ length: 2500 }, (_, i) => ({
  id: `r${i}`,
  ts: 1795168800000 + i + 0.5,
  ok: i % 3 === 0 ? null : i % 3 === 1,
  statement: i === 7 ? 'x'.repeat(1024 * 1024) : `SELECT '${'é😀'.repeat(i % 5)}', ${i}`,
}));

/** The contract every Sink keeps: run by each implementation's test file. */
export function sinkContract(name: string, make: () => Promise<SinkHarness>): void {
  describe(`Sink contract: ${name}`, () => {
    it('holds exactly the records written, in order, after commit', async () => {
      const h = await make();
      const sink = await h.open();
      for (let i = 0; i < RECORDS.length; i += 700) await sink.write(RECORDS.slice(i, i + 700));
      await sink.commit();
      expect(await h.readBack()).toEqual(RECORDS);
      expect(await h.leftovers()).toEqual([]);
    });

    it('shows nothing under the final name before commit', async () => {
      const h = await make();
      const sink = await h.open();
      await sink.write(RECORDS.slice(0, 10));
      expect(await h.readBack()).toBeNull();
      await sink.commit();
      expect(await h.readBack()).toHaveLength(10);
    });

    it('leaves nothing behind when aborted', async () => {
      const h = await make();
      const sink = await h.open();
      await sink.write(RECORDS.slice(0, 100));
      await sink.abort();
      expect(await h.readBack()).toBeNull();
      expect(await h.leftovers()).toEqual([]);
    });

    it('commits an empty output when nothing was written', async () => {
      const h = await make();
      const sink = await h.open();
      await sink.commit();
      expect(await h.readBack()).toEqual([]);
    });

    it('ignores abort after commit', async () => {
      const h = await make();
      const sink = await h.open();
      await sink.write(RECORDS.slice(0, 3));
      await sink.commit();
      await sink.abort();
      expect(await h.readBack()).toHaveLength(3);
    });
  });
}
