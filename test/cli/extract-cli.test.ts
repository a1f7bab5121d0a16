import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent, Reject } from '../../src/core/audit-event.js';
import { compareIds } from '../../src/extract/order-events.js';
import { runCli } from '../helpers/run-cli.js';
import { makeTree, okeraLine } from '../helpers/temp-tree.js';

const jsonl = <T>(text: string): T[] =>
  text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T);

describe('auditreplay extract on samples/', () => {
  let events: AuditEvent[];
  let summary: Record<string, unknown>;
  beforeAll(async () => {
    const r = await runCli(['extract', '--source', 'samples/logs', '--from', '2026-11-17', '--to', '2026-11-21']);
    expect(r.code, r.stderr).toBe(0);
    events = jsonl<AuditEvent>(r.stdout);
    summary = r.summary!;
  });

  it('reads every sample object without a reject', () => {
    expect(summary).toMatchObject({ type: 'summary', command: 'extract', rejected: 0, late: 0 });
    expect(summary.objects).toBe(summary.objectsListed);
    expect(events.length).toBe(summary.selected);
  });

  it('emits events in (ts, id) order across both formats', () => {
    for (let i = 1; i < events.length; i++) {
      const a = events[i - 1]!;
      const b = events[i]!;
      expect(a.ts < b.ts || (a.ts === b.ts && compareIds(a.id, b.id) < 0), `${a.id} before ${b.id}`).toBe(true);
    }
    expect(new Set(events.map((e) => e.source.format))).toEqual(new Set(['okera', 'pg-json']));
  });

  it('gives each event a unique id, a kind, a command and a fingerprint', () => {
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    const kinds = new Set(events.map((e) => e.kind));
    for (const k of ['ddl', 'dcl', 'query', 'dml', 'session']) expect(kinds).toContain(k);
    for (const e of events) {
      expect(e.command).not.toBe('');
      expect(e.fingerprintId).toMatch(/^[0-9a-f]{16}$/);
    }
  });

  it('folds the start/end duplicate records and keeps failed statements', () => {
    expect(summary.duplicates as number).toBeGreaterThan(0);
    expect(events.some((e) => e.ok === false && e.error)).toBe(true);
  });

  it('selects DDL and DCL only with --kind ddl,dcl', async () => {
    const r = await runCli(['extract', '--source', 'samples/logs', '--from', '2026-11-17', '--to', '2026-11-21', '--kind', 'ddl,dcl']);
    expect(r.code).toBe(0);
    const ddl = jsonl<AuditEvent>(r.stdout);
    expect(ddl.length).toBe(events.filter((e) => e.kind === 'ddl' || e.kind === 'dcl').length);
    expect(ddl.length).toBeGreaterThan(0);
  });
});

describe('auditreplay extract as a command', () => {
  let tree: Awaited<ReturnType<typeof makeTree>>;
  const D20 = Date.UTC(2026, 10, 20);
  beforeAll(async () => {
    tree = await makeTree({
      'logs/ymd=2026-11-20/a.log': [okeraLine({ request_id: 'a1', start_unix_time: D20 + 1000 }), 'not json', 'also not json', okeraLine({ request_id: 'a2', start_unix_time: D20 + 2000 })].join('\n'),
    });
  });
  afterAll(() => tree.cleanup());
  const logs = () => join(tree.root, 'logs');

  it('writes --out and --rejects files atomically, leaving no temporary file behind', async () => {
    const out = join(tree.root, 'events.jsonl.gz');
    const rej = join(tree.root, 'rejects.jsonl');
    const r = await runCli(['extract', '--source', logs(), '--from', '2026-11-20', '--to', '2026-11-21', '--out', out, '--rejects', rej]);
    expect(r.code, r.stderr).toBe(0);
    const { gunzipSync } = await import('node:zlib');
    expect(jsonl<AuditEvent>(gunzipSync(await readFile(out)).toString()).map((e) => e.id)).toEqual(['a1', 'a2']);
    expect(jsonl<Reject>(await readFile(rej, 'utf8')).map((x) => [x.line, x.reason])).toEqual([
      [2, 'malformed-line'],
      [3, 'malformed-line'],
    ]);
    expect((await readdir(tree.root)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(r.stderr).toMatch(/reject: .*a\.log:2: malformed-line/);
  });

  it('exits 3 when rejects pass --max-rejects, and leaves no output file', async () => {
    const out = join(tree.root, 'never.jsonl');
    const r = await runCli(['extract', '--source', logs(), '--from', '2026-11-20', '--to', '2026-11-21', '--out', out, '--max-rejects', '1']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/more than 1 rejects \(--max-rejects\)/);
    expect(await readdir(tree.root)).not.toContain('never.jsonl');
  });

  it('exits 2 with a clear message on a bad time or an unknown kind', async () => {
    const bad = await runCli(['extract', '--source', logs(), '--from', 'last tuesday']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/cannot read time 'last tuesday'/);
    const kind = await runCli(['extract', '--source', logs(), '--from', '7d', '--kind', 'ddl,selects']);
    expect(kind.code).toBe(2);
    expect(kind.stderr).toMatch(/unknown --kind 'selects'/);
  });

  it('shows examples in --help', async () => {
    const r = await runCli(['extract', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Examples:/);
    expect(r.stdout).toMatch(/--kind ddl,dcl/);
  });

  it('ends stderr with a JSON summary that counts records and rejects by reason', async () => {
    const r = await runCli(['extract', '--source', logs(), '--from', '2026-11-20', '--to', '2026-11-21', '--progress', 'json']);
    expect(r.code).toBe(0);
    expect(r.summary).toMatchObject({ records: 2, rejected: 2, rejectedByReason: { 'malformed-line': 2 } });
  });
});

describe('auditreplay extract interrupted', () => {
  let tree: Awaited<ReturnType<typeof makeTree>>;
  const D20 = Date.UTC(2026, 10, 20);
  beforeAll(async () => {
    // Large enough that the run is still going when the signal arrives.
    const lines: string[] = [];
    for (let i = 0; i < 150_000; i++) lines.push(okeraLine({ request_id: `r${i}`, start_unix_time: D20 + i * 100, statement: `SELECT * FROM t WHERE id = ${i}` }));
    tree = await makeTree({ 'logs/ymd=2026-11-20/big.log': lines.join('\n') + '\n' });
  });
  afterAll(() => tree.cleanup());

  it('stops on SIGINT with exit 130 and leaves no output, finished or temporary', async () => {
    const out = join(tree.root, 'events.jsonl');
    let pid = 0;
    const running = runCli(['extract', '--source', join(tree.root, 'logs'), '--from', '2026-11-20', '--to', '2026-11-21', '--out', out], {
      onSpawn: (p) => (pid = p),
    });
    // Wait until the writer has started: its temporary file appears beside the output.
    for (let i = 0; i < 200 && !(await readdir(tree.root)).some((f) => f.endsWith('.tmp')); i++) await new Promise((r) => setTimeout(r, 25));
    process.kill(pid, 'SIGINT');
    const r = await running;
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/interrupted by SIGINT/);
    expect((await readdir(tree.root)).sort()).toEqual(['logs']);
  });
});
