import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { extractProgress, Progress } from '../../src/cli/progress.js';
import { configureLogging } from '../../src/core/logger.js';
import type { ExtractStats } from '../../src/extract/extract-pipeline.js';
import { newIngestStats } from '../../src/ingest/ingest-stats.js';

function capture(isTTY: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString();
      done();
    },
  }) as unknown as NodeJS.WriteStream;
  stream.isTTY = isTTY;
  return { stream, text: () => text };
}

const stats = (): ExtractStats => ({ ingest: { ...newIngestStats(), records: 1234, objectsDone: 2, objectsListed: 5 }, classify: { events: 0, selected: 7, filteredOut: 0 }, duplicates: 0, late: 0 });

describe('progress on stderr', () => {
  afterEach(() => configureLogging());

  it('writes periodic JSON log lines with the run id and stage when the stream is not a terminal', async () => {
    const out = capture(false);
    configureLogging({ destination: out.stream, runId: 'run-1', command: 'extract' });
    const p = new Progress(extractProgress(stats()), 'auto', 10, out.stream);
    p.start();
    await new Promise((r) => setTimeout(r, 60));
    p.stop();
    const lines = out.text().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines[0]).toMatchObject({ level: 'info', runId: 'run-1', stage: 'extract', msg: 'progress', type: 'progress', objects: 2, objectsListed: 5, records: 1234, selected: 7 });
    expect(lines[0]!.elapsedMs).toEqual(expect.any(Number));
  });

  it('redraws one live line on a terminal, and logs nothing', async () => {
    const out = capture(true);
    configureLogging({ destination: out.stream, runId: 'run-1' });
    const p = new Progress(extractProgress(stats()), 'auto', 10, out.stream);
    p.start();
    await new Promise((r) => setTimeout(r, 300));
    p.stop();
    expect(out.text()).toContain('\r\u001b[2Kobjects 2/5  records 1234');
    expect(out.text()).not.toMatch(/\n/);
  });

  it('stays silent with none', async () => {
    const out = capture(false);
    configureLogging({ destination: out.stream, runId: 'run-1' });
    const p = new Progress(extractProgress(stats()), 'none', 10, out.stream);
    p.start();
    await new Promise((r) => setTimeout(r, 30));
    p.stop();
    expect(out.text()).toBe('');
  });
});
