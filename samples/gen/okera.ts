/**
 * Okera audit logs: one JSONL file per planner per day under `okera/ymd=YYYY-MM-DD/`.
 * Each planner writes its records in the order it wrote them (by write time); planners run
 * side by side, so a day's files interleave in time. Around midnight a planner may keep its
 * old file open for up to ~30 minutes, which puts late records of one day into the next
 * day's partition, as happens with real rotating writers.
 */
import { join } from 'node:path';
import { OkeraWorkload } from './okera-workload.js';
import type { OkeraCategory, OkeraStatement } from './okera-workload.js';
import { LineSink } from './line-sink.js';
import type { MinHeap } from '../../src/extract/min-heap.js';
import { timeHeap } from './heap.js';
import { fnv1a } from './prng.js';
import type { Rng } from './prng.js';
import { DAY_MS, DailyArrivals, MINUTE_MS, dayString, sqlTimestamp } from './time.js';
import { bump, sortedCounts } from './types.js';
import type { GeneratedFile } from './types.js';

export interface OkeraGenOptions {
  rng: Rng;
  seed: number;
  outDir: string;
  start: number;
  days: number;
  filesPerDay: number;
  /** Requests (END records) per day. */
  requestsPerDay: readonly number[];
  gzipFor: (fileIndex: number) => boolean;
  gzipLevel: number;
  /** Share of requests that also get a START record. */
  startFraction: number;
}

export interface OkeraSummary {
  files: number;
  records: number;
  /** Distinct requests = END records; a START/END pair is one request. */
  requests: number;
  /** Requests counting each statement of a multi-statement string (`USE db; SELECT ...`) apart. */
  statementParts: number;
  startRecords: number;
  /** START records that sit in a different file than their END record. */
  startsInOtherFile: number;
  failed: number;
  authFailures: number;
  /** Records whose request started before the day their partition names. */
  recordsBeforePartitionDay: number;
  byStatementType: Record<string, number>;
  byCategory: Record<OkeraCategory, number>;
  firstRequestTime: string | null;
  lastRequestTime: string | null;
}

interface Pending {
  ts: number;
  seq: number;
  line: string;
  isStart: boolean;
  startDay: string;
  pair: { startFile?: string; endFile?: string } | null;
}

interface PlannerState {
  heap: MinHeap<Pending>;
  /** Partition index currently being written. */
  part: number;
  /** cutover[d]: first write time that goes to partition d. */
  cutover: number[];
  sink: LineSink | null;
  file: GeneratedFile | null;
}

/** Writes the Okera tree under `outDir/okera` and returns what it wrote. */
export async function generateOkera(o: OkeraGenOptions): Promise<{ files: GeneratedFile[]; summary: OkeraSummary }> {
  const rng = o.rng;
  const end = o.start + o.days * DAY_MS;
  const workload = new OkeraWorkload(rng.fork('workload'), o.start, end);
  const files: GeneratedFile[] = [];
  const summary: OkeraSummary = {
    files: 0,
    records: 0,
    requests: 0,
    statementParts: 0,
    startRecords: 0,
    startsInOtherFile: 0,
    failed: 0,
    authFailures: 0,
    recordsBeforePartitionDay: 0,
    byStatementType: {},
    byCategory: { query: 0, multi: 0, explain: 0, dml: 0, metadata: 0, ddl: 0, dcl: 0 },
    firstRequestTime: null,
    lastRequestTime: null,
  };

  const layoutRng = rng.fork('layout');
  const planners: PlannerState[] = [];
  for (let p = 0; p < o.filesPerDay; p++) {
    const cutover = [Number.NEGATIVE_INFINITY];
    for (let d = 1; d < o.days; d++) {
      const midnight = o.start + d * DAY_MS;
      const late = layoutRng.int(5 * MINUTE_MS, 30 * MINUTE_MS);
      cutover.push(midnight - late);
    }
    planners.push({ heap: timeHeap<Pending>(), part: 0, cutover, sink: null, file: null });
  }

  let seq = 0;
  const closeFile = async (pl: PlannerState): Promise<void> => {
    if (pl.sink === null || pl.file === null) return;
    const res = await pl.sink.close();
    pl.file.rawBytes = res.rawBytes;
    pl.file.bytes = res.bytes;
    files.push(pl.file);
    pl.sink = null;
    pl.file = null;
  };

  const writeRecord = async (p: number, pl: PlannerState, rec: Pending): Promise<void> => {
    while (pl.part + 1 < o.days && rec.ts >= pl.cutover[pl.part + 1]!) {
      await closeFile(pl);
      pl.part++;
    }
    if (pl.sink === null) {
      const day = dayString(o.start + pl.part * DAY_MS);
      const index = pl.part * o.filesPerDay + p;
      const gzip = o.gzipFor(index);
      const hash = fnv1a(`${o.seed}:${day}:${p}`).toString(16).padStart(8, '0');
      // Gzip is recognised by magic bytes, so half of the gzip files keep a plain `.log` name.
      const ext = gzip && index % 4 === 0 ? '.log.gz' : '.log';
      const rel = `okera/ymd=${day}/planner-${p}-${hash}${ext}`;
      pl.sink = new LineSink(join(o.outDir, rel), gzip, o.gzipLevel);
      pl.file = { path: rel, format: 'okera', day, gzip, records: 0, statements: 0, rawBytes: 0, bytes: 0 };
    }
    const file = pl.file!;
    file.records++;
    summary.records++;
    if (!rec.isStart) file.statements++;
    if (rec.startDay < file.day) summary.recordsBeforePartitionDay++;
    if (rec.pair !== null) {
      if (rec.isStart) rec.pair.startFile = file.path;
      else rec.pair.endFile = file.path;
      if (rec.pair.startFile !== undefined && rec.pair.endFile !== undefined && rec.pair.startFile !== rec.pair.endFile) {
        summary.startsInOtherFile++;
      }
    }
    const wait = pl.sink!.write(rec.line);
    if (wait) await wait;
  };

  const flushUntil = async (t: number): Promise<void> => {
    for (let p = 0; p < planners.length; p++) {
      const pl = planners[p]!;
      for (let head = pl.heap.peek(); head !== undefined && head.ts < t; head = pl.heap.peek()) {
        pl.heap.pop();
        await writeRecord(p, pl, head);
      }
    }
  };

  let planIdx = 0;
  for (let d = 0; d < o.days; d++) {
    const dayEnd = o.start + (d + 1) * DAY_MS;
    // Scheduled requests count towards the day's total, so totals stay exact.
    const scheduled = workload.plan.filter((p) => p.at >= dayEnd - DAY_MS && p.at < dayEnd).length;
    const arrivals = new DailyArrivals(rng.fork(`arrivals:${d}`), dayEnd - DAY_MS, Math.max(0, (o.requestsPerDay[d] ?? 0) - scheduled));
    let nextArrival = arrivals.next();
    for (;;) {
      const planned = workload.plan[planIdx];
      const plannedAt = planned !== undefined && planned.at < dayEnd ? planned.at : Number.POSITIVE_INFINITY;
      if (nextArrival === undefined && plannedAt === Number.POSITIVE_INFINITY) break;
      let t: number;
      let stmt: OkeraStatement;
      if (plannedAt <= (nextArrival ?? Number.POSITIVE_INFINITY)) {
        t = plannedAt;
        stmt = workload.planned(planned!, t);
        planIdx++;
      } else {
        t = nextArrival!;
        stmt = workload.next(t);
        nextArrival = arrivals.next();
      }
      await flushUntil(t);
      const startMs = Math.floor(t);
      const endMs = startMs + Math.max(1, Math.round(stmt.durationMs));
      const requestId = `${rng.hex(16)}:${rng.hex(16)}`;
      const micros = String(rng.int(0, 999)).padStart(3, '0');
      const requestTime = `${sqlTimestamp(startMs)}${micros}000`;
      const p = rng.int(0, o.filesPerDay - 1);
      const startDay = dayString(startMs);
      const withStart = rng.chance(o.startFraction);
      const pair = withStart ? {} : null;
      let startWrite = Number.NEGATIVE_INFINITY;
      if (withStart) {
        // Usually the same planner logs both halves; sometimes the request moved to another.
        const q = o.filesPerDay > 1 && rng.chance(0.3) ? (p + rng.int(1, o.filesPerDay - 1)) % o.filesPerDay : p;
        startWrite = startMs + rng.int(0, 3);
        planners[q]!.heap.push({
          ts: startWrite,
          seq: seq++,
          line: okeraLine(requestTime, requestId, startMs, null, stmt),
          isStart: true,
          startDay,
          pair,
        });
        summary.startRecords++;
      }
      planners[p]!.heap.push({
        ts: Math.max(endMs + rng.int(1, 25), startWrite + 1),
        seq: seq++,
        line: okeraLine(requestTime, requestId, startMs, endMs, stmt),
        isStart: false,
        startDay,
        pair,
      });
      summary.requests++;
      summary.statementParts += stmt.category === 'multi' ? stmt.statement.split(';').length : 1;
      summary.byCategory[stmt.category]++;
      bump(summary.byStatementType, stmt.statementType);
      if (stmt.error !== null) summary.failed++;
      if (stmt.authFailure) summary.authFailures++;
      summary.firstRequestTime ??= requestTime;
      summary.lastRequestTime = requestTime;
    }
  }
  await flushUntil(Number.POSITIVE_INFINITY);
  for (const pl of planners) await closeFile(pl);

  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  summary.files = files.length;
  summary.byStatementType = sortedCounts(summary.byStatementType);
  return { files, summary };
}

/** One audit record; `endMs` null makes the START record (no end time, no status yet). */
function okeraLine(requestTime: string, requestId: string, startMs: number, endMs: number | null, s: OkeraStatement): string {
  const rec: Record<string, unknown> = { request_time: requestTime, request_id: requestId, start_unix_time: startMs };
  if (endMs !== null) rec['end_unix_time'] = endMs;
  rec['auth_failure'] = endMs !== null && s.authFailure;
  if (endMs !== null) rec['status'] = s.error ?? 'ok';
  rec['user'] = s.user;
  rec['connected_user'] = s.connectedUser;
  rec['client_application'] = s.client;
  rec['statement_type'] = s.statementType;
  rec['default_db'] = s.defaultDb;
  rec['statement'] = s.statement;
  if (s.sessionId !== null) rec['session_id'] = s.sessionId;
  if (s.aeDatabase !== undefined) rec['ae_database'] = s.aeDatabase;
  if (s.aeTable !== undefined) rec['ae_table'] = s.aeTable;
  if (s.aeView !== undefined) rec['ae_view'] = s.aeView;
  if (s.aeRole !== undefined) rec['ae_role'] = s.aeRole;
  return JSON.stringify(rec);
}
