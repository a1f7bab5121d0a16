import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { BaseEvent, Reject, RejectReason } from '../../src/core/audit-event.js';
import { decodeObject } from '../../src/ingest/decode-object.js';
import type { DecoderOptions } from '../../src/ingest/decoder.js';
import { decoderForFormat, sniffDecoder } from '../../src/ingest/decoder-registry.js';
import { newIngestStats } from '../../src/ingest/ingest-stats.js';
import { RejectLog } from '../../src/ingest/reject-log.js';
import type { ObjectRef } from '../../src/ingest/source.js';
import { LocalSource } from '../../src/ingest/sources/local/local-source.js';
import { collect } from '../helpers/temp-tree.js';

/**
 * The conformance corpus. Every folder `test/formats/<format>/` that holds record files
 * (`*.log`, `*.jsonl`, `*.csv`) next to `<name>.expected.json` is a corpus for the decoder
 * named `<format>`: each record file is decoded through the real ingest path (local
 * source, line splitting, the decoder's `prepare` over every file of the folder, so
 * companion logs such as Redshift's connectionlog take part) and must yield exactly the
 * expected events, rejects and skips. The expected file holds:
 *
 * - `events`: the BaseEvents, in the order the file yields them, with `source.object`
 *   written as `<format>/<file>`;
 * - `rejects` (default none): `{line, reason}` of each reject;
 * - `skips` (default none): skipped records by reason;
 * - `options` (optional): DecoderOptions the format needs, such as `pgPrefix`;
 * - `sniff` (default true): whether `--format auto` must pick `<format>` from the file's
 *   first non-empty line.
 *
 * Nothing here knows a format: a new format's folder is picked up as it is.
 */
interface Expected {
  description?: string;
  events: BaseEvent[];
  rejects?: { line: number; reason: RejectReason }[];
  skips?: Record<string, number>;
  options?: DecoderOptions;
  sniff?: boolean;
}

const RECORD_FILE = /\.(log|jsonl|csv)$/;
const root = fileURLToPath(new URL('.', import.meta.url));

function expectedName(file: string): string {
  return file.replace(RECORD_FILE, '.expected.json');
}

function objectRef(format: string, file: string, size: number | null): ObjectRef {
  return { key: file, size, name: `${format}/${file}`, minTs: -Infinity, maxTs: Infinity };
}

for (const folder of readdirSync(root, { withFileTypes: true })) {
  if (!folder.isDirectory()) continue;
  const format = folder.name;
  const dir = join(root, format);
  const files = readdirSync(dir).sort();
  const cases = files.filter((f) => RECORD_FILE.test(f) && files.includes(expectedName(f)));
  if (cases.length === 0) continue;

  describe(`conformance corpus: ${format}`, () => {
    for (const file of cases) {
      it(`decodes ${file} into exactly the events, rejects and skips of ${expectedName(file)}`, async () => {
        const expected = JSON.parse(readFileSync(join(dir, expectedName(file)), 'utf8')) as Expected;
        const decoder = decoderForFormat(format);
        expect(decoder, `no decoder is registered as '${format}'`).not.toBeNull();
        const source = new LocalSource(dir);
        const objects = (await source.listDir('')).objects.map((o) => objectRef(format, o.key, o.size));
        const options: DecoderOptions = { ...expected.options };
        const prepared = new Map<string, unknown>();
        if (decoder!.prepare) prepared.set(format, await decoder!.prepare(source, objects, options));
        const written: Reject[] = [];
        const rejects = new RejectLog({ write: async (b) => void written.push(...b) });
        const stats = newIngestStats();
        const events = await collect(
          decodeObject(source, objects.find((o) => o.key === file)!, {
            decoder,
            decoderOptions: { ...options, prepared },
            window: { from: -Infinity, to: Infinity },
            stats,
            rejects,
          }),
        );
        await rejects.flush();

        expect(written.map((r) => ({ line: r.line, reason: r.reason }))).toEqual(expected.rejects ?? []);
        expect(stats.skipped).toEqual(expected.skips ?? {});
        expect(events).toEqual(expected.events);
        if (expected.sniff !== false) {
          const first = readFileSync(join(dir, file), 'utf8').split('\n').find((l) => l.trim() !== '');
          expect(first === undefined ? null : sniffDecoder(first)?.format).toBe(format);
        }
      });
    }
  });
}
