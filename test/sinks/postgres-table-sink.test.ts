import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { timestampText } from '../../src/sinks/postgres/postgres-table-sink.js';
import { isTableUrl, openTableSink, readTable } from '../../src/sinks/postgres/index.js';
import { AUDIT_EVENT_SCHEMA, REPLAY_RESULT_SCHEMA, type RecordSchema, type Row } from '../../src/sinks/record-schema.js';
import { ensurePostgres, startPostgres, type PostgresCluster } from '../helpers/postgres-server.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

let cluster: PostgresCluster;
let db: pg.Client;
const children: ChildProcess[] = [];

beforeAll(async () => {
  ensurePostgres([]);
  cluster = await startPostgres();
  db = new pg.Client({ connectionString: cluster.url() });
  await db.connect();
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await db?.end();
  await cluster?.destroy();
});

/** The table URL; `sslmode=disable` unless told otherwise (the test server has no TLS). */
const tableUrl = (table: string, extra = '&sslmode=disable'): string => `${cluster.url()}?table=${table}${extra}`;

async function readAll(url: string, schema: RecordSchema): Promise<Row[]> {
  const out: Row[] = [];
  for await (const batch of readTable(url, { schema })) out.push(...batch);
  return out;
}

async function count(table: string, run?: string): Promise<number> {
  const res = await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}${run === undefined ? '' : ' WHERE run_id = $1'}`, run === undefined ? [] : [run]);
  return Number(res.rows[0]!.n);
}

const NASTY = 'tab\there\nnew line\r\\backslash \\N \\. "quotes" \'single\' é😀 日本語 \u2028';

function replayResults(n: number, runId = 'run-1'): Row[] {
  return Array.from({ length: n }, (_, i) => ({
    runId,
    originalId: `orig-${i}`,
    fingerprintId: `fp-${i % 17}`,
    kind: i % 2 === 0 ? 'query' : 'dml',
    target: 'postgres://replayer@secondary:5432/app',
    scheduledAt: 1795168800000.5 + i,
    startedAt: i === 1 ? 1794908977705.897 : 1795168800000 + i * 1.001,
    durationMs: i === 2 ? -0 : i * 0.125 + 0.001,
    rows: i % 5 === 0 ? null : i === 3 ? 2n ** 60n + 7n : i === 4 ? -(2n ** 63n) : i,
    checksum: i % 3 === 0 ? null : `sum-${i}`,
    ok: i % 7 !== 0,
    sqlState: i % 7 === 0 ? '42P01' : null,
    error: i % 7 === 0 ? `relation "t${i}" does not exist ${NASTY}` : null,
    originalDurationMs: i % 4 === 0 ? null : i / 3,
    attempt: 1 + (i % 3),
  }));
}

function auditEvents(n: number): Row[] {
  return Array.from({ length: n }, (_, i) => {
    const event: Row = {
      id: `ev-${i}`,
      ts: i === 0 ? 1795168800000.5 : i === 1 ? 1794908977705.897 : i === 2 ? -123456.789 : 1795168800000 + i + 0.001,
      end: i % 3 === 0 ? null : 1795168800001.25 + i,
      durationMs: i % 3 === 0 ? null : 1.25,
      user: i % 4 === 0 ? null : 'alice',
      database: 'app',
      session: i % 5 === 0 ? null : `s${i}`,
      client: null,
      statement: i === 5 ? `SELECT '${'x'.repeat(1024 * 1024)}'` : i === 6 ? NASTY : `SELECT ${i} /* 😀 */`,
      ok: i % 6 === 0 ? null : i % 2 === 0,
      error: null,
      kind: 'query',
      command: 'SELECT',
      fingerprint: 'SELECT ?',
      fingerprintId: 'abc123',
      source: { object: `logs/${i}.json`, line: i, nested: { text: NASTY, list: [1, 2.5, null, true, 'é😀'] } },
    };
    // extra is optional: absent (not null) on most events, as in an AuditEvent without any.
    if (i % 4 === 1) event.extra = { app: 'psql', backslash: '\\', big: 12345678901234 };
    return event;
  });
}

async function writeAll(url: string, schema: RecordSchema, runId: string, records: Row[], batchRows?: number, per = 700): Promise<void> {
  const sink = await openTableSink<Row>(url, { schema, runId, ...(batchRows === undefined ? {} : { batchRows }) });
  try {
    for (let i = 0; i < records.length; i += per) await sink.write(records.slice(i, i + per));
    await sink.commit();
  } catch (err) {
    await sink.abort();
    throw err;
  }
}

describe('PostgreSQL table sink', () => {
  it('recognizes postgres URLs with a table parameter as table URLs and nothing else', () => {
    expect(isTableUrl('postgres://u@h:5432/db?table=results')).toBe(true);
    expect(isTableUrl('postgresql://u@h/db?sslmode=require&table=s.results')).toBe(true);
    expect(isTableUrl('postgres://u@h:5432/db')).toBe(false);
    expect(isTableUrl('postgres://u@h:5432/db?sslmode=require')).toBe(false);
    expect(isTableUrl('out.jsonl?table=x')).toBe(false);
    expect(isTableUrl('pglite://memory?table=x')).toBe(false);
  });

  it('formats timestamps with their microseconds, before 1970 too, and refuses what PostgreSQL text cannot hold', () => {
    expect(timestampText(1795168800000.5)).toBe('2026-11-20 10:00:00.000500+00');
    expect(timestampText(1794908977705.897)).toBe('2026-11-17 09:49:37.705897+00');
    expect(timestampText(-0.5)).toBe('1969-12-31 23:59:59.999500+00');
    expect(timestampText(-123456.789)).toBe('1969-12-31 23:57:56.543211+00');
    expect(() => timestampText(Number.NaN)).toThrow(/not a time/);
    expect(() => timestampText(Date.UTC(10000, 0, 1))).toThrow(/years 1 to 9999/);
  });

  it('reads back replay results exactly as written, with nulls, fractional timestamps, bigints beyond 2^53 and escapes', async () => {
    const records = replayResults(2500);
    await writeAll(tableUrl('results_roundtrip'), REPLAY_RESULT_SCHEMA, 'run-1', records, 1000);
    const back = await readAll(tableUrl('results_roundtrip', '&run=run-1&sslmode=disable'), REPLAY_RESULT_SCHEMA);
    expect(back).toEqual(records);
    expect(back[1]!.startedAt).toBe(1794908977705.897);
    expect(back[0]!.scheduledAt).toBe(1795168800000.5);
    expect(back[3]!.rows).toBe(2n ** 60n + 7n);
    expect(back[4]!.rows).toBe(-(2n ** 63n));
    expect(Object.is(back[2]!.durationMs, -0)).toBe(true);
    expect(back[7]!.error).toBe(records[7]!.error);
  });

  it('reads back audit events exactly as written, with a 1 MB statement, JSON columns and extra left out when it has no value', async () => {
    const records = auditEvents(40);
    // The default sslmode (prefer) tries TLS first and falls back, as libpq does.
    await writeAll(tableUrl('events_roundtrip', ''), AUDIT_EVENT_SCHEMA, 'run-a', records, undefined, 7);
    const back = await readAll(tableUrl('events_roundtrip', ''), AUDIT_EVENT_SCHEMA);
    expect(back).toEqual(records);
    expect(back[0]).not.toHaveProperty('extra');
    expect(back[1]!.extra).toEqual({ app: 'psql', backslash: '\\', big: 12345678901234 });
    expect((back[5]!.statement as string).length).toBe(1024 * 1024 + 9);
    expect(back[6]!.statement).toBe(NASTY);
    expect(back[1]!.ts).toBe(1794908977705.897);
    expect(back[2]!.ts).toBe(-123456.789);
  });

  it('creates the schema and the table with a typed column per record field, run_id, row_seq and a key on both', async () => {
    await writeAll(tableUrl('audit.events_typed'), AUDIT_EVENT_SCHEMA, 'r', auditEvents(3));
    const cols = await db.query<{ column_name: string; data_type: string; is_nullable: string }>(
      `SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema = 'audit' AND table_name = 'events_typed' ORDER BY ordinal_position`,
    );
    expect(cols.rows.map((r) => [r.column_name, r.data_type, r.is_nullable])).toEqual([
      ['id', 'text', 'NO'],
      ['ts', 'timestamp with time zone', 'NO'],
      ['end', 'timestamp with time zone', 'YES'],
      ['durationMs', 'double precision', 'YES'],
      ['user', 'text', 'YES'],
      ['database', 'text', 'YES'],
      ['session', 'text', 'YES'],
      ['client', 'text', 'YES'],
      ['statement', 'text', 'NO'],
      ['ok', 'boolean', 'YES'],
      ['error', 'text', 'YES'],
      ['kind', 'text', 'NO'],
      ['command', 'text', 'NO'],
      ['fingerprint', 'text', 'NO'],
      ['fingerprintId', 'text', 'NO'],
      ['source', 'jsonb', 'NO'],
      ['extra', 'jsonb', 'YES'],
      ['run_id', 'text', 'NO'],
      ['row_seq', 'bigint', 'NO'],
    ]);
    const index = await db.query<{ def: string }>(`SELECT indexdef AS def FROM pg_indexes WHERE schemaname = 'audit' AND tablename = 'events_typed'`);
    expect(index.rows.map((r) => r.def)).toEqual([expect.stringMatching(/UNIQUE INDEX .* USING btree \(run_id, row_seq\)/)]);
    const ts = await db.query<{ ts: string }>(`SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS ts FROM audit.events_typed WHERE row_seq = 2`);
    expect(ts.rows[0]!.ts).toBe('2026-11-17 09:49:37.705897');
  });

  it('keeps the rows of a run invisible to other connections until commit', async () => {
    const sink = await openTableSink<Row>(tableUrl('results_visibility'), { schema: REPLAY_RESULT_SCHEMA, runId: 'run-v', batchRows: 100 });
    await sink.write(replayResults(250, 'run-v'));
    expect(await count('results_visibility')).toBe(0);
    await sink.commit();
    expect(await count('results_visibility')).toBe(250);
    await sink.abort();
    expect(await count('results_visibility')).toBe(250);
  });

  it('leaves no rows when aborted, whether a COPY is in progress or all were done', async () => {
    for (const batchRows of [100, 1000]) {
      const sink = await openTableSink<Row>(tableUrl('results_abort'), { schema: REPLAY_RESULT_SCHEMA, runId: `run-${batchRows}`, batchRows });
      await sink.write(replayResults(500));
      await sink.abort();
      await sink.abort();
    }
    expect(await count('results_abort')).toBe(0);
    // The connection is usable by the next run, and the table is there.
    await writeAll(tableUrl('results_abort'), REPLAY_RESULT_SCHEMA, 'run-after', replayResults(3, 'run-after'));
    expect(await count('results_abort')).toBe(3);
  });

  it('reads two runs in one table back separately with run=, and both in run order without it', async () => {
    const a = replayResults(1200, 'b-run');
    const b = replayResults(30, 'a-run');
    await writeAll(tableUrl('results_two_runs'), REPLAY_RESULT_SCHEMA, 'b-run', a, 500);
    await writeAll(tableUrl('results_two_runs'), REPLAY_RESULT_SCHEMA, 'a-run', b);
    expect(await readAll(tableUrl('results_two_runs', '&run=b-run&sslmode=disable'), REPLAY_RESULT_SCHEMA)).toEqual(a);
    expect(await readAll(tableUrl('results_two_runs', '&run=a-run&sslmode=disable'), REPLAY_RESULT_SCHEMA)).toEqual(b);
    expect(await readAll(tableUrl('results_two_runs', '&run=no-such-run&sslmode=disable'), REPLAY_RESULT_SCHEMA)).toEqual([]);
    expect(await readAll(tableUrl('results_two_runs'), REPLAY_RESULT_SCHEMA)).toEqual([...b, ...a]);
  });

  it('reads back in batches of at most 10,000 records', async () => {
    await writeAll(tableUrl('results_batches'), REPLAY_RESULT_SCHEMA, 'run-big', replayResults(25_000, 'run-big'), undefined, 5000);
    const sizes: number[] = [];
    for await (const batch of readTable(tableUrl('results_batches'), { schema: REPLAY_RESULT_SCHEMA })) sizes.push(batch.length);
    expect(sizes).toEqual([10_000, 10_000, 5000]);
  });

  it('replaces the rows of a run that is written again', async () => {
    await writeAll(tableUrl('results_rewrite'), REPLAY_RESULT_SCHEMA, 'run-r', replayResults(50, 'run-r'));
    const again = replayResults(5, 'run-r').map((r) => ({ ...r, attempt: 9 }));
    await writeAll(tableUrl('results_rewrite'), REPLAY_RESULT_SCHEMA, 'run-r', again);
    expect(await readAll(tableUrl('results_rewrite', '&run=run-r&sslmode=disable'), REPLAY_RESULT_SCHEMA)).toEqual(again);
  });

  it('commits an empty run, which reads back as no records', async () => {
    const sink = await openTableSink<Row>(tableUrl('results_empty'), { schema: REPLAY_RESULT_SCHEMA, runId: 'run-e' });
    await sink.write([]);
    await sink.commit();
    expect(await readAll(tableUrl('results_empty', '&run=run-e&sslmode=disable'), REPLAY_RESULT_SCHEMA)).toEqual([]);
    expect(await readAll(tableUrl('results_empty'), REPLAY_RESULT_SCHEMA)).toEqual([]);
  });

  it('leaves no rows of a run whose writer process is killed with SIGKILL midway', async () => {
    const module = pathToFileURL(`${ROOT}src/sinks/postgres/index.ts`).href;
    const schemaModule = pathToFileURL(`${ROOT}src/sinks/record-schema.ts`).href;
    const script = `
      import { openTableSink } from ${JSON.stringify(module)};
      import { REPLAY_RESULT_SCHEMA } from ${JSON.stringify(schemaModule)};
      const sink = await openTableSink(process.env.TABLE_URL, { schema: REPLAY_RESULT_SCHEMA, runId: 'killed', batchRows: 1000 });
      const batch = Array.from({ length: 2000 }, (_, i) => ({
        runId: 'killed', originalId: 'o' + i, fingerprintId: 'f', kind: 'query', target: 't', scheduledAt: 1795168800000.5, startedAt: 1795168800000.5,
        durationMs: 1, rows: i, checksum: null, ok: true, sqlState: null, error: null, originalDurationMs: null, attempt: 1,
      }));
      await sink.write(batch);
      process.stdout.write('written\\n');
      setInterval(() => {}, 1000);
    `;
    const url = tableUrl('results_killed', '&sslmode=disable&application_name=killed-writer');
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT,
      env: { ...process.env, TABLE_URL: url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('written')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`the writer exited (${code}) before writing: ${stderr}`)));
    });
    // Its transaction has written (it has an xid) and waits, uncommitted.
    const before = await db.query<{ state: string; xid: string | null }>(`SELECT state, backend_xid::text AS xid FROM pg_stat_activity WHERE application_name = 'killed-writer'`);
    expect(before.rows).toEqual([{ state: 'idle in transaction', xid: expect.any(String) }]);
    expect(await count('results_killed')).toBe(0);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    // The server notices the closed socket and rolls back: wait until the backend is gone.
    for (let i = 0; ; i++) {
      const left = await db.query(`SELECT 1 FROM pg_stat_activity WHERE application_name = 'killed-writer'`);
      if (left.rowCount === 0) break;
      if (i > 200) throw new Error('the killed writer’s backend did not go away');
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await count('results_killed', 'killed')).toBe(0);
    expect(await readAll(tableUrl('results_killed', '&run=killed&sslmode=disable'), REPLAY_RESULT_SCHEMA)).toEqual([]);
  });

  it('reports a missing table, or a missing schema, as sink-not-found when reading', async () => {
    await expect(readAll(tableUrl('no_such_table'), REPLAY_RESULT_SCHEMA)).rejects.toMatchObject({
      code: 'sink-not-found',
      message: expect.stringContaining('table public.no_such_table does not exist'),
    });
    await expect(readAll(tableUrl('no_such_schema.t'), REPLAY_RESULT_SCHEMA)).rejects.toMatchObject({ code: 'sink-not-found' });
  });

  it('refuses an existing table whose columns do not fit the records, naming the columns', async () => {
    await db.query(`CREATE TABLE misfit (id text, "runId" integer, run_id text NOT NULL, row_seq bigint, mandatory int NOT NULL)`);
    const err = await openTableSink<Row>(tableUrl('misfit'), { schema: REPLAY_RESULT_SCHEMA, runId: 'x' }).then(
      () => null,
      (e: Error) => e,
    );
    expect(err).toMatchObject({ code: 'usage' });
    const message = err!.message;
    expect(message).toMatch(/column "runId" is integer, not text/);
    expect(message).toMatch(/column "originalId" \(text\) is missing/);
    expect(message).toMatch(/column "mandatory" is NOT NULL without a default/);
    await expect(readAll(tableUrl('misfit'), REPLAY_RESULT_SCHEMA)).rejects.toMatchObject({ code: 'usage', message: expect.stringMatching(/"durationMs"/) });
  });

  it('fails a batch holding a NUL character clearly without writing any of it, and goes on with the next', async () => {
    const sink = await openTableSink<Row>(tableUrl('results_nul'), { schema: REPLAY_RESULT_SCHEMA, runId: 'run-n' });
    const good = replayResults(3, 'run-n');
    const bad = replayResults(3, 'run-n');
    bad[1]!.error = 'nul \0 here';
    await expect(sink.write(bad)).rejects.toMatchObject({ code: 'sink-failed', message: expect.stringMatching(/record 2 of run run-n .*column "error" holds a NUL character/) });
    const badJson = [{ ...good[0]!, runId: 'ok' }];
    const events = auditEvents(1);
    events[0]!.source = { text: 'a\0b' };
    const eventSink = await openTableSink<Row>(tableUrl('events_nul'), { schema: AUDIT_EVENT_SCHEMA, runId: 'run-n' });
    await expect(eventSink.write(events)).rejects.toMatchObject({ code: 'sink-failed', message: expect.stringMatching(/column "source" holds a NUL character/) });
    await expect(eventSink.write([{ ...events[0]!, ts: 'yesterday' }])).rejects.toThrow(/column "ts" should be epoch milliseconds/);
    await eventSink.abort();
    await sink.write(good);
    await sink.write(badJson);
    await sink.commit();
    expect(await readAll(tableUrl('results_nul'), REPLAY_RESULT_SCHEMA)).toEqual([...good, ...badJson]);
  });

  it('rolls the run back when the server refuses a row, and keeps failing with that error', async () => {
    await writeAll(tableUrl('results_checked'), REPLAY_RESULT_SCHEMA, 'before', replayResults(2, 'before'));
    await db.query(`ALTER TABLE results_checked ADD CONSTRAINT attempt_small CHECK (attempt < 100)`);
    const sink = await openTableSink<Row>(tableUrl('results_checked'), { schema: REPLAY_RESULT_SCHEMA, runId: 'refused', batchRows: 50 });
    await sink.write(replayResults(120, 'refused'));
    const bad = replayResults(10, 'refused').map((r, i) => ({ ...r, attempt: i === 5 ? 100 : 1 }));
    const failure = await sink.write(bad).then(
      async () => sink.commit().then(() => null, (e: unknown) => e),
      (e: unknown) => e,
    );
    expect(failure).toMatchObject({ code: 'sink-failed', sqlState: '23514', message: expect.stringMatching(/attempt_small/) });
    await expect(sink.commit()).rejects.toBe(failure);
    await sink.abort();
    expect(await count('results_checked', 'refused')).toBe(0);
    expect(await count('results_checked')).toBe(2);
  });

  it('fails clearly when the server ends the connection midway, and leaves no rows', async () => {
    const sink = await openTableSink<Row>(tableUrl('results_terminated', '&sslmode=disable&application_name=terminated-writer'), {
      schema: REPLAY_RESULT_SCHEMA,
      runId: 'cut',
      batchRows: 100,
    });
    await sink.write(replayResults(150, 'cut'));
    await db.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'terminated-writer'`);
    const failure = await (async () => {
      try {
        for (let i = 0; i < 50; i++) await sink.write(replayResults(100, 'cut'));
        await sink.commit();
        return null;
      } catch (err) {
        return err;
      }
    })();
    expect(failure).toMatchObject({ code: 'sink-failed', message: expect.stringContaining('results_terminated') });
    await sink.abort();
    expect(await count('results_terminated')).toBe(0);
  });

  it('fails a second writer of the same run at once instead of interleaving the rows', async () => {
    const first = await openTableSink<Row>(tableUrl('results_same_run'), { schema: REPLAY_RESULT_SCHEMA, runId: 'same' });
    await expect(openTableSink<Row>(tableUrl('results_same_run'), { schema: REPLAY_RESULT_SCHEMA, runId: 'same' })).rejects.toMatchObject({
      code: 'sink-failed',
      message: expect.stringMatching(/another process is writing run same/),
    });
    // Another run of the same table goes on alongside.
    await writeAll(tableUrl('results_same_run'), REPLAY_RESULT_SCHEMA, 'other', replayResults(2, 'other'));
    await first.write(replayResults(2, 'same'));
    await first.commit();
    expect(await count('results_same_run')).toBe(4);
  });

  it('rejects bad table names and unknown parameters as usage errors, and never prints the password', async () => {
    for (const table of ['1abc', 'a.b.c', 'a b', '"unterminated', 'x'.repeat(64), '']) {
      await expect(openTableSink<Row>(tableUrl(encodeURIComponent(table)), { schema: REPLAY_RESULT_SCHEMA, runId: 'r' })).rejects.toMatchObject({ code: 'usage' });
    }
    expect(() => readTable(tableUrl('t', '&sslmod=disable'), { schema: REPLAY_RESULT_SCHEMA })).toThrow(/unknown connection parameter 'sslmod'.*table=t/);
    const secret = 'hunter2-secret';
    const url = `postgres://postgres:${secret}@127.0.0.1:1/postgres?table=t&sslmode=disable&password=${secret}`;
    const err = await openTableSink<Row>(url, { schema: REPLAY_RESULT_SCHEMA, runId: 'r' }).catch((e: Error) => e);
    expect(err).toMatchObject({ code: 'sink-failed' });
    expect(String((err as Error).message)).not.toContain(secret);
    const sink = await openTableSink<Row>(tableUrl('"Quoted Name"', '&sslmode=disable&password=' + secret), { schema: REPLAY_RESULT_SCHEMA, runId: 'r' });
    expect(sink.url).not.toContain(secret);
    await sink.commit();
    expect(await count('"Quoted Name"')).toBe(0);
  });

  it('loads 200,000 replay results at a useful rate', async () => {
    const records = replayResults(200_000, 'run-bulk');
    const started = performance.now();
    await writeAll(tableUrl('results_bulk'), REPLAY_RESULT_SCHEMA, 'run-bulk', records, undefined, 5000);
    const seconds = (performance.now() - started) / 1000;
    console.log(`table sink: loaded 200,000 replay results in ${seconds.toFixed(2)} s (${Math.round(200_000 / seconds)} rows/s)`);
    const readStarted = performance.now();
    let n = 0;
    for await (const batch of readTable(tableUrl('results_bulk'), { schema: REPLAY_RESULT_SCHEMA })) n += batch.length;
    const readSeconds = (performance.now() - readStarted) / 1000;
    console.log(`table sink: read back 200,000 replay results in ${readSeconds.toFixed(2)} s (${Math.round(200_000 / readSeconds)} rows/s)`);
    expect(n).toBe(200_000);
    expect(await count('results_bulk')).toBe(200_000);
  }, 120_000);
});
