import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent, EventKind } from '../../src/core/audit-event.js';
import { extract } from '../../src/extract/extract-pipeline.js';
import { RejectLog } from '../../src/ingest/reject-log.js';
import { collect } from '../helpers/temp-tree.js';
import { startPostgres, type PostgresCluster } from '../helpers/postgres-server.js';

/**
 * Real PostgreSQL 15 with pgAudit writes jsonlog, csvlog and stderr at once while a
 * scripted workload runs; extract must find exactly the workload's statements in each
 * log, and the three logs must agree. Three clusters cover the three ways a statement
 * reaches the log: log_statement=all (a statement record, then its duration or ERROR),
 * log_statement=none with durations (one duration record at the end, pgAudit lines
 * before it), and pgAudit alone (AUDIT lines are the statements).
 */

const PREFIX = '%m [%p] %q%u@%d %c:%l %a %e ';

type Config = 'statements' | 'durations' | 'audit-only';

const CONFIGS: Record<Config, Record<string, string | number | boolean>> = {
  statements: { log_statement: 'all', log_min_duration_statement: 0 },
  durations: { log_statement: 'none', log_min_duration_statement: 0 },
  'audit-only': { log_statement: 'none', log_min_duration_statement: -1 },
};

/** One statement of the workload and what the logs must say about it. */
interface Step {
  sql: string;
  ok: boolean;
  kind: EventKind;
  /**
   * pgAudit's class, or null when pgAudit writes no line for it: a statement that fails
   * before the executor starts (parse and analysis errors, a utility command that fails),
   * and anything in an aborted transaction.
   */
  audit: string | null;
  sqlState?: string;
}

interface Session {
  /** application_name, which tells the sessions apart in the logs. */
  app: string;
  user: string;
  database: string;
  steps: Step[];
}

const ok = (sql: string, kind: EventKind, audit: string | null): Step => ({ sql, ok: true, kind, audit });
const fails = (sql: string, kind: EventKind, audit: string | null, sqlState: string): Step => ({ sql, ok: false, kind, audit, sqlState });
const sleep = ok('SELECT pg_sleep(0.02);', 'query', 'READ');

/** Sessions run in phases; the sessions of one phase run at the same time. */
const PHASES: Session[][] = [
  [
    {
      app: 'setup',
      user: 'postgres',
      database: 'postgres',
      steps: [
        ok('CREATE ROLE app LOGIN;', 'dcl', 'ROLE'),
        ok('CREATE ROLE reader NOLOGIN;', 'dcl', 'ROLE'),
        fails('CREATE ROLE app;', 'dcl', null, '42710'),
        ok('CREATE DATABASE appdb OWNER app;', 'ddl', 'DDL'),
      ],
    },
  ],
  [
    {
      app: 'schema',
      user: 'app',
      database: 'appdb',
      steps: [
        ok('CREATE TABLE orders (id int PRIMARY KEY, customer text NOT NULL, amount numeric(10,2), note text);', 'ddl', 'DDL'),
        ok('CREATE TABLE items (order_id int REFERENCES orders (id), sku text, qty int);', 'ddl', 'DDL'),
        ok('CREATE INDEX orders_customer ON orders (customer);', 'ddl', 'DDL'),
        ok('ALTER TABLE orders ADD COLUMN created timestamptz DEFAULT now();', 'ddl', 'DDL'),
        fails('CREATE TABLE orders (id int);', 'ddl', null, '42P07'),
        ok("CREATE VIEW big_orders AS\n  SELECT id, customer\n    FROM orders\n   WHERE amount > 100;", 'ddl', 'DDL'),
        ok(
          'CREATE FUNCTION add_item(o int, s text) RETURNS int LANGUAGE plpgsql AS $$\nBEGIN\n  INSERT INTO items VALUES (o, s, 1);\n  RETURN o;\nEND\n$$;',
          'ddl',
          'DDL',
        ),
      ],
    },
  ],
  [
    {
      app: 'writer-1',
      user: 'app',
      database: 'appdb',
      steps: [
        ...Array.from({ length: 12 }, (_, i) => ok(`INSERT INTO orders (id, customer, amount, note) VALUES (${i + 1}, 'c${i}', ${i * 20}.5, 'say "hi", ok');`, 'dml', 'WRITE')),
        sleep,
        ok('BEGIN;', 'tcl', 'MISC'),
        ok("UPDATE orders SET note = 'it''s \"quoted\", too' WHERE id <= 3;", 'dml', 'WRITE'),
        ok('DELETE FROM orders WHERE id = 12;', 'dml', 'WRITE'),
        ok('COMMIT;', 'tcl', 'MISC'),
        sleep,
        fails("INSERT INTO orders (id, customer) VALUES (1, 'dup');", 'dml', 'WRITE', '23505'),
        ok('BEGIN;', 'tcl', 'MISC'),
        ok("INSERT INTO orders (id, customer) VALUES (50, 'in tx');", 'dml', 'WRITE'),
        fails('SELECT no_such_column FROM orders;', 'query', null, '42703'),
        fails("INSERT INTO orders (id, customer) VALUES (51, 'aborted');", 'dml', null, '25P02'),
        // Ends the aborted transaction (a rollback); pgAudit writes nothing in an aborted transaction.
        ok('COMMIT;', 'tcl', null),
        sleep,
        ok("SELECT add_item(1, 'sku-1');", 'query', 'READ'),
      ],
    },
    {
      app: 'writer-2',
      user: 'app',
      database: 'appdb',
      steps: [
        ...Array.from({ length: 12 }, (_, i) => ok(`INSERT INTO orders VALUES (${i + 101}, 'd${i}', ${i}, NULL);`, 'dml', 'WRITE')),
        sleep,
        ok("INSERT INTO items (order_id, sku, qty)\nSELECT id, 'sku-' || id, 2\n  FROM orders\n WHERE id > 100;", 'dml', 'WRITE'),
        fails('UPDATE orders SET amount = amount / 0 WHERE id > 100;', 'dml', 'WRITE', '22012'),
        sleep,
        ok('TRUNCATE items;', 'dml', 'WRITE'),
        ok('SET work_mem = \'8MB\';', 'session', 'MISC'),
        sleep,
      ],
    },
    {
      app: 'reader-1',
      user: 'app',
      database: 'appdb',
      steps: [
        ...Array.from({ length: 8 }, () => ok('SELECT count(*) FROM orders;', 'query', 'READ')),
        sleep,
        ok("SELECT o.customer, count(i.sku) AS skus\n  FROM orders o\n  LEFT JOIN items i ON i.order_id = o.id\n WHERE o.note LIKE '%,%'\n GROUP BY 1;", 'query', 'READ'),
        fails('SELECT * FROM nope;', 'query', null, '42P01'),
        fails('SELEC 1;', 'unknown', null, '42601'),
        fails('SELECT 1/0;', 'query', null, '22012'),
        sleep,
        ok('SELECT * FROM big_orders;', 'query', 'READ'),
        ok('SHOW work_mem;', 'utility', 'MISC'),
        sleep,
      ],
    },
    {
      app: 'admin',
      user: 'postgres',
      database: 'appdb',
      steps: [
        ok('GRANT SELECT ON orders TO reader;', 'dcl', 'ROLE'),
        fails('GRANT SELECT ON orders TO nobody;', 'dcl', null, '42704'),
        sleep,
        ok('REVOKE SELECT ON orders FROM reader;', 'dcl', 'ROLE'),
        ok('ALTER ROLE reader CONNECTION LIMIT 5;', 'dcl', 'ROLE'),
        ok('COMMENT ON TABLE orders IS \'orders, "all" of them\';', 'ddl', 'DDL'),
        sleep,
        ok('ANALYZE orders;', 'utility', 'MISC'),
      ],
    },
  ],
  [
    {
      app: 'teardown',
      user: 'app',
      database: 'appdb',
      steps: [ok('DROP VIEW big_orders;', 'ddl', 'DDL'), ok('DROP FUNCTION add_item(int, text);', 'ddl', 'DDL'), ok('DROP TABLE items, orders;', 'ddl', 'DDL')],
    },
  ],
];
const SESSIONS = PHASES.flat();

/** The statements a config's logs hold: pgAudit alone misses the successful statements it does not audit. */
function expectedSteps(config: Config, s: Session): Step[] {
  return config === 'audit-only' ? s.steps.filter((st) => st.audit !== null || !st.ok) : s.steps;
}

const FORMATS = [
  { format: 'pg-json', file: 'postgresql.json' },
  { format: 'pg-csv', file: 'postgresql.csv' },
  { format: 'pg-stderr', file: 'postgresql.log' },
] as const;

const clusters = new Map<Config, PostgresCluster>();
const startedAt = Date.now();

async function runWorkload(pg: PostgresCluster): Promise<void> {
  for (const phase of PHASES) {
    const results = await Promise.all(
      phase.map((s) => pg.psql(s.steps.map((st) => st.sql).join('\n') + '\n', { applicationName: s.app, user: s.user, database: s.database })),
    );
    for (const [i, r] of results.entries()) {
      const failures = (r.stderr.match(/ERROR: {2}/g) ?? []).length;
      const expected = phase[i]!.steps.filter((st) => !st.ok).length;
      if (r.code !== 0 || failures !== expected) throw new Error(`workload session ${phase[i]!.app}: exit ${r.code}, ${failures} errors (expected ${expected}):\n${r.stderr}`);
    }
  }
}

/** Everything extract makes of one log file, with its rejects. */
async function extractLog(config: Config, format: string, file: string): Promise<{ events: AuditEvent[]; rejects: string[]; formats: Set<string> }> {
  const rejects: string[] = [];
  const log = new RejectLog(null, Infinity, (m) => rejects.push(m), 1000);
  const { events } = extract({
    source: join(clusters.get(config)!.logDir, file),
    window: { from: startedAt - 3_600_000, to: Date.now() + 3_600_000 },
    format: 'auto',
    decoderOptions: format === 'pg-stderr' ? { pgPrefix: PREFIX } : {},
    layout: 'flat',
    rejects: log,
  });
  const all = await collect(events);
  return { events: all, rejects, formats: new Set(all.map((e) => e.source.format)) };
}

/** A statement as the log holds it, minus what extract's split may trim. */
const norm = (sql: string): string => sql.trim().replace(/;$/, '');

/** One event reduced to what every format must agree on. */
function summary(e: AuditEvent) {
  return {
    statement: norm(e.statement),
    ok: e.ok,
    kind: e.kind,
    user: e.user,
    database: e.database,
    session: e.session,
    client: e.client,
    ts: e.ts,
    durationMs: e.durationMs,
    sqlState: e.error?.slice(0, 5) ?? null,
    pgauditClass: e.extra?.pgauditClass ?? null,
  };
}

/** Events by session in log order (ts can tie or invert at sub-millisecond precision; the log's own order cannot). */
function bySession(events: AuditEvent[]): Map<string, AuditEvent[]> {
  const m = new Map<string, AuditEvent[]>();
  for (const e of [...events].sort((a, b) => a.source.line - b.source.line)) {
    const k = e.client ?? '?';
    m.set(k, [...(m.get(k) ?? []), e]);
  }
  return m;
}

beforeAll(async () => {
  await Promise.all(
    (Object.keys(CONFIGS) as Config[]).map(async (config) => {
      const pg = await startPostgres({
        settings: {
          log_destination: 'stderr,csvlog,jsonlog',
          log_line_prefix: PREFIX,
          log_timezone: 'UTC',
          log_connections: true,
          log_disconnections: true,
          shared_preload_libraries: 'pgaudit',
          'pgaudit.log': 'all',
          ...CONFIGS[config],
        },
      });
      clusters.set(config, pg);
    }),
  );
  await Promise.all([...clusters.values()].map(async (pg) => {
    await runWorkload(pg);
    // stop() waits for the logging collector to write out what it still holds, so the logs are complete.
    await pg.stop();
  }));
}, 600_000);

afterAll(async () => {
  await Promise.all([...clusters.values()].map((pg) => pg.destroy()));
});

describe.each(Object.keys(CONFIGS) as Config[])('real PostgreSQL 15 logs (%s)', (config) => {
  describe.each(FORMATS)('$format', ({ format, file }) => {
    it('sniffs the log and reads every line without a reject', async () => {
      const { formats, rejects } = await extractLog(config, format, file);
      expect(rejects).toEqual([]);
      expect([...formats]).toEqual([format]);
    });

    it('yields exactly the statements the workload ran, with kind, outcome, user, database and pgAudit class', async () => {
      const { events } = await extractLog(config, format, file);
      const sessions = bySession(events);
      expect([...sessions.keys()].sort()).toEqual(SESSIONS.map((s) => s.app).sort());
      const got: Record<string, unknown> = {};
      const want: Record<string, unknown> = {};
      for (const s of SESSIONS) {
        got[s.app] = sessions.get(s.app)!.map((e) => ({
          statement: norm(e.statement),
          ok: e.ok,
          kind: e.kind,
          user: e.user,
          database: e.database,
          sqlState: e.ok ? null : (e.error?.slice(0, 5) ?? null),
          pgauditClass: e.extra?.pgauditClass ?? null,
        }));
        want[s.app] = expectedSteps(config, s).map((st) => ({
          statement: norm(st.sql),
          ok: st.ok,
          kind: st.kind,
          user: s.user,
          database: s.database,
          sqlState: st.sqlState ?? null,
          pgauditClass: st.audit,
        }));
      }
      expect(got).toEqual(want);
    });

    it('keeps each workload session in one log session and tells sessions apart', async () => {
      const { events } = await extractLog(config, format, file);
      const ids = new Map<string, Set<string | null>>();
      for (const e of events) ids.set(e.client!, (ids.get(e.client!) ?? new Set()).add(e.session));
      for (const [app, set] of ids) {
        expect({ app, sessions: set.size }).toEqual({ app, sessions: 1 });
        expect([...set][0]).toMatch(/^[0-9a-f]+\.[0-9a-f]+$/);
      }
      expect(new Set([...ids.values()].map((s) => [...s][0])).size).toBe(ids.size);
      expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    });

    it('gives every statement its duration where the log has one', async () => {
      const { events } = await extractLog(config, format, file);
      for (const e of events) {
        if (config === 'audit-only' && e.ok) {
          // pgAudit records no duration, and without duration records there is none to join.
          expect(e.durationMs).toBeNull();
        } else if (e.ok || (config === 'statements' && !e.error!.startsWith('42601'))) {
          // log_statement logs a statement once it parses, so a failed one has its start too, unless it did not parse.
          expect({ statement: e.statement, durationMs: e.durationMs }).toEqual({ statement: e.statement, durationMs: expect.any(Number) });
          expect(e.durationMs).toBeGreaterThanOrEqual(0);
          expect(e.end! - e.ts).toBeCloseTo(e.durationMs!, 2);
        }
      }
      // pg_sleep(0.02) takes its 20 ms in every log that has durations.
      const sleeps = events.filter((e) => e.statement.startsWith('SELECT pg_sleep'));
      expect(sleeps.length).toBeGreaterThan(0);
      if (config !== 'audit-only') for (const e of sleeps) expect(e.durationMs).toBeGreaterThanOrEqual(20);
    });
  });

  it('agrees across jsonlog, csvlog and stderr: same statements, outcomes, sessions, times and durations', async () => {
    const [json, csv, stderr] = await Promise.all(FORMATS.map((f) => extractLog(config, f.format, f.file)));
    // By session: the logging collector reassembles each process's messages apart, so the
    // destinations can interleave sessions differently, but never reorder one session.
    const sessions = (events: AuditEvent[]) => [...bySession(events)].sort(([a], [b]) => a.localeCompare(b));
    const view = (events: AuditEvent[]) => sessions(events).map(([app, es]) => [app, es.map(summary)]);
    expect(view(csv!.events)).toEqual(view(json!.events));
    expect(view(stderr!.events)).toEqual(view(json!.events));
    // csvlog and jsonlog number records alike; stderr's %l also counts DETAIL and STATEMENT lines.
    const ids = (events: AuditEvent[]) => sessions(events).flatMap(([, es]) => es.map((e) => e.id));
    expect(ids(csv!.events)).toEqual(ids(json!.events));
  });
});
