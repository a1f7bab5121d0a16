/**
 * Throughput of the SQL lexer-based extract functions over a realistic mixed corpus
 * (PostgreSQL, Redshift, Trino, Hive/Okera; mostly queries and DML, some DDL/DCL/session).
 * Run: npx tsx bench/sql.ts [statements] [rounds]. Each line is the best of the rounds; the
 * "baseline charCodeAt" line (reading every character once) calibrates for the machine.
 */
import { analyzeStatement, classify, fingerprint, splitStatements } from '../src/extract/sql/index.js';

// Deterministic PRNG so runs are comparable.
let seed = 0x2545f491;
function rnd(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 0x1_0000_0000;
}
const int = (max: number): number => Math.floor(rnd() * max);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
const str = (): string => pick(['alice', 'bob', "o''brien", 'EU-west', '2024-05-01', 'x'.repeat(1 + int(30))]);
const ids = (): string => Array.from({ length: 1 + int(8) }, () => String(int(100000))).join(', ');

// Weighted templates: [weight, generator].
const TEMPLATES: readonly [number, () => string][] = [
  [14, () => `SELECT id, name, email, status, created_at, updated_at FROM app.users WHERE id = ${int(1e6)} AND status = '${str()}' AND deleted_at IS NULL LIMIT ${int(100)}`],
  [10, () => `SELECT "users"."id", "users"."email", "users"."display_name", "users"."org_id" FROM "users" WHERE "users"."org_id" = $1 AND "users"."active" = $2 ORDER BY "users"."id" LIMIT $3`],
  [8, () => `SELECT o.id, o.total, o.currency, c.name, c.country FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.id IN (${ids()}) ORDER BY o.created_at DESC`],
  [7, () => `select region, count(*) as n, sum(amount) as total from sales.fact_orders where order_date between '2024-01-0${1 + int(9)}' and '2024-02-01' and amount > -${int(50)}.5 group by region order by total desc`],
  [7, () => `INSERT INTO events (user_id, session_id, kind, payload, ts) VALUES (${int(1e6)}, '${int(1e9).toString(16)}', '${str()}', '{"a": ${int(9)}, "b": "x"}', now()) RETURNING id`],
  [5, () => `UPDATE accounts SET balance = balance - ${int(500)}, updated_at = now(), version = version + 1 WHERE account_id = $1 AND version = $2`],
  [3, () => `DELETE FROM sessions WHERE expires_at < now() - interval '${int(30)} days' AND user_id NOT IN (SELECT id FROM admins)`],
  [5, () => `/* app=checkout trace=${int(1e9)} */ WITH recent AS (SELECT * FROM orders WHERE ts > now() - interval '1 hour') SELECT customer_id, sum(total) FROM recent GROUP BY 1 ORDER BY 2 DESC LIMIT 50`],
  [6, () => `SELECT \`db\`.\`tbl\`.col_a, col_b, col_c FROM okera_sample.users_${int(9)} WHERE col_c = "x" AND dt = '2024-0${1 + int(9)}-01' AND country IN ('US', 'CA', 'MX') LIMIT 100`],
  [4, () => `INSERT OVERWRITE TABLE warehouse.daily_${int(9)} PARTITION (dt='2024-05-0${1 + int(9)}') SELECT a, b, c, d FROM staging.raw WHERE dt = '2024-05-01' AND src = 'web'`],
  [4, () => `SELECT * FROM hive.web.page_views WHERE view_date = DATE '2024-05-0${1 + int(9)}' AND user_id = ${int(1e6)} AND country = '${str()}' ORDER BY view_time DESC LIMIT 20`],
  [3, () => `SET search_path TO app_${int(9)}, public`],
  [2, () => `BEGIN`],
  [2, () => `COMMIT`],
  [2, () => `SHOW TABLES IN db_${int(99)}`],
  [2, () => `USE analytics_${int(9)}`],
  [2, () => `CREATE TABLE IF NOT EXISTS tmp.t_${int(1e6)} (id bigint, name varchar(${int(255)}), ts timestamp, payload varchar) WITH (format = 'ORC', partitioned_by = ARRAY['ts'])`],
  [1, () => `GRANT SELECT ON TABLE sales.orders_${int(99)} TO ROLE analyst_${int(9)}`],
  [1, () => `ALTER TABLE t_${int(99)} ADD COLUMN ATTRIBUTE email pii.email`],
  [1, () => `COPY public.events_${int(9)} FROM 's3://bucket/path/${int(1e6)}.csv' IAM_ROLE 'arn:aws:iam::123:role/x' CSV IGNOREHEADER 1`],
  [1, () => `UNLOAD ('select * from sales where id > ${int(1e6)}') TO 's3://bucket/unload/' IAM_ROLE 'arn:aws:iam::1:role/r' PARQUET`],
  [2, () => `EXPLAIN ANALYZE SELECT * FROM big_table WHERE k = ${int(1e6)} AND v > 0.5`],
];

function buildCorpus(n: number): string[] {
  const total = TEMPLATES.reduce((s, [w]) => s + w, 0);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    let r = rnd() * total;
    for (const [w, gen] of TEMPLATES) {
      r -= w;
      if (r < 0) {
        out.push(gen());
        break;
      }
    }
  }
  return out;
}

interface Result {
  name: string;
  items: readonly string[];
  fn: (s: string) => number;
  statementsPerItem: number;
  bestNs: number;
}

/** Times one pass over `items`; the sink keeps the JIT from dropping the work. */
function timeOnce(r: Result): void {
  let sink = 0;
  const t0 = process.hrtime.bigint();
  for (const q of r.items) sink += r.fn(q);
  const ns = Number(process.hrtime.bigint() - t0);
  if (sink === -1) console.log('unreachable');
  if (ns < r.bestNs) r.bestNs = ns;
}

function report(r: Result): void {
  const bytes = r.items.reduce((s, q) => s + Buffer.byteLength(q), 0);
  const statements = r.items.length * r.statementsPerItem;
  const perSec = statements / (r.bestNs / 1e9);
  const mbPerSec = bytes / 1e6 / (r.bestNs / 1e9);
  console.log(
    `${r.name.padEnd(20)} ${Math.round(perSec).toLocaleString('en-US').padStart(12)} statements/s ` +
      `${(r.bestNs / statements).toFixed(0).padStart(6)} ns/statement ${mbPerSec.toFixed(1).padStart(7)} MB/s`,
  );
}

const n = Number(process.argv[2] ?? 20000);
const corpus = buildCorpus(n);
const avg = corpus.reduce((s, q) => s + q.length, 0) / corpus.length;
console.log(`corpus: ${corpus.length} statements, average ${avg.toFixed(0)} characters`);

// Scripts of 10 statements each: the splitter's slow path.
const scripts: string[] = [];
for (let i = 0; i + 10 <= corpus.length; i += 10) scripts.push(corpus.slice(i, i + 10).join(';\n') + ';');

// Reading every character once with charCodeAt: the floor any lexer pays on this machine,
// so numbers from different machines can be compared.
function touchAll(q: string): number {
  let h = 0;
  for (let i = 0; i < q.length; i++) h = (h + q.charCodeAt(i)) | 0;
  return h;
}

const results: Result[] = [
  { name: 'baseline charCodeAt', items: corpus, fn: touchAll, statementsPerItem: 1, bestNs: Infinity },
  { name: 'analyzeStatement', items: corpus, fn: (q) => analyzeStatement(q).fingerprint.length, statementsPerItem: 1, bestNs: Infinity },
  { name: 'classify', items: corpus, fn: (q) => classify(q).command.length, statementsPerItem: 1, bestNs: Infinity },
  { name: 'fingerprint', items: corpus, fn: (q) => fingerprint(q).length, statementsPerItem: 1, bestNs: Infinity },
  { name: 'splitStatements/1', items: corpus, fn: (q) => splitStatements(q).length, statementsPerItem: 1, bestNs: Infinity },
  { name: 'splitStatements/10', items: scripts, fn: (q) => splitStatements(q).length, statementsPerItem: 10, bestNs: Infinity },
];
// Interleaved rounds, best of each: the JIT warms up in the first rounds and noise from
// other processes only ever adds time.
const rounds = Number(process.argv[3] ?? 30);
for (let round = 0; round < rounds; round++) for (const r of results) timeOnce(r);
for (const r of results) report(r);
