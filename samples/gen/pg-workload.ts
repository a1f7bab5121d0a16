/**
 * Workload templates for the PostgreSQL sample, one set per client. Each template returns
 * a statement valid at time `t` given the schema features and the rows that exist then.
 */
import type { Rng } from './prng.js';
import { cursorAt, MORE_PRODUCTS, PRODUCTS } from './pg-statements.js';
import type { PgStatement } from './pg-statements.js';
import { HOUR_MS, dayString, sqlTimestamp } from './time.js';

/** What templates may rely on at a given time. */
export interface WorkloadState {
  has(feature: string, t: number): boolean;
  /** Customers whose insert started at least 10 s before `t` (ids 1..n exist by then). */
  customers(t: number): number;
  orders(t: number): number;
  /** Records an insert so later statements may reference the new row. */
  insertedCustomer(t: number): number;
  insertedOrder(t: number): void;
}

export type Template = [number, () => PgStatement];

/** Draws one template by weight and builds its statement. */
export function draw(r: Rng, templates: readonly Template[]): PgStatement {
  return r.weighted(templates.map(([w, make]) => [make, w] as const))();
}

const REGIONS = ['eu', 'us', 'apac'];
const STATUSES = ['paid', 'shipped', 'cancelled'];
const CARRIERS = ['DHL', 'UPS', 'PostNL', 'La Poste'];
const FIRST = ['Ada', 'Bruno', 'Chloe', 'Dmitri', 'Elif', 'Farah', 'Goran', 'Hana', 'Ivo', 'Jana', "Liam O'Neil", 'Mei'];

function q(sql: string, tag: string, durationMs: number, extra: Partial<PgStatement> = {}): PgStatement {
  return { sql, tags: [tag], kind: tag === 'SELECT' ? 'query' : 'dml', write: tag !== 'SELECT', durationMs, ...extra };
}

export function productCount(s: WorkloadState, t: number): number {
  return PRODUCTS.length + (s.has('more_products', t) ? MORE_PRODUCTS.length : 0);
}

function money(r: Rng, lo: number, hi: number): string {
  return (r.int(lo * 100, hi * 100) / 100).toFixed(2);
}

/** JDBC application traffic: extended protocol, parameters, short statements. */
export function appTemplates(r: Rng, s: WorkloadState, t: number): Template[] {
  const customers = s.customers(t);
  const orders = s.orders(t);
  const products = productCount(s, t);
  const fast = (): number => r.logNormal(0.35, 0.7, 0.03, 120);
  const out: Template[] = [
    [
      2,
      () => q('SELECT id, sku, title, price FROM app.products WHERE id = ANY($1)', 'SELECT', fast(), {
        params: [`{${[r.int(1, products), r.int(1, products), r.int(1, products)].join(',')}}`],
      }),
    ],
    [
      1.2,
      () => {
        const n = s.insertedCustomer(t);
        const name = `${r.pick(FIRST)} ${String.fromCharCode(65 + r.int(0, 25))}.`;
        return q('INSERT INTO app.customers (email, name, region) VALUES ($1, $2, $3)', 'INSERT', r.logNormal(1.2, 0.5, 0.2, 80), {
          params: [`user${n}@example.com`, name, r.pick(REGIONS)],
        });
      },
    ],
    [0.06, () => fkViolation(r, products)],
  ];
  if (customers > 0) {
    const cust = (): string => String(r.int(1, customers));
    out.push(
      [3, () => q('SELECT id, email, name, region FROM app.customers WHERE id = $1', 'SELECT', fast(), { params: [cust()] })],
      [
        3,
        () =>
          q('SELECT id, status, total, created_at FROM app.orders WHERE customer_id = $1 ORDER BY created_at DESC LIMIT 20', 'SELECT', fast(), {
            params: [cust()],
          }),
      ],
      [
        1.5,
        () => {
          s.insertedOrder(t);
          const qty = r.int(1, 4);
          const price = money(r, 3, 60);
          return q(
            'WITH new_order AS (INSERT INTO app.orders (customer_id, total) VALUES ($1, $2) RETURNING id) INSERT INTO app.order_items (order_id, product_id, quantity, unit_price) VALUES ((SELECT id FROM new_order), $3, $4, $5)',
            'INSERT',
            r.logNormal(2.5, 0.5, 0.4, 150),
            { params: [cust(), (qty * Number(price)).toFixed(2), String(r.int(1, products)), String(qty), price] },
          );
        },
      ],
    );
    if (s.has('customers.marketing_opt_in', t)) {
      out.push([
        0.5,
        () =>
          q('UPDATE app.customers SET marketing_opt_in = $1 WHERE id = $2', 'UPDATE', r.logNormal(0.9, 0.5, 0.1, 60), {
            params: [r.pick(['t', 'f']), cust()],
          }),
      ]);
    }
  }
  if (orders > 0) {
    const ord = (): string => String(r.int(1, orders));
    out.push(
      [1, () => q('UPDATE app.orders SET status = $1 WHERE id = $2', 'UPDATE', r.logNormal(0.9, 0.5, 0.1, 60), { params: [r.pick(STATUSES), ord()] })],
      [0.7, () => q('SELECT count(*) FROM app.order_items WHERE order_id = $1', 'SELECT', fast(), { params: [ord()] })],
      [
        0.3,
        () =>
          q('DELETE FROM app.order_items WHERE order_id = $1 AND product_id = $2', 'DELETE', r.logNormal(0.7, 0.5, 0.1, 60), {
            params: [ord(), String(r.int(1, products))],
          }),
      ],
    );
    if (s.has('orders.shipped_at', t)) {
      out.push([
        0.6,
        () =>
          q("UPDATE app.orders SET status = 'shipped', shipped_at = now() WHERE id = $1", 'UPDATE', r.logNormal(0.9, 0.5, 0.1, 60), {
            params: [ord()],
          }),
      ]);
    }
    if (s.has('shipments', t)) {
      out.push([
        0.6,
        () =>
          q('INSERT INTO app.shipments (order_id, carrier, tracking_no) VALUES ($1, $2, $3)', 'INSERT', r.logNormal(1.1, 0.5, 0.2, 60), {
            params: [ord(), r.pick(CARRIERS), `TRK${r.hex(10).toUpperCase()}`],
          }),
      ]);
    }
  }
  if (s.has('recent_orders', t) && customers > 0) {
    out.push([
      0.8,
      () =>
        q('SELECT id, status, total FROM app.recent_orders WHERE customer_id = $1', 'SELECT', fast(), {
          params: [String(r.int(1, customers))],
        }),
    ]);
  }
  return out;
}

// ---- failures: each also runs once at a fixed time (see incidents in postgres.ts) -------

/** An order item for an order that does not exist (a stale id in the app's cache). */
export function fkViolation(r: Rng, products: number): PgStatement {
  const orderId = String(900_000_000 + r.int(0, 99_999));
  return q('INSERT INTO app.order_items (order_id, product_id, quantity, unit_price) VALUES ($1, $2, $3, $4)', 'INSERT', 0.6, {
    params: [orderId, String(r.int(1, products)), '1', money(r, 2, 60)],
    fail: {
      code: '23503',
      message: 'insert or update on table "order_items" violates foreign key constraint "order_items_order_id_fkey"',
      detail: `Key (order_id)=(${orderId}) is not present in table "orders".`,
      phase: 'execute',
    },
  });
}

/** bob has read-only access. */
export function deniedDelete(r: Rng): PgStatement {
  return q(`DELETE FROM app.orders WHERE id = ${r.int(1, 500)}`, 'DELETE', 0.3, {
    params: [],
    fail: { code: '42501', message: 'permission denied for table orders', phase: 'execute' },
  });
}

export function typoColumn(r: Rng, prefix: string, customers: number): PgStatement {
  const sql = `SELECT emial FROM ${prefix}customers WHERE id = ${r.int(1, Math.max(1, customers))}`;
  return q(sql, 'SELECT', 0.2, {
    fail: {
      code: '42703',
      message: 'column "emial" does not exist',
      hint: 'Perhaps you meant to reference the column "customers.email".',
      cursor: cursorAt(sql, 'emial'),
      phase: 'analyze',
    },
  });
}

export function typoKeyword(prefix: string): PgStatement {
  return q(`SELEC count(*) FROM ${prefix}orders`, 'SELECT', 0.1, {
    fail: { code: '42601', message: 'syntax error at or near "SELEC"', cursor: 1, phase: 'syntax' },
  });
}

export function badLiteral(prefix: string): PgStatement {
  const sql = `SELECT * FROM ${prefix}orders WHERE id = 'abc'`;
  return q(sql, 'SELECT', 0.1, {
    fail: { code: '22P02', message: 'invalid input syntax for type bigint: "abc"', cursor: cursorAt(sql, "'abc'"), phase: 'analyze' },
  });
}

/** A Grafana panel still pointing at a table that was never created in `reporting`. */
export function missingRelation(t: number): PgStatement {
  const sql = `SELECT day, revenue FROM daily_revenue WHERE day >= '${dayString(t - 7 * 24 * HOUR_MS)}' ORDER BY day`;
  return q(sql, 'SELECT', 0.2, {
    fail: { code: '42P01', message: 'relation "daily_revenue" does not exist', cursor: cursorAt(sql, 'daily_revenue'), phase: 'analyze' },
  });
}

/** alice through psql: ad-hoc reads, a few fixes, typos. */
export function aliceTemplates(r: Rng, s: WorkloadState, t: number, searchPath: boolean): Template[] {
  const customers = Math.max(1, s.customers(t));
  const orders = Math.max(1, s.orders(t));
  const day = dayString(t);
  const slow = (): number => r.logNormal(3, 1, 0.2, 4000);
  const p = searchPath ? '' : 'app.';
  const out: Template[] = [
    [2, () => q(`SELECT count(*) FROM ${p}orders WHERE status = '${r.pick(['new', ...STATUSES])}'`, 'SELECT', slow())],
    [
      2,
      () =>
        q(`SELECT id, email, name FROM ${p}customers WHERE region = '${r.pick(REGIONS)}' ORDER BY created_at DESC LIMIT ${r.pick([20, 50, 100])}`, 'SELECT', slow()),
    ],
    [1.5, () => q(`SELECT * FROM ${p}customer_order_totals ORDER BY total DESC LIMIT 10`, 'SELECT', slow())],
    [
      1.5,
      () =>
        q(
          `SELECT o.id, o.total, c.email FROM ${p}orders o JOIN ${p}customers c ON c.id = o.customer_id WHERE o.created_at >= '${day} 00:00:00+00' AND o.total > ${r.int(20, 150)} ORDER BY o.total DESC LIMIT 20`,
          'SELECT',
          slow(),
        ),
    ],
    [
      0.8,
      () => {
        const [sku] = r.pick(PRODUCTS);
        return q(`UPDATE ${p}products SET price = ${money(r, 3, 60)} WHERE sku = '${sku}'`, 'UPDATE', r.logNormal(1.5, 0.5, 0.2, 50));
      },
    ],
    [
      0.6,
      () => {
        const id = r.int(1, orders);
        return {
          sql: `BEGIN; UPDATE ${p}orders SET status = 'cancelled' WHERE id = ${id}; DELETE FROM ${p}order_items WHERE order_id = ${id}; COMMIT`,
          tags: ['BEGIN', 'UPDATE', 'DELETE', 'COMMIT'],
          kind: 'dml',
          write: true,
          durationMs: r.logNormal(3, 0.5, 0.5, 80),
        };
      },
    ],
    [0.6, () => q(`EXPLAIN SELECT * FROM ${p}orders WHERE customer_id = ${r.int(1, customers)}`, 'EXPLAIN', r.logNormal(0.3, 0.4, 0.05, 10), { kind: 'utility', write: false })],
    [
      0.5,
      () =>
        q(
          "SELECT n.nspname AS \"Schema\",\n  c.relname AS \"Name\",\n  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'i' THEN 'index' END AS \"Type\",\n  pg_catalog.pg_get_userbyid(c.relowner) AS \"Owner\"\nFROM pg_catalog.pg_class c\n     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\nWHERE c.relkind IN ('r','p','')\n      AND n.nspname OPERATOR(pg_catalog.~) '^(app)$' COLLATE pg_catalog.default\nORDER BY 1,2;",
          'SELECT',
          r.logNormal(1.5, 0.4, 0.3, 30),
        ),
    ],
    [0.25, () => typoColumn(r, p, customers)],
    [0.2, () => typoKeyword(p)],
    [0.2, () => badLiteral(p)],
  ];
  if (s.has('customers.marketing_opt_in', t)) {
    out.push([
      0.8,
      () => q(`SELECT count(*) FILTER (WHERE marketing_opt_in) AS opted_in, count(*) AS total FROM ${p}customers`, 'SELECT', slow()),
    ]);
  }
  if (s.has('shipments', t)) {
    out.push([
      0.8,
      () =>
        q(
          `SELECT s.tracking_no, s.carrier, o.status FROM ${p}shipments s JOIN ${p}orders o ON o.id = s.order_id WHERE s.created_at >= '${day}' ORDER BY s.created_at DESC LIMIT 25`,
          'SELECT',
          slow(),
        ),
    ]);
  }
  if (s.has('orders.note', t)) {
    out.push([0.5, () => q(`UPDATE ${p}orders SET note = 'customer called, ${r.pick(['address fixed', 'gift wrap', 'late delivery'])}' WHERE id = ${r.int(1, orders)}`, 'UPDATE', 1.2)]);
  }
  return out;
}

/** bob through DBeaver (JDBC, so extended protocol without parameters): reads only. */
export function bobTemplates(r: Rng, s: WorkloadState, t: number): Template[] {
  const customers = Math.max(1, s.customers(t));
  const slow = (): number => r.logNormal(4, 1, 0.3, 3000);
  const out: Template[] = [
    [2, () => q(`SELECT * FROM app.customer_order_totals WHERE orders > ${r.int(0, 5)} ORDER BY total DESC LIMIT 200`, 'SELECT', slow(), { params: [] })],
    [2, () => q(`SELECT * FROM app.orders WHERE customer_id = ${r.int(1, customers)} ORDER BY id DESC`, 'SELECT', slow(), { params: [] })],
    [1, () => q('SELECT region, count(*) FROM app.customers GROUP BY region ORDER BY 2 DESC', 'SELECT', slow(), { params: [] })],
    [0.2, () => deniedDelete(r)],
  ];
  if (s.has('products.discontinued', t)) {
    out.push([
      0.6,
      () => q(`UPDATE app.products SET discontinued = ${r.pick(['true', 'false'])} WHERE sku = '${r.pick(PRODUCTS)[0]}'`, 'UPDATE', 1.1, { params: [] }),
    ]);
  }
  return out;
}

/** contractor_dave through psql while his access lasts. */
export function daveTemplates(r: Rng, _s: WorkloadState, _t: number): Template[] {
  return [
    [2, () => q(`SELECT id, email, orders, total FROM app.customer_order_totals WHERE total > ${r.int(50, 500)} ORDER BY total DESC`, 'SELECT', r.logNormal(3, 1, 0.3, 2000))],
    [1, () => q(`SELECT sku, title, price FROM app.products WHERE price BETWEEN ${r.int(1, 10)} AND ${r.int(20, 60)} ORDER BY price`, 'SELECT', r.logNormal(0.4, 0.5, 0.05, 20))],
  ];
}

/** Grafana panels against `reporting`: catalog and statistics views plus one missing table. */
export function reportingTemplates(r: Rng, _s: WorkloadState, t: number): Template[] {
  const from = new Date(Math.floor(t / HOUR_MS) * HOUR_MS - r.pick([6, 12, 24]) * HOUR_MS).toISOString().slice(0, 19) + 'Z';
  const to = new Date(Math.floor(t / HOUR_MS + 1) * HOUR_MS).toISOString().slice(0, 19) + 'Z';
  const dbs = "('appdb', 'reporting')";
  return [
    [2, () => q(`SELECT datname, numbackends, xact_commit, xact_rollback, blks_read, blks_hit FROM pg_stat_database WHERE datname IN ${dbs}`, 'SELECT', r.logNormal(0.8, 0.4, 0.1, 40))],
    [2, () => q("SELECT count(*) FILTER (WHERE state = 'active') AS active, count(*) AS total FROM pg_stat_activity WHERE backend_type = 'client backend'", 'SELECT', r.logNormal(0.6, 0.4, 0.1, 40))],
    [
      1.5,
      () =>
        q(
          `SELECT d::date AS day, extract(isodow FROM d) AS dow FROM generate_series(timestamp '${from.slice(0, 10)}', timestamp '${to.slice(0, 10)}', interval '1 day') AS d`,
          'SELECT',
          r.logNormal(0.2, 0.3, 0.05, 10),
        ),
    ],
    [1, () => q('SELECT now() - pg_postmaster_start_time() AS uptime', 'SELECT', r.logNormal(0.1, 0.3, 0.02, 5))],
    [
      0.8,
      () => ({
        sql: "SET statement_timeout = '30s'; SELECT sum(xact_commit + xact_rollback) AS transactions FROM pg_stat_database",
        tags: ['SET', 'SELECT'],
        kind: 'query',
        write: false,
        durationMs: r.logNormal(0.7, 0.4, 0.1, 30),
      }),
    ],
    [0.25, () => missingRelation(t)],
  ];
}

/** Grafana panels against `appdb`, with Grafana's expanded time filter. */
export function dashboardTemplates(r: Rng, _s: WorkloadState, t: number): Template[] {
  const to = new Date(Math.floor(t / 60_000) * 60_000).toISOString().slice(0, 19) + 'Z';
  const from = new Date(Math.floor(t / 60_000) * 60_000 - r.pick([6, 24]) * HOUR_MS).toISOString().slice(0, 19) + 'Z';
  return [
    [
      2,
      () =>
        q(
          `SELECT date_trunc('hour', created_at) AS time, count(*) AS orders, sum(total) AS revenue FROM app.orders WHERE created_at BETWEEN '${from}' AND '${to}' GROUP BY 1 ORDER BY 1`,
          'SELECT',
          r.logNormal(40, 1, 2, 5000),
        ),
    ],
    [1.5, () => q('SELECT status AS metric, count(*) AS value FROM app.orders GROUP BY status ORDER BY status', 'SELECT', r.logNormal(25, 1, 2, 4000))],
    [1, () => q('SELECT region, count(*) AS customers FROM app.customers GROUP BY region ORDER BY region', 'SELECT', r.logNormal(15, 1, 1, 3000))],
    [1, () => q(`SELECT count(*) AS new_customers FROM app.customers WHERE created_at >= '${from}'`, 'SELECT', r.logNormal(10, 1, 1, 3000))],
  ];
}

/** The DBA on the database host: activity checks and maintenance. */
export function adminTemplates(r: Rng, _s: WorkloadState, t: number): Template[] {
  return [
    [
      2,
      () =>
        q("SELECT pid, usename, state, wait_event_type, left(query, 60) AS query FROM pg_stat_activity WHERE datname = 'appdb' AND state <> 'idle'", 'SELECT', r.logNormal(0.9, 0.4, 0.2, 20)),
    ],
    [1.5, () => q("SELECT relname, n_live_tup, n_dead_tup, last_autovacuum FROM pg_stat_user_tables WHERE schemaname = 'app' ORDER BY n_dead_tup DESC", 'SELECT', r.logNormal(1.2, 0.4, 0.2, 20))],
    [1, () => q("SELECT pg_size_pretty(pg_database_size('appdb'))", 'SELECT', r.logNormal(0.4, 0.3, 0.1, 10))],
    [0.7, () => q(`VACUUM (ANALYZE) app.${r.pick(['orders', 'order_items', 'customers'])}`, 'VACUUM', r.logNormal(40, 0.8, 3, 3000), { kind: 'utility', write: false })],
    [0.5, () => q(`ANALYZE app.${r.pick(['products', 'customers'])}`, 'ANALYZE', r.logNormal(15, 0.6, 2, 1000), { kind: 'utility', write: false })],
    [0.3, () => q(`SELECT now() AS checked_at, '${sqlTimestamp(t).slice(0, 16)}' AS note`, 'SELECT', 0.05)],
  ];
}
