/**
 * PostgreSQL 15 jsonlog files under `postgres/YYYY/MM/DD/postgresql-YYYY-MM-DD_HH.json`,
 * as one server writes them with `log_rotation_age = 24h / filesPerDay`.
 *
 * Every client is simulated as real backends: sessions with pids, `line_num` counters,
 * virtual transaction ids and connection/disconnection records. Files alternate between
 * two logging set-ups, in pairs (A A B B ...):
 * - style A: `log_min_duration_statement = 0` only, one `duration: ... statement: ...`
 *   record at the end of each statement;
 * - style B: additionally `log_statement = 'all'` and pgaudit (`pgaudit.log = 'ddl, role'`):
 *   a `statement:` record at the start, audit records while it runs, and a bare
 *   `duration:` record at the end.
 * A statement takes the style of the file it starts in, as PostgreSQL decides at run time.
 */
import { join } from 'node:path';
import { LineSink } from './line-sink.js';
import { timeHeap } from './heap.js';
import type { Rng } from './prng.js';
import { auditClass, PLAN } from './pg-statements.js';
import type { PgKind, PgStatement, PlanStatement } from './pg-statements.js';
import {
  adminTemplates,
  aliceTemplates,
  appTemplates,
  badLiteral,
  bobTemplates,
  dashboardTemplates,
  daveTemplates,
  deniedDelete,
  draw,
  fkViolation,
  missingRelation,
  productCount,
  reportingTemplates,
  typoColumn,
  typoKeyword,
} from './pg-workload.js';
import type { WorkloadState } from './pg-workload.js';
import { DAY_MS, DailyArrivals, HOUR_MS, MINUTE_MS, dayString, loadAt, sqlTimestamp } from './time.js';
import { bump, sortedCounts } from './types.js';
import type { GeneratedFile } from './types.js';

export interface PgGenOptions {
  rng: Rng;
  outDir: string;
  start: number;
  days: number;
  filesPerDay: number;
  /** Target workload statements per day (approximate; the schema plan comes on top). */
  statementsPerDay: readonly number[];
  gzipFor: (fileIndex: number) => boolean;
  gzipLevel: number;
}

export interface PgSummary {
  files: number;
  records: number;
  /** Statements executed (successful + failed); parse/bind/audit records are not statements. */
  statements: number;
  /** Statements counting each part of a multi-statement string (`BEGIN; ...; COMMIT`) apart. */
  statementParts: number;
  failed: number;
  /** Successful DDL/DCL statements (the replayable schema history of appdb). */
  ddlDclOk: number;
  byKind: Record<PgKind, number>;
  byDatabase: Record<string, number>;
  byUser: Record<string, number>;
  byStyle: { A: number; B: number };
  errorsByCode: Record<string, number>;
  /** Statements sent with the extended protocol (parse/bind/execute). */
  extended: number;
  /** Extended-protocol statements executed through a named prepared statement (S_n). */
  namedPrepared: number;
  multiStatement: number;
  /** Records readers must skip. */
  noise: Record<string, number>;
  sessions: number;
  firstTimestamp: string | null;
  lastTimestamp: string | null;
}

type ClientKey = 'app' | 'grafana' | 'alice' | 'bob' | 'dave' | 'admin';

interface ClientSpec {
  user: string;
  app: string;
  hosts: readonly string[];
  ssl: boolean;
  /** Pooled connections: maximum lifetime range and idle timeout, in minutes. */
  pool?: { lifetime: [number, number]; idle: number };
}

const CLIENTS: Record<ClientKey, ClientSpec> = {
  // HikariCP with maxLifetime = 2 h: connections retire shortly before that (jitter).
  app: { user: 'app_service', app: 'PostgreSQL JDBC Driver', hosts: ['10.20.1.11', '10.20.1.12'], ssl: true, pool: { lifetime: [110, 120], idle: 120 } },
  // Grafana's Go driver sets no application_name, so these records have none.
  grafana: { user: 'report_bot', app: '', hosts: ['10.20.3.5'], ssl: false, pool: { lifetime: [230, 240], idle: 240 } },
  alice: { user: 'alice', app: 'psql', hosts: ['10.8.0.23'], ssl: true },
  bob: { user: 'bob', app: 'DBeaver 23.2.5 - SQLEditor <Script-3.sql>', hosts: ['10.8.0.41'], ssl: true },
  dave: { user: 'contractor_dave', app: 'psql', hosts: ['10.8.0.77'], ssl: true },
  admin: { user: 'postgres', app: 'psql', hosts: ['[local]'], ssl: false },
};

const SSL_INFO = ' SSL enabled (protocol=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, bits=256)';
const CHECKPOINT_EVERY = HOUR_MS;
/** Mean statements per workload arrival, to turn a statement target into arrivals. */
const MEAN_CLUSTER = 2.8;
/** How long before an activity its first record (a connection) may be stamped. */
const LEAD_MS = 1_000;

interface Session {
  client: ClientKey;
  user: string;
  db: string;
  app: string;
  host: string;
  port: number | null;
  pid: number;
  bid: number;
  id: string;
  startedAt: number;
  lineNum: number;
  lxid: number;
  lastEnd: number;
  lifetime: number;
  idleTimeout: number;
  prepared: Map<string, { uses: number; name: string | null }>;
  namedCount: number;
  searchPath: string | null;
  auditId: number;
  closeLag: number;
}

interface Pending {
  ts: number;
  seq: number;
  line: string;
  completes: boolean;
}

interface PlannedStatement {
  t: number;
  st: PgStatement;
}

interface PlannedPhase {
  start: number;
  end: number;
  items: PlannedStatement[];
}

type LogFields = {
  ps?: string;
  vxid?: string;
  txid?: number;
  severity: string;
  state: string;
  message: string;
  detail?: string;
  hint?: string;
  statement?: string;
  cursor?: number;
};

/** Writes the PostgreSQL tree under `outDir/postgres` and returns what it wrote. */
export async function generatePostgres(o: PgGenOptions): Promise<{ files: GeneratedFile[]; summary: PgSummary }> {
  const gen = new PgGenerator(o);
  return gen.run();
}

class PgGenerator {
  private readonly rng: Rng;
  private readonly heap = timeHeap<Pending>();
  private seq = 0;
  private readonly periodEnd: number;
  private readonly features = new Map<string, { from: number; until: number }>();
  private readonly phases: PlannedPhase[] = [];
  private readonly incidents: { at: number; run: (t: number) => void }[] = [];
  private readonly pools = new Map<string, Session[]>();
  private readonly backendBusyUntil: number[] = [];
  private nextPid = 48_211;
  private xid = 1_204;
  private lastWrite = Number.NEGATIVE_INFINITY;
  /** Start times of successful inserts, kept sorted, to know which ids exist when. */
  private readonly customerInserts: number[] = [];
  private readonly orderInserts: number[] = [];
  private readonly checkpointer: { pid: number; id: string; startedAt: number; lineNum: number };
  private readonly files: GeneratedFile[] = [];
  private fileIndex = -1;
  private sink: LineSink | null = null;
  private readonly summary: PgSummary = {
    files: 0,
    records: 0,
    statements: 0,
    statementParts: 0,
    failed: 0,
    ddlDclOk: 0,
    byKind: { ddl: 0, dcl: 0, dml: 0, query: 0, session: 0, tcl: 0, utility: 0 },
    byDatabase: {},
    byUser: {},
    byStyle: { A: 0, B: 0 },
    errorsByCode: {},
    extended: 0,
    namedPrepared: 0,
    multiStatement: 0,
    noise: {},
    sessions: 0,
    firstTimestamp: null,
    lastTimestamp: null,
  };
  private readonly state: WorkloadState;

  constructor(private readonly o: PgGenOptions) {
    this.rng = o.rng.fork('workload');
    this.periodEnd = o.start + o.days * DAY_MS;
    const started = o.start - 3 * DAY_MS - 4 * HOUR_MS + 17_411;
    this.checkpointer = { pid: 61, id: sessionId(started, 61), startedAt: started, lineNum: 0 };
    this.planSchema(o.rng.fork('plan'));
    this.planIncidents();
    this.state = {
      has: (feature, t) => {
        const f = this.features.get(feature);
        return f !== undefined && t >= f.from && t < f.until;
      },
      // Rows inserted at least 10 s before `t` are settled; ids 1..n exist for everyone then.
      customers: (t) => countBefore(this.customerInserts, t - 10_000),
      orders: (t) => countBefore(this.orderInserts, t - 10_000),
      insertedCustomer: (t) => {
        insertSorted(this.customerInserts, t);
        return this.customerInserts.length;
      },
      insertedOrder: (t) => {
        insertSorted(this.orderInserts, t);
      },
    };
  }

  /** Fixes the times of the schema plan up front, so the workload knows what exists when. */
  private planSchema(r: Rng): void {
    const span = this.periodEnd - this.o.start;
    let prevEnd = this.o.start;
    for (const [i, phase] of PLAN.entries()) {
      const at = i === 0 ? this.o.start + 10 * MINUTE_MS : this.o.start + phase.at * span;
      const start = Math.max(at, prevEnd + MINUTE_MS) + r.int(0, 59_999);
      let cursor = start + r.int(800, 2_500);
      const items: PlannedStatement[] = [];
      for (const ps of phase.statements) {
        const st = planToStatement(r, ps);
        items.push({ t: cursor, st });
        const end = cursor + st.durationMs;
        for (const f of ps.provides ?? []) this.features.set(f, { from: end + 2_000, until: Number.POSITIVE_INFINITY });
        for (const f of ps.removes ?? []) {
          const cur = this.features.get(f);
          if (cur !== undefined) cur.until = cursor - 2_000;
        }
        cursor = end + r.int(phase.think[0], phase.think[1]);
      }
      prevEnd = cursor;
      this.phases.push({ start, end: cursor, items });
    }
  }

  /**
   * Each kind of failure also happens once at a fixed time, so that even a small sample
   * holds every one of them; random ones come on top in proportion to the workload.
   */
  private planIncidents(): void {
    const o = this.o;
    const r = this.rng.fork('incidents');
    const at = (fraction: number, hours: number): number =>
      o.start + Math.floor(fraction * o.days) * DAY_MS + hours * HOUR_MS + r.int(0, 20 * MINUTE_MS) + r.float();
    const visit = (client: ClientKey, make: ((t: number) => PgStatement)[]) => (t: number): void => {
      const s = this.openSession(client, 'appdb', t);
      let cursor = t;
      for (const [i, build] of make.entries()) {
        cursor += i === 0 ? r.logNormal(800, 0.8, 20, 20_000) : r.logNormal(15_000, 0.8, 1_500, 3 * MINUTE_MS);
        cursor = this.exec(s, cursor, build(cursor));
      }
      this.closeSession(s, cursor + r.int(2_000, 120_000));
    };
    const customers = (t: number): number => Math.max(1, this.state.customers(t));
    const bobConnect: PgStatement = { sql: 'SELECT current_schema(),session_user', tags: ['SELECT'], kind: 'query', write: false, params: [], durationMs: 0.09 };
    this.incidents.push(
      {
        at: at(0.25, 10.3),
        run: visit('bob', [
          () => bobConnect,
          (t) => ({ ...bobConnect, sql: `SELECT * FROM app.orders WHERE customer_id = ${r.int(1, customers(t))} ORDER BY id DESC`, durationMs: 0.8 }),
          () => deniedDelete(r),
          () => ({ ...bobConnect, sql: 'SELECT region, count(*) FROM app.customers GROUP BY region ORDER BY 2 DESC', durationMs: 1.9 }),
        ]),
      },
      {
        at: at(0.25, 15.1),
        run: visit('alice', [
          (t) => typoColumn(r, 'app.', customers(t)),
          (t) => ({ sql: `SELECT email FROM app.customers WHERE id = ${r.int(1, customers(t))}`, tags: ['SELECT'], kind: 'query', write: false, durationMs: 0.4 }),
          () => typoKeyword('app.'),
          () => ({ sql: 'SELECT count(*) FROM app.orders', tags: ['SELECT'], kind: 'query', write: false, durationMs: 2.7 }),
          () => badLiteral('app.'),
        ]),
      },
      {
        at: at(0.5, 9.7),
        run: (t) => {
          const s = this.pooled('app', 'appdb', t, new Set());
          s.lastEnd = this.exec(s, t, fkViolation(r, productCount(this.state, t)));
        },
      },
      {
        at: at(0.5, 13.5),
        run: (t) => {
          const s = this.pooled('grafana', 'reporting', t, new Set());
          s.lastEnd = this.exec(s, t, missingRelation(t));
        },
      },
      {
        at: at(0.6, 11),
        run: (t) => {
          if (!this.state.has('contractor', t) || !this.state.has('contractor', t + HOUR_MS)) return;
          visit('dave', [
            () => ({ sql: `SELECT id, email, orders, total FROM app.customer_order_totals WHERE total > ${r.int(50, 500)} ORDER BY total DESC`, tags: ['SELECT'], kind: 'query', write: false, durationMs: 3.1 }),
            () => ({ sql: 'SELECT sku, title, price FROM app.products WHERE price BETWEEN 5 AND 30 ORDER BY price', tags: ['SELECT'], kind: 'query', write: false, durationMs: 0.5 }),
          ])(t);
        },
      },
    );
    this.incidents.sort((a, b) => a.at - b.at);
  }

  async run(): Promise<{ files: GeneratedFile[]; summary: PgSummary }> {
    const o = this.o;
    const arrivalsRng = this.rng.fork('arrivals');
    let day = 0;
    let arrivals = new DailyArrivals(arrivalsRng, o.start, Math.round((o.statementsPerDay[0] ?? 0) / MEAN_CLUSTER));
    let nextArrival = arrivals.next();
    let phaseIdx = 0;
    let incidentIdx = 0;
    let nextCheckpoint = o.start + 7 * MINUTE_MS + 23_517;
    for (;;) {
      while (nextArrival === undefined && day + 1 < o.days) {
        day++;
        arrivals = new DailyArrivals(arrivalsRng, o.start + day * DAY_MS, Math.round((o.statementsPerDay[day] ?? 0) / MEAN_CLUSTER));
        nextArrival = arrivals.next();
      }
      const phase = this.phases[phaseIdx];
      const incident = this.incidents[incidentIdx];
      const candidates = [
        nextArrival ?? Infinity,
        phase?.start ?? Infinity,
        nextCheckpoint < this.periodEnd ? nextCheckpoint : Infinity,
        incident?.at ?? Infinity,
      ];
      const t = Math.min(...candidates);
      if (t === Infinity) break;
      this.closeExpired(t);
      await this.flushUntil(t - LEAD_MS);
      if (t === candidates[1] && phase !== undefined) {
        this.runPhase(phase);
        phaseIdx++;
      } else if (t === candidates[3] && incident !== undefined) {
        if (this.state.has('base', t)) incident.run(t);
        incidentIdx++;
      } else if (t === candidates[2]) {
        this.checkpoint(t);
        nextCheckpoint += CHECKPOINT_EVERY;
      } else {
        this.workload(t);
        nextArrival = arrivals.next();
      }
    }
    this.closeAll();
    await this.flushUntil(Number.POSITIVE_INFINITY);
    await this.openFileFor(this.periodEnd - 1);
    await this.closeFile();
    this.files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const s = this.summary;
    s.files = this.files.length;
    s.byDatabase = sortedCounts(s.byDatabase);
    s.byUser = sortedCounts(s.byUser);
    s.errorsByCode = sortedCounts(s.errorsByCode);
    s.noise = sortedCounts(s.noise);
    return { files: this.files, summary: s };
  }

  // ---- files -------------------------------------------------------------------------

  private fileStart(index: number): number {
    const day = Math.floor(index / this.o.filesPerDay);
    const slot = index % this.o.filesPerDay;
    return this.o.start + day * DAY_MS + Math.floor((slot * 24) / this.o.filesPerDay) * HOUR_MS;
  }

  private fileIndexAt(t: number): number {
    const total = this.o.days * this.o.filesPerDay;
    let i = Math.min(total - 1, Math.max(0, Math.floor(((t - this.o.start) / DAY_MS) * this.o.filesPerDay)));
    while (i + 1 < total && this.fileStart(i + 1) <= t) i++;
    while (i > 0 && this.fileStart(i) > t) i--;
    return i;
  }

  private styleAt(t: number): 'A' | 'B' {
    return Math.floor(this.fileIndexAt(t) / 2) % 2 === 0 ? 'A' : 'B';
  }

  /** Opens the file that holds time `t`, creating any (empty) files rotated in between. */
  private async openFileFor(t: number): Promise<void> {
    const target = this.fileIndexAt(t);
    while (this.fileIndex < target) {
      await this.closeFile();
      this.fileIndex++;
      const startMs = this.fileStart(this.fileIndex);
      const day = dayString(startMs);
      const hh = String(new Date(startMs).getUTCHours()).padStart(2, '0');
      const gzip = this.o.gzipFor(this.fileIndex);
      // Half of the compressed files keep the plain name: readers must sniff the magic bytes.
      const ext = gzip && this.fileIndex % 4 === 0 ? '.json.gz' : '.json';
      const rel = `postgres/${day.replace(/-/g, '/')}/postgresql-${day}_${hh}${ext}`;
      this.sink = new LineSink(join(this.o.outDir, rel), gzip, this.o.gzipLevel);
      this.files.push({
        path: rel,
        format: 'pg-json',
        day,
        gzip,
        records: 0,
        statements: 0,
        rawBytes: 0,
        bytes: 0,
        style: this.styleAt(startMs),
      });
    }
  }

  private async closeFile(): Promise<void> {
    if (this.sink === null) return;
    const res = await this.sink.close();
    const file = this.files[this.files.length - 1]!;
    file.rawBytes = res.rawBytes;
    file.bytes = res.bytes;
    this.sink = null;
  }

  private async flushUntil(t: number): Promise<void> {
    for (let head = this.heap.peek(); head !== undefined && head.ts < t; head = this.heap.peek()) {
      this.heap.pop();
      if (this.fileIndex < 0 || (this.fileIndex + 1 < this.o.days * this.o.filesPerDay && head.ts >= this.fileStart(this.fileIndex + 1))) {
        await this.openFileFor(head.ts);
      }
      const file = this.files[this.files.length - 1]!;
      file.records++;
      if (head.completes) file.statements++;
      this.summary.records++;
      const wait = this.sink!.write(head.line);
      if (wait) await wait;
    }
  }

  // ---- records -----------------------------------------------------------------------

  private push(ts: number, line: string, completes = false): void {
    this.heap.push({ ts, seq: this.seq++, line, completes });
    const stamp = sqlTimestamp(ts);
    if (this.summary.firstTimestamp === null || stamp < this.summary.firstTimestamp) this.summary.firstTimestamp = stamp;
    if (this.summary.lastTimestamp === null || stamp > this.summary.lastTimestamp) this.summary.lastTimestamp = stamp;
  }

  /** A client-backend record, fields in the order PostgreSQL 15 writes them. */
  private log(s: Session, ts: number, f: LogFields, completes = false): void {
    const rec: Record<string, unknown> = { timestamp: `${sqlTimestamp(ts)} UTC`, user: s.user, dbname: s.db, pid: s.pid };
    rec['remote_host'] = s.host;
    if (s.port !== null) rec['remote_port'] = s.port;
    rec['session_id'] = s.id;
    rec['line_num'] = ++s.lineNum;
    if (f.ps !== undefined && f.ps !== '') rec['ps'] = f.ps;
    rec['session_start'] = `${sqlTimestamp(s.startedAt).slice(0, 19)} UTC`;
    if (f.vxid !== undefined) rec['vxid'] = f.vxid;
    rec['txid'] = f.txid ?? 0;
    rec['error_severity'] = f.severity;
    rec['state_code'] = f.state;
    rec['message'] = f.message;
    if (f.detail !== undefined) rec['detail'] = f.detail;
    if (f.hint !== undefined) rec['hint'] = f.hint;
    if (f.statement !== undefined) rec['statement'] = f.statement;
    if (f.cursor !== undefined) rec['cursor_position'] = f.cursor;
    if (s.app !== '') rec['application_name'] = s.app;
    rec['backend_type'] = 'client backend';
    rec['query_id'] = 0;
    this.push(ts, JSON.stringify(rec), completes);
  }

  private noise(kind: string): void {
    bump(this.summary.noise, kind);
  }

  private checkpoint(t: number): void {
    // PostgreSQL skips a timed checkpoint when nothing was written since the last one.
    if (this.lastWrite < t - CHECKPOINT_EVERY) return;
    const r = this.rng;
    const buffers = r.int(8, 400);
    const write = buffers * 0.1 + r.float() * 0.2;
    const sync = r.int(1, 40) / 1000;
    const files = r.int(3, 40);
    const distance = buffers * 8 + r.int(0, 300);
    const cp = this.checkpointer;
    const line = (ts: number, message: string): string =>
      JSON.stringify({
        timestamp: `${sqlTimestamp(ts)} UTC`,
        pid: cp.pid,
        session_id: cp.id,
        line_num: ++cp.lineNum,
        session_start: `${sqlTimestamp(cp.startedAt).slice(0, 19)} UTC`,
        txid: 0,
        error_severity: 'LOG',
        state_code: '00000',
        message,
        backend_type: 'checkpointer',
        query_id: 0,
      });
    this.push(t, line(t, 'checkpoint starting: time'));
    this.noise('checkpoint starting');
    const total = write + sync + 0.011;
    const end = t + total * 1000;
    this.push(
      end,
      line(
        end,
        `checkpoint complete: wrote ${buffers} buffers (${((buffers / 16384) * 100).toFixed(1)}%); 0 WAL file(s) added, 0 removed, ${r.int(0, 2)} recycled; write=${write.toFixed(3)} s, sync=${sync.toFixed(3)} s, total=${total.toFixed(3)} s; sync files=${files}, longest=${(sync / 2).toFixed(3)} s, average=${(sync / files).toFixed(3)} s; distance=${distance} kB, estimate=${distance + r.int(0, 500)} kB`,
      ),
    );
    this.noise('checkpoint complete');
  }

  // ---- sessions ----------------------------------------------------------------------

  private openSession(client: ClientKey, db: string, t: number): Session {
    const spec = CLIENTS[client];
    const r = this.rng;
    this.nextPid += r.int(1, 37);
    const pid = this.nextPid;
    const received = t - r.int(4, 60);
    let bid = 3;
    while ((this.backendBusyUntil[bid] ?? Number.NEGATIVE_INFINITY) > received) bid++;
    this.backendBusyUntil[bid] = Number.POSITIVE_INFINITY;
    const host = r.pick(spec.hosts);
    const s: Session = {
      client,
      user: spec.user,
      db,
      app: spec.app,
      host,
      port: host === '[local]' ? null : r.int(32_768, 60_999),
      pid,
      bid,
      id: sessionId(received, pid),
      startedAt: received,
      lineNum: 0,
      lxid: 0,
      lastEnd: t,
      lifetime: spec.pool ? r.int(spec.pool.lifetime[0] * MINUTE_MS, spec.pool.lifetime[1] * MINUTE_MS) : 0,
      idleTimeout: spec.pool ? spec.pool.idle * MINUTE_MS : 0,
      prepared: new Map(),
      namedCount: 0,
      searchPath: null,
      auditId: 0,
      closeLag: r.int(3, 30_000) + r.float(),
    };
    this.summary.sessions++;
    // connection received is logged before the startup packet is read: no user or database yet.
    const rec = {
      timestamp: `${sqlTimestamp(received)} UTC`,
      pid,
      remote_host: host,
      ...(s.port !== null ? { remote_port: s.port } : {}),
      session_id: s.id,
      line_num: ++s.lineNum,
      session_start: `${sqlTimestamp(received).slice(0, 19)} UTC`,
      txid: 0,
      error_severity: 'LOG',
      state_code: '00000',
      message: `connection received: host=${host}${s.port !== null ? ` port=${s.port}` : ''}`,
      backend_type: 'not initialized',
      query_id: 0,
    };
    this.push(received, JSON.stringify(rec));
    this.noise('connection received');
    const authorized = received + r.int(1, Math.max(1, t - received - 1));
    this.log(s, authorized, {
      ps: 'authentication',
      vxid: `${bid}/0`,
      severity: 'LOG',
      state: '00000',
      message: `connection authorized: user=${s.user} database=${db}${s.app !== '' ? ` application_name=${s.app}` : ''}${spec.ssl ? SSL_INFO : ''}`,
    });
    this.noise('connection authorized');
    if (spec.pool) {
      const key = `${client}:${db}`;
      const pool = this.pools.get(key) ?? [];
      pool.push(s);
      this.pools.set(key, pool);
    }
    return s;
  }

  private closeSession(s: Session, at: number): void {
    const ms = Math.max(0, Math.round(at - s.startedAt));
    const h = Math.floor(ms / HOUR_MS);
    const m = Math.floor((ms % HOUR_MS) / MINUTE_MS);
    const sec = Math.floor((ms % MINUTE_MS) / 1000);
    const frac = ms % 1000;
    const took = `${h}:${pad(m, 2)}:${pad(sec, 2)}.${pad(frac, 3)}`;
    this.log(s, at, {
      ps: 'idle',
      vxid: `${s.bid}/0`,
      severity: 'LOG',
      state: '00000',
      message: `disconnection: session time: ${took} user=${s.user} database=${s.db} host=${s.host}${s.port !== null ? ` port=${s.port}` : ''}`,
    });
    this.noise('disconnection');
    this.backendBusyUntil[s.bid] = at;
  }

  /** When a pooled connection goes away: after its idle timeout or at its maximum lifetime. */
  private expiry(s: Session): number {
    // The pool's housekeeping runs now and then, so a connection goes a little after its due time.
    return Math.min(s.lastEnd + s.idleTimeout, Math.max(s.startedAt + s.lifetime, s.lastEnd + 5)) + s.closeLag;
  }

  private closeExpired(t: number): void {
    for (const [key, pool] of this.pools) {
      const keep: Session[] = [];
      for (const s of pool) {
        const at = this.expiry(s);
        if (at <= t) this.closeSession(s, at);
        else keep.push(s);
      }
      this.pools.set(key, keep);
    }
  }

  /** At the end of the period the pools shut down; keep their last records inside it. */
  private closeAll(): void {
    for (const pool of this.pools.values()) {
      for (const s of pool) {
        const at = Math.min(this.expiry(s), this.periodEnd - this.rng.int(1_000, 90_000));
        this.closeSession(s, Math.max(s.lastEnd + 5, at));
      }
    }
    this.pools.clear();
  }

  /** A free pooled connection at `t`, or a new one. */
  private pooled(client: ClientKey, db: string, t: number, exclude: Set<Session>): Session {
    const pool = this.pools.get(`${client}:${db}`) ?? [];
    const free = pool.filter((s) => s.lastEnd <= t && !exclude.has(s) && this.expiry(s) > t);
    if (free.length > 0) return this.rng.pick(free);
    return this.openSession(client, db, t);
  }

  // ---- statements --------------------------------------------------------------------

  /** Runs one statement in `s` starting at `start`, writes its records, returns its end. */
  private exec(s: Session, start: number, st: PgStatement): number {
    const r = this.rng;
    const style = this.styleAt(start);
    const fail = st.fail;
    const tags = st.tags;
    const firstTag = tags[0]!;
    const lastTag = tags[tags.length - 1]!;
    s.lxid++;
    const vxid = `${s.bid}/${s.lxid}`;
    const xid = st.write && (fail === undefined || fail.code === '23503') ? ++this.xid : 0;
    if (st.write && fail === undefined) this.lastWrite = start;

    const sm = this.summary;
    sm.statements++;
    sm.statementParts += tags.length;
    sm.byKind[st.kind]++;
    bump(sm.byDatabase, s.db);
    bump(sm.byUser, s.user);
    sm.byStyle[style]++;
    if (tags.length > 1) sm.multiStatement++;
    if (fail !== undefined) {
      sm.failed++;
      bump(sm.errorsByCode, fail.code);
    } else if (st.kind === 'ddl' || st.kind === 'dcl') {
      sm.ddlDclOk++;
    }
    if (st.searchPath !== undefined && fail === undefined) s.searchPath = st.searchPath;

    const error = (ts: number, ps: string): void => {
      this.log(
        s,
        ts,
        {
          ps,
          vxid,
          txid: xid,
          severity: 'ERROR',
          state: fail!.code,
          message: fail!.message,
          ...(fail!.detail !== undefined ? { detail: fail!.detail } : {}),
          ...(fail!.hint !== undefined ? { hint: fail!.hint } : {}),
          statement: st.sql,
          ...(fail!.cursor !== undefined ? { cursor: fail!.cursor } : {}),
        },
        true,
      );
    };
    const ok = { severity: 'LOG', state: '00000' };

    if (st.params !== undefined) {
      sm.extended++;
      const detail = st.params.length > 0 ? { detail: `parameters: ${st.params.map((p, i) => `$${i + 1} = ${quoteParam(p)}`).join(', ')}` } : {};
      // pgJDBC switches a statement to a named server-side one on its 5th use (prepareThreshold).
      const prep = s.prepared.get(st.sql) ?? { uses: 0, name: null };
      s.prepared.set(st.sql, prep);
      prep.uses++;
      let parse = true;
      if (prep.name !== null) parse = false;
      else if (prep.uses >= 5 && fail === undefined) prep.name = `S_${++s.namedCount}`;
      const name = prep.name ?? '<unnamed>';
      if (prep.name !== null) sm.namedPrepared++;
      let cursor = start;
      if (fail !== undefined && fail.phase !== 'execute') {
        cursor += r.logNormal(0.15, 0.4, 0.03, 5);
        error(cursor, 'PARSE');
        return cursor;
      }
      if (parse) {
        const d = r.logNormal(0.09, 0.5, 0.01, 5);
        cursor += d;
        this.log(s, cursor, { ps: 'PARSE', vxid, ...ok, message: `duration: ${d.toFixed(3)} ms  parse ${name}: ${st.sql}` });
        this.noise('parse duration');
      }
      const b = r.logNormal(0.05, 0.5, 0.01, 5);
      cursor += b;
      this.log(s, cursor, { ps: 'BIND', vxid, ...ok, message: `duration: ${b.toFixed(3)} ms  bind ${name}: ${st.sql}`, ...detail });
      this.noise('bind duration');
      if (style === 'B') this.log(s, cursor, { ps: firstTag, vxid, ...ok, message: `execute ${name}: ${st.sql}`, ...detail });
      if (fail !== undefined) {
        cursor += r.logNormal(0.2, 0.4, 0.03, 5);
        error(cursor, firstTag);
        return cursor;
      }
      cursor += st.durationMs;
      const message =
        style === 'A' ? `duration: ${st.durationMs.toFixed(3)} ms  execute ${name}: ${st.sql}` : `duration: ${st.durationMs.toFixed(3)} ms`;
      this.log(s, cursor, { ps: lastTag, vxid, ...ok, message, ...(style === 'A' ? detail : {}) }, true);
      return cursor;
    }

    // Simple protocol. log_statement only sees statements that parse.
    if (style === 'B' && fail?.phase !== 'syntax') {
      this.log(s, start, { ps: 'idle', vxid, ...ok, message: `statement: ${st.sql}` });
    }
    if (fail !== undefined) {
      const end = start + r.logNormal(0.3, 0.5, 0.05, 10);
      error(end, fail.phase === 'syntax' ? 'idle' : firstTag);
      return end;
    }
    if (style === 'B') {
      tags.forEach((tag, i) => {
        const cls = auditClass(tag);
        if (cls === null) return;
        s.auditId++;
        const at = start + (st.durationMs * (i + 1)) / (tags.length + 1);
        this.log(s, at, { ps: tag, vxid, txid: xid, ...ok, message: `AUDIT: SESSION,${s.auditId},1,${cls},${tag},,,${csvField(st.sql)},<not logged>` });
        this.noise('pgaudit');
      });
    }
    const end = start + st.durationMs;
    const message = style === 'A' ? `duration: ${st.durationMs.toFixed(3)} ms  statement: ${st.sql}` : `duration: ${st.durationMs.toFixed(3)} ms`;
    this.log(s, end, { ps: lastTag, vxid, ...ok, message }, true);
    return end;
  }

  private runPhase(phase: PlannedPhase): void {
    const s = this.openSession('admin', 'appdb', phase.start);
    let last = phase.start;
    for (const { t, st } of phase.items) last = this.exec(s, t, st);
    s.lastEnd = last;
    this.closeSession(s, last + this.rng.int(200, 4_000));
  }

  /** One arrival of the workload: an app request, a dashboard refresh, a person or the DBA. */
  private workload(t: number): void {
    if (!this.state.has('base', t)) return;
    const r = this.rng;
    const daytime = loadAt(t) >= 0.55;
    const dave = this.state.has('contractor', t) && this.state.has('contractor', t + HOUR_MS);
    const kind = r.weighted([
      ['app', 0.6],
      ['dashboard', 0.1],
      ['visit', daytime ? 0.08 : 0.01],
      ['admin', 0.03],
    ]);
    if (kind === 'app') {
      const s = this.pooled('app', 'appdb', t, new Set());
      let cursor = t;
      const customers = this.state.customers(t);
      const orders = this.state.orders(t);
      if (customers > 0 && orders > 0 && r.chance(0.12)) {
        // An order-history page with the classic N+1: one count per order. From the fifth
        // execution pgJDBC switches to a named server-side statement (S_1, ...).
        cursor = this.exec(s, cursor, {
          sql: 'SELECT id, status, total, created_at FROM app.orders WHERE customer_id = $1 ORDER BY created_at DESC LIMIT 20',
          tags: ['SELECT'],
          kind: 'query',
          write: false,
          params: [String(r.int(1, customers))],
          durationMs: r.logNormal(0.5, 0.6, 0.05, 50),
        });
        const n = r.int(3, 8);
        for (let i = 0; i < n; i++) {
          cursor = this.exec(s, cursor + r.logNormal(0.3, 0.5, 0.05, 5), {
            sql: 'SELECT count(*) FROM app.order_items WHERE order_id = $1',
            tags: ['SELECT'],
            kind: 'query',
            write: false,
            params: [String(r.int(1, orders))],
            durationMs: r.logNormal(0.2, 0.5, 0.03, 20),
          });
        }
        s.lastEnd = cursor;
        return;
      }
      const n = r.weighted([
        [1, 0.5],
        [2, 0.3],
        [3, 0.15],
        [4, 0.05],
      ]);
      for (let i = 0; i < n; i++) {
        const st = draw(r, appTemplates(r, this.state, cursor));
        cursor = this.exec(s, cursor, st) + r.logNormal(1.5, 0.8, 0.1, 50);
      }
      s.lastEnd = cursor;
      return;
    }
    if (kind === 'dashboard') {
      // Grafana runs a dashboard's panels in parallel on separate pooled connections.
      const db = r.chance(0.55) ? 'reporting' : 'appdb';
      const templates = db === 'reporting' ? reportingTemplates(r, this.state, t) : dashboardTemplates(r, this.state, t);
      const panels = r.int(2, Math.min(4, templates.length));
      const used = new Set<Session>();
      for (let i = 0; i < panels; i++) {
        const at = t + r.int(0, 40) + r.float();
        const s = this.pooled('grafana', db, at, used);
        used.add(s);
        // Each panel of a dashboard runs a different query.
        const k = r.weighted(templates.map((tpl, j) => [j, tpl[0]] as const));
        const [panel] = templates.splice(k, 1);
        s.lastEnd = this.exec(s, at, panel![1]()) + r.float();
      }
      return;
    }
    if (kind === 'admin') {
      const s = this.openSession('admin', 'appdb', t);
      let cursor = t;
      const n = r.int(1, 3);
      for (let i = 0; i < n; i++) {
        cursor = this.exec(s, cursor, draw(r, adminTemplates(r, this.state, cursor))) + r.int(3_000, 40_000);
      }
      this.closeSession(s, cursor);
      return;
    }
    const who = r.weighted<ClientKey>([
      ['alice', 0.45],
      ['bob', 0.35],
      ['dave', dave ? 0.35 : 0],
    ]);
    const s = this.openSession(who, 'appdb', t);
    let cursor = t;
    if (who === 'bob') {
      // DBeaver asks for the schema and user right after connecting.
      cursor = this.exec(s, cursor, {
        sql: 'SELECT current_schema(),session_user',
        tags: ['SELECT'],
        kind: 'query',
        write: false,
        params: [],
        durationMs: r.logNormal(0.1, 0.3, 0.02, 3),
      });
    }
    if (who === 'alice' && r.chance(0.35)) {
      cursor = this.exec(s, cursor, { sql: 'SET search_path TO app, public', tags: ['SET'], kind: 'session', write: false, durationMs: 0.05, searchPath: 'app, public' });
    }
    const n = r.int(3, 12);
    for (let i = 0; i < n; i++) {
      cursor += i === 0 && who !== 'bob' ? r.logNormal(3_000, 0.8, 200, 60_000) : r.logNormal(20_000, 1, 1_500, 5 * MINUTE_MS);
      if (who === 'dave' && !this.state.has('contractor', cursor)) break;
      const templates =
        who === 'alice'
          ? aliceTemplates(r, this.state, cursor, s.searchPath !== null)
          : who === 'bob'
            ? bobTemplates(r, this.state, cursor)
            : daveTemplates(r, this.state, cursor);
      cursor = this.exec(s, cursor, draw(r, templates));
    }
    this.closeSession(s, cursor + r.logNormal(30_000, 1, 500, 20 * MINUTE_MS));
  }
}

function planToStatement(r: Rng, ps: PlanStatement): PgStatement {
  const { durationMs, provides: _p, removes: _r, ...rest } = ps;
  const ms = ps.fail !== undefined ? r.logNormal(0.4, 0.5, 0.05, 10) : durationMs !== undefined ? durationMs[0] + r.float() * (durationMs[1] - durationMs[0]) : r.logNormal(3, 0.6, 0.3, 60);
  return { ...rest, durationMs: ms };
}

/** Number of values in sorted `xs` below `limit`. */
function countBefore(xs: readonly number[], limit: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid]! < limit) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function insertSorted(xs: number[], value: number): void {
  xs.splice(countBefore(xs, value), 0, value);
}

function sessionId(startMs: number, pid: number): string {
  return `${Math.floor(startMs / 1000).toString(16)}.${pid.toString(16)}`;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** How PostgreSQL prints a bind parameter in `parameters: $1 = '...'`. */
function quoteParam(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** pgaudit quotes a CSV field when it holds a comma, quote or newline. */
function csvField(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
