import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { BaseEvent, Reject, RejectReason } from '../../../src/core/audit-event.js';
import { decodeObject } from '../../../src/ingest/decode-object.js';
import type { DecoderOptions } from '../../../src/ingest/decoder.js';
import { decoderForFormat } from '../../../src/ingest/decoder-registry.js';
import { newIngestStats } from '../../../src/ingest/ingest-stats.js';
import { RejectLog } from '../../../src/ingest/reject-log.js';
import { LocalSource } from '../../../src/ingest/sources/local/local-source.js';
import { collect } from '../../helpers/temp-tree.js';
import { corpusFiles } from './make-corpus.js';

/**
 * The Parquet conformance corpus: each `<name>.parquet` here, decoded through the real
 * ingest path (local source, decodeObject) both with `--format parquet` and sniffed by
 * its first bytes, yields exactly the events and rejects of `<name>.expected.json`
 * (the schema of test/formats/corpus.test.ts, which reads only line formats).
 */
interface Expected {
  events: BaseEvent[];
  rejects?: { line: number; reason: RejectReason }[];
  options?: DecoderOptions;
}

const dir = fileURLToPath(new URL('.', import.meta.url));
const cases = readdirSync(dir)
  .filter((f) => f.endsWith('.parquet'))
  .sort();

describe('conformance corpus: parquet', () => {
  it('holds the files make-corpus.ts makes', async () => {
    const made = await corpusFiles();
    expect(Object.keys(made).sort()).toEqual(cases);
    for (const [name, bytes] of Object.entries(made)) expect(readFileSync(join(dir, name)).equals(bytes), name).toBe(true);
  });

  for (const file of cases) {
    for (const format of ['parquet', 'auto']) {
      it(`decodes ${file} with --format ${format} into exactly the events and rejects it expects`, async () => {
        const expected = JSON.parse(readFileSync(join(dir, file.replace(/\.parquet$/, '.expected.json')), 'utf8')) as Expected;
        const source = new LocalSource(dir);
        const info = (await source.listDir('')).objects.find((o) => o.key === file)!;
        const written: Reject[] = [];
        const rejects = new RejectLog({ write: async (b) => void written.push(...b) });
        const events = await collect(
          decodeObject(source, { ...info, name: `parquet/${file}`, minTs: -Infinity, maxTs: Infinity }, {
            decoder: decoderForFormat(format),
            decoderOptions: expected.options ?? {},
            window: { from: -Infinity, to: Infinity },
            stats: newIngestStats(),
            rejects,
          }),
        );
        await rejects.flush();
        expect(written.map((r) => ({ line: r.line, reason: r.reason }))).toEqual(expected.rejects ?? []);
        expect(written.every((r) => r.format === 'parquet' && r.object === `parquet/${file}`)).toBe(true);
        expect(events).toEqual(expected.events);
      });
    }
  }
});
