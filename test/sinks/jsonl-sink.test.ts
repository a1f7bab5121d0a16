import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { openSink } from '../../src/sinks/sink-registry.js';
import { sinkContract, type SinkHarness } from './sink-contract.js';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

function jsonlHarness(fileName: string): () => Promise<SinkHarness> {
  return async () => {
    const dir = await mkdtemp(join(tmpdir(), 'auditreplay-sink-'));
    dirs.push(dir);
    const path = join(dir, fileName);
    return {
      open: () => openSink(path),
      async readBack() {
        let bytes: Buffer;
        try {
          bytes = await readFile(path);
        } catch {
          return null;
        }
        const text = fileName.endsWith('.gz') ? gunzipSync(bytes).toString() : bytes.toString();
        return text
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Record<string, unknown>);
      },
      leftovers: async () => (await readdir(dir)).filter((f) => f !== fileName),
    };
  };
}

sinkContract('JSON lines file', jsonlHarness('events.jsonl'));
sinkContract('gzip JSON lines file', jsonlHarness('events.jsonl.gz'));

describe('JSON lines sink failures', () => {
  it('fails with a clear error naming the output when it cannot be written', async () => {
    const sink = await openSink<{ a: number }>('/nonexistent-auditreplay-dir/events.jsonl');
    await sink.write([{ a: 1 }]).catch(() => {});
    await expect(sink.commit()).rejects.toMatchObject({ code: 'sink-failed', message: expect.stringMatching(/cannot write \/nonexistent-auditreplay-dir\/events.jsonl/) });
  });
});

describe('sink registry', () => {
  it('names the accepted forms when a URL fits no sink', async () => {
    await expect(openSink('out.csv')).rejects.toThrow(/no sink for 'out.csv'.*\.jsonl/);
  });
});
