import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { configureLogging, logger, parseLogFormat, parseLogLevel, safeText } from '../../src/core/logger.js';
import { runCli } from '../helpers/run-cli.js';

function capture(isTTY = false): { stream: NodeJS.WritableStream & { isTTY?: boolean }; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString();
      done();
    },
  }) as NodeJS.WritableStream & { isTTY?: boolean };
  stream.isTTY = isTTY;
  return { stream, text: () => text };
}

const lines = (text: string): Record<string, unknown>[] =>
  text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('the logger', () => {
  afterEach(() => configureLogging());

  it("writes one JSON object per line with the level, an ISO time, the run id and the stage (the command's by default)", () => {
    const out = capture();
    configureLogging({ destination: out.stream, runId: 'run-7', command: 'sync' });
    logger().info('applying');
    logger('ingest').warn({ object: 'a.log', line: 3 }, 'reject: a.log:3: malformed-line');
    const [first, second] = lines(out.text());
    expect(first).toEqual({ level: 'info', time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/), runId: 'run-7', stage: 'sync', msg: 'applying' });
    expect(second).toMatchObject({ level: 'warn', runId: 'run-7', stage: 'ingest', object: 'a.log', line: 3 });
  });

  it('keeps credentials out: fields that hold them, URL passwords and SAS signatures in messages and fields', () => {
    const out = capture();
    configureLogging({ destination: out.stream, runId: 'r' });
    logger('sync').error(
      {
        password: 'pw-field-1',
        auth: { token: 'tok-field-2', connectionString: 'AccountName=a;AccountKey=key-field-3' },
        target: 'postgres://sync:pw-url-4@db.internal:5432/app',
        out: 'https://acct.blob.core.windows.net/c/results.jsonl?sv=2022&sig=sig-5',
        conninfo: 'host=db user=sync password=pw-conninfo-6',
      },
      'cannot connect to postgres://sync:pw-msg-7@db.internal/app',
    );
    const text = out.text();
    for (const secret of ['pw-field-1', 'tok-field-2', 'key-field-3', 'pw-url-4', 'sig-5', 'pw-conninfo-6', 'pw-msg-7']) expect(text).not.toContain(secret);
    const [line] = lines(text);
    expect(line).toMatchObject({
      password: '[redacted]',
      auth: { token: '[redacted]', connectionString: '[redacted]' },
      target: 'postgres://sync:***@db.internal:5432/app',
      out: 'https://acct.blob.core.windows.net/c/results.jsonl?sv=2022&sig=[redacted]',
      msg: 'cannot connect to postgres://sync:***@db.internal/app',
    });
    // URLs without a password stay as they are.
    expect(safeText('postgres://sync@db/app and s3://bucket/key')).toBe('postgres://sync@db/app and s3://bucket/key');
  });

  it('leaves out lines below the level', () => {
    const out = capture();
    configureLogging({ destination: out.stream, runId: 'r', level: 'warn' });
    logger('replay').info('not shown');
    logger('replay').warn('shown');
    expect(lines(out.text()).map((l) => l.msg)).toEqual(['shown']);
  });

  it('writes text lines for people with the text format, and picks text on a terminal with auto', () => {
    for (const [format, tty] of [
      ['text', false],
      ['auto', true],
    ] as const) {
      const out = capture(tty);
      configureLogging({ destination: out.stream, runId: 'r', format });
      logger('replay').warn({ sqlState: '42P01', n: 3 }, 'replay: a statement failed');
      const text = out.text();
      expect(text, format).toMatch(/WARN.*replay {2}replay: a statement failed {2}sqlState=42P01 n=3/);
      expect(text.trim().startsWith('{'), format).toBe(false);
    }
    const json = capture(false);
    configureLogging({ destination: json.stream, runId: 'r', format: 'auto' });
    logger('replay').info('x');
    expect(lines(json.text())[0]).toMatchObject({ msg: 'x', stage: 'replay' });
  });

  it('refuses an unknown format or level with a usage error naming the flag', () => {
    expect(parseLogFormat('json')).toBe('json');
    expect(parseLogLevel('debug')).toBe('debug');
    expect(() => parseLogFormat('yaml')).toThrow(/--log-format takes json, text, auto, not 'yaml'/);
    expect(() => parseLogLevel('loud')).toThrow(/--log-level takes fatal, error, warn, info, debug, trace, silent/);
  });
});

describe('logs of a command', () => {
  let work: string;
  const EXTRACT = ['extract', '--source', 'samples/logs/postgres', '--from', '2026-11-17', '--to', '2026-11-18', '--kind', 'ddl', '--progress', 'json'];
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'auditreplay-logs-'));
  });
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('are JSON lines with the run id and stage, the last one the summary, which --metrics-file holds too', async () => {
    const metricsFile = join(work, 'summary.json');
    const res = await runCli([...EXTRACT, '--out', join(work, 'events.jsonl'), '--metrics-file', metricsFile]);
    expect(res.code, res.stderr).toBe(0);
    const entries = lines(res.stderr);
    const summary = entries.at(-1)!;
    expect(summary).toMatchObject({ level: 'info', stage: 'extract', type: 'summary', command: 'extract', runId: expect.any(String), msg: expect.stringMatching(/^extract: \d+ objects/) });
    for (const e of entries) expect(e).toMatchObject({ runId: summary.runId, stage: expect.any(String), msg: expect.any(String) });
    expect(res.summary).toEqual(summary);
    const file = JSON.parse(await readFile(metricsFile, 'utf8')) as Record<string, unknown>;
    const { level: _level, time: _time, stage: _stage, msg: _msg, ...fields } = summary;
    expect(file).toEqual(fields);
  });

  it('are text for people with --log-format text', async () => {
    const res = await runCli([...EXTRACT, '--out', join(work, 'events-2.jsonl'), '--log-format', 'text']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toMatch(/INFO.*extract {2}extract: \d+ objects, \d+ records read/);
    expect(res.stderr.split('\n').filter((l) => l.startsWith('{'))).toEqual([]);
  });

  it('refuses an unknown --log-format with exit code 2', async () => {
    const res = await runCli([...EXTRACT, '--log-format', 'xml']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("--log-format takes json, text, auto, not 'xml'");
  });
});
