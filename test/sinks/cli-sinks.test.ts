import { appendFile, cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_EVENT_SCHEMA, REJECT_SCHEMA, type RecordSchema, type Row } from '../../src/sinks/record-schema.js';
import { readRecords } from '../../src/sinks/sink-registry.js';
import { runCli } from '../helpers/run-cli.js';

/** `extract --out` and `--rejects` write every format, and what they hold reads back equal to the JSON lines. */

let work: string;
let SOURCE: string[];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'auditreplay-cli-sinks-'));
  // The samples plus two broken lines, so there are rejects to write too.
  await cp('samples/logs/okera', join(work, 'logs'), { recursive: true });
  await appendFile(join(work, 'logs', 'ymd=2026-11-17', 'planner-1-164e57d4.log'), '{"request_id": "cut-off\n\u0001not json at all\n');
  SOURCE = ['--source', join(work, 'logs'), '--from', '2026-11-17', '--to', '2026-11-21', '--progress', 'none'];
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

async function read(url: string, schema: RecordSchema): Promise<Row[]> {
  const rows: Row[] = [];
  for await (const batch of readRecords(url, schema)) rows.push(...batch);
  return rows;
}

describe('extract into every sink format', () => {
  it('writes the same events and rejects as JSON lines, Parquet, Arrow file and Arrow stream', async () => {
    const base = await runCli(['extract', ...SOURCE, '--out', join(work, 'events.jsonl'), '--rejects', join(work, 'rejects.jsonl')]);
    expect(base.code, base.stderr).toBe(0);
    const events = await read(join(work, 'events.jsonl'), AUDIT_EVENT_SCHEMA);
    const rejects = await read(join(work, 'rejects.jsonl'), REJECT_SCHEMA);
    expect(events.length).toBeGreaterThan(100);
    expect(rejects.length).toBeGreaterThan(0);
    for (const ext of ['parquet', 'arrow', 'arrows']) {
      const res = await runCli(['extract', ...SOURCE, '--out', join(work, `events.${ext}`), '--rejects', join(work, `rejects.${ext}`), '--row-group', '100']);
      expect(res.code, res.stderr).toBe(0);
      expect(await read(join(work, `events.${ext}`), AUDIT_EVENT_SCHEMA), ext).toEqual(events);
      expect(await read(join(work, `rejects.${ext}`), REJECT_SCHEMA), ext).toEqual(rejects);
    }
  }, 180_000);

  it('refuses an output it has no format for, naming the forms it takes', async () => {
    const res = await runCli(['extract', ...SOURCE, '--out', join(work, 'events.csv')]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('.parquet');
  });
});
