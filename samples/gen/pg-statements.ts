/**
 * The statements of the PostgreSQL sample: the schema plan run by `postgres` (the DDL/DCL
 * history of database `appdb`) and the workload templates of the other clients.
 *
 * The plan is written to be replayable: applied in timestamp order to a fresh PostgreSQL 15
 * (the successful statements only), every statement succeeds, and every failed statement
 * fails there with the SQLSTATE the log shows. The workload is kept consistent with it:
 * a template that needs a table, column or role only runs while the plan says it exists.
 */

export type PgKind = 'ddl' | 'dcl' | 'dml' | 'query' | 'session' | 'tcl' | 'utility';

export interface PgFailure {
  code: string;
  message: string;
  detail?: string;
  hint?: string;
  /** 1-based character position PostgreSQL reports for parse/analysis errors. */
  cursor?: number;
  /**
   * When the error strikes: `syntax` before log_statement can see the statement (so style B
   * logs no `statement:` record), `analyze` during parse analysis, `execute` while running.
   */
  phase: 'syntax' | 'analyze' | 'execute';
}

export interface PgStatement {
  sql: string;
  /** Command tag of each statement in `sql` (more than one for multi-statement strings). */
  tags: string[];
  kind: PgKind;
  /** Whether it writes (gets a transaction id). */
  write: boolean;
  /** Extended-protocol parameters; undefined means simple protocol. */
  params?: string[];
  fail?: PgFailure;
  durationMs: number;
  /** For `SET search_path`, the new value, so the session can track it. */
  searchPath?: string;
}

/** A plan statement plus the features it makes available or takes away. */
export interface PlanStatement extends Omit<PgStatement, 'durationMs'> {
  durationMs?: [number, number];
  provides?: string[];
  removes?: string[];
}

export interface PlanPhase {
  /** Start as a fraction of the period; the first phase starts 10 minutes in instead. */
  at: number;
  /** Pause between statements in ms (a person pasting, or psql -f). */
  think: [number, number];
  statements: PlanStatement[];
}

function ddl(sql: string, tag: string, extra: Partial<PlanStatement> = {}): PlanStatement {
  return { sql, tags: [tag], kind: 'ddl', write: true, ...extra };
}

function dcl(sql: string, tag: string, extra: Partial<PlanStatement> = {}): PlanStatement {
  return { sql, tags: [tag], kind: 'dcl', write: true, ...extra };
}

/** 1-based position of `needle` in `sql`, as PostgreSQL reports cursor positions. */
export function cursorAt(sql: string, needle: string): number {
  const i = sql.indexOf(needle);
  if (i < 0) throw new Error(`${needle} not in ${sql}`);
  return i + 1;
}

const CREATE_CUSTOMERS = `CREATE TABLE app.customers (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL UNIQUE,
    name text NOT NULL,
    region text NOT NULL CHECK (region IN ('eu', 'us', 'apac')),
    created_at timestamptz NOT NULL DEFAULT now()
)`;

const CREATE_PRODUCTS = `CREATE TABLE app.products (
    id serial PRIMARY KEY,
    sku text NOT NULL UNIQUE,
    title text NOT NULL,
    price numeric(10,2) NOT NULL CHECK (price >= 0)
)`;

const CREATE_ORDERS = `CREATE TABLE app.orders (
    id bigserial PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES app.customers (id),
    status text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'paid', 'shipped', 'cancelled')),
    total numeric(12,2) NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now()
)`;

const CREATE_ORDER_ITEMS = `CREATE TABLE app.order_items (
    order_id bigint NOT NULL REFERENCES app.orders (id) ON DELETE CASCADE,
    product_id integer NOT NULL REFERENCES app.products (id),
    quantity integer NOT NULL CHECK (quantity > 0),
    unit_price numeric(10,2) NOT NULL,
    PRIMARY KEY (order_id, product_id)
)`;

export const PRODUCTS: readonly [string, string, string][] = [
  ['SKU-1001', 'Espresso beans 1 kg', '18.90'],
  ['SKU-1002', 'Filter coffee 500 g', '9.50'],
  ['SKU-1003', 'Decaf beans 1 kg', '19.90'],
  ['SKU-1004', 'Green tea 100 bags', '7.25'],
  ['SKU-1005', 'Earl Grey 250 g', '8.40'],
  ['SKU-1006', 'Hand grinder', '49.00'],
  ['SKU-1007', 'Moka pot 6 cups', '34.99'],
  ['SKU-1008', 'Milk frother', '29.95'],
  ['SKU-1009', 'Paper filters x100', '3.20'],
  ['SKU-1010', 'Travel mug', '14.50'],
  ['SKU-1011', 'Descaler', '6.75'],
  ['SKU-1012', "Barista's tamper", '22.00'],
];

export const MORE_PRODUCTS: readonly [string, string, string][] = [
  ['SKU-2001', 'Cold brew kit', '27.50'],
  ['SKU-2002', 'Oolong 100 g', '11.90'],
  ['SKU-2003', 'Gooseneck kettle', '59.00'],
  ['SKU-2004', 'Cupping spoon', '8.80'],
];

function productValues(rows: readonly [string, string, string][]): string {
  return rows.map(([sku, title, price]) => `('${sku}', '${title.replace(/'/g, "''")}', ${price})`).join(',\n    ');
}

const CUSTOMER_TOTALS_V1 =
  'CREATE VIEW app.customer_order_totals AS SELECT c.id, c.email, count(o.id) AS orders, coalesce(sum(o.total), 0) AS total FROM app.customers c LEFT JOIN app.orders o ON o.customer_id = c.id GROUP BY c.id, c.email';
const CUSTOMER_TOTALS_V2 =
  'CREATE OR REPLACE VIEW app.customer_order_totals AS SELECT c.id, c.email, count(o.id) AS orders, coalesce(sum(o.total), 0) AS total, c.marketing_opt_in FROM app.customers c LEFT JOIN app.orders o ON o.customer_id = c.id GROUP BY c.id, c.email, c.marketing_opt_in';

const SYNTAX_ERROR_SQL = 'ALTER TABL app.orders ADD COLUMN note text';
const DUPLICATE_TABLE_SQL = 'CREATE TABLE app.products (id serial PRIMARY KEY, sku text NOT NULL)';
const DROP_TYPO_SQL = 'DROP TABLE app.shipment';

/**
 * The DDL/DCL history of appdb, run by `postgres` through psql on the database host.
 * Features: `base` (schema and login users), `orders.shipped_at`, `recent_orders`,
 * `shipments`, `contractor`, `customers.marketing_opt_in`, `more_products`,
 * `products.discontinued`, `orders.note`.
 */
export const PLAN: readonly PlanPhase[] = [
  {
    at: 0,
    think: [40, 400],
    statements: [
      dcl('CREATE ROLE app_readonly NOLOGIN', 'CREATE ROLE'),
      dcl('CREATE ROLE app_readwrite NOLOGIN', 'CREATE ROLE'),
      dcl('CREATE ROLE app_service LOGIN', 'CREATE ROLE'),
      dcl('CREATE ROLE alice LOGIN', 'CREATE ROLE'),
      dcl('CREATE ROLE bob LOGIN', 'CREATE ROLE'),
      dcl('CREATE ROLE report_bot LOGIN CONNECTION LIMIT 10', 'CREATE ROLE'),
      dcl('GRANT app_readwrite TO app_service, alice', 'GRANT ROLE'),
      dcl('GRANT app_readonly TO bob, report_bot', 'GRANT ROLE'),
      ddl('CREATE SCHEMA app', 'CREATE SCHEMA'),
      dcl('REVOKE ALL ON SCHEMA public FROM PUBLIC', 'REVOKE'),
      dcl('GRANT USAGE ON SCHEMA app TO app_readonly, app_readwrite', 'GRANT'),
      dcl('ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT ON TABLES TO app_readonly', 'ALTER DEFAULT PRIVILEGES'),
      dcl(
        'ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO app_readwrite',
        'ALTER DEFAULT PRIVILEGES',
      ),
      dcl('ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT USAGE, SELECT ON SEQUENCES TO app_readwrite', 'ALTER DEFAULT PRIVILEGES'),
      ddl(CREATE_CUSTOMERS, 'CREATE TABLE', { durationMs: [4, 15] }),
      ddl(CREATE_PRODUCTS, 'CREATE TABLE', { durationMs: [4, 15] }),
      ddl(CREATE_ORDERS, 'CREATE TABLE', { durationMs: [4, 15] }),
      ddl(CREATE_ORDER_ITEMS, 'CREATE TABLE', { durationMs: [4, 15] }),
      ddl('CREATE INDEX orders_customer_id_idx ON app.orders (customer_id)', 'CREATE INDEX'),
      ddl('CREATE INDEX orders_created_at_idx ON app.orders (created_at)', 'CREATE INDEX'),
      ddl("COMMENT ON TABLE app.orders IS 'One row per checkout; totals include tax'", 'COMMENT'),
      ddl("COMMENT ON COLUMN app.customers.email IS 'Login e-mail, unique per customer'", 'COMMENT'),
      ddl(CUSTOMER_TOTALS_V1, 'CREATE VIEW'),
      dcl('GRANT SELECT ON app.customer_order_totals TO app_readonly', 'GRANT'),
      {
        sql: `INSERT INTO app.products (sku, title, price) VALUES\n    ${productValues(PRODUCTS)}`,
        tags: ['INSERT'],
        kind: 'dml',
        write: true,
      },
      dcl('GRANT USAGE, SELECT ON SEQUENCE app.products_id_seq TO app_readwrite', 'GRANT', { provides: ['base'] }),
    ],
  },
  {
    at: 0.1,
    think: [4_000, 60_000],
    statements: [
      ddl('ALTER TABLE app.orders ADD COLUMN shipped_at timestamptz', 'ALTER TABLE', { provides: ['orders.shipped_at'] }),
      ddl('CREATE INDEX CONCURRENTLY orders_status_idx ON app.orders (status)', 'CREATE INDEX', { durationMs: [150, 900] }),
      ddl(DUPLICATE_TABLE_SQL, 'CREATE TABLE', {
        fail: { code: '42P07', message: 'relation "products" already exists', phase: 'execute' },
      }),
      ddl(
        "CREATE VIEW app.recent_orders AS SELECT id, customer_id, status, total, created_at FROM app.orders WHERE created_at > now() - interval '7 days'",
        'CREATE VIEW',
      ),
      dcl('GRANT SELECT ON app.recent_orders TO app_readonly, app_readwrite', 'GRANT', { provides: ['recent_orders'] }),
      ddl("COMMENT ON COLUMN app.orders.shipped_at IS 'Set when the parcel leaves the warehouse'", 'COMMENT'),
    ],
  },
  {
    at: 0.3,
    think: [3_000, 40_000],
    statements: [
      { sql: 'SET search_path TO app, public', tags: ['SET'], kind: 'session', write: false, searchPath: 'app, public' },
      ddl(
        'CREATE TABLE shipments (id bigserial PRIMARY KEY, order_id bigint NOT NULL REFERENCES orders (id), tracking_no text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())',
        'CREATE TABLE',
      ),
      ddl('CREATE INDEX shipments_order_id_idx ON shipments (order_id)', 'CREATE INDEX'),
      ddl('ALTER TABLE shipments ADD COLUMN carrier text', 'ALTER TABLE', { provides: ['shipments'] }),
      ddl("COMMENT ON TABLE shipments IS 'Parcels handed to a carrier'", 'COMMENT'),
      {
        sql: "BEGIN; ALTER TABLE orders ADD CONSTRAINT orders_total_nonnegative CHECK (total >= 0); ALTER TABLE customers ALTER COLUMN name SET DEFAULT ''; COMMIT",
        tags: ['BEGIN', 'ALTER TABLE', 'ALTER TABLE', 'COMMIT'],
        kind: 'ddl',
        write: true,
        durationMs: [8, 60],
      },
      dcl('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA app TO app_readwrite', 'GRANT'),
    ],
  },
  {
    at: 0.45,
    think: [3_000, 45_000],
    statements: [
      dcl('CREATE ROLE contractor_dave LOGIN', 'CREATE ROLE'),
      dcl('GRANT app_readonly TO contractor_dave', 'GRANT ROLE', { provides: ['contractor'] }),
      ddl('ALTER TABLE app.customers ADD COLUMN marketing_opt_in boolean NOT NULL DEFAULT false', 'ALTER TABLE'),
      ddl(CUSTOMER_TOTALS_V2, 'CREATE VIEW', { provides: ['customers.marketing_opt_in'] }),
      {
        sql: `INSERT INTO app.products (sku, title, price) VALUES\n    ${productValues(MORE_PRODUCTS)}`,
        tags: ['INSERT'],
        kind: 'dml',
        write: true,
        provides: ['more_products'],
      },
      dcl('REVOKE DELETE ON app.customers FROM app_readwrite', 'REVOKE'),
    ],
  },
  {
    at: 0.6,
    think: [2_000, 30_000],
    statements: [
      ddl('CREATE TABLE app.tmp_import (email text NOT NULL, region text NOT NULL)', 'CREATE TABLE'),
      {
        sql: "INSERT INTO app.tmp_import (email, region) VALUES ('user3@example.com', 'us'), ('user5@example.com', 'apac'), ('user8@example.com', 'eu')",
        tags: ['INSERT'],
        kind: 'dml',
        write: true,
      },
      {
        sql: 'UPDATE app.customers c SET region = t.region FROM app.tmp_import t WHERE t.email = c.email',
        tags: ['UPDATE'],
        kind: 'dml',
        write: true,
      },
      ddl('DROP TABLE app.tmp_import', 'DROP TABLE'),
      ddl(DROP_TYPO_SQL, 'DROP TABLE', {
        fail: { code: '42P01', message: 'table "shipment" does not exist', phase: 'execute' },
      }),
      ddl('CREATE INDEX CONCURRENTLY order_items_product_id_idx ON app.order_items (product_id)', 'CREATE INDEX', {
        durationMs: [150, 900],
      }),
      ddl('ALTER TABLE app.products ADD COLUMN discontinued boolean NOT NULL DEFAULT false', 'ALTER TABLE'),
      dcl('GRANT UPDATE (discontinued) ON app.products TO bob', 'GRANT', { provides: ['products.discontinued'] }),
    ],
  },
  {
    at: 0.8,
    think: [3_000, 50_000],
    statements: [
      dcl('REVOKE app_readonly FROM contractor_dave', 'REVOKE ROLE', { removes: ['contractor'] }),
      dcl('DROP ROLE contractor_dave', 'DROP ROLE'),
      ddl('DROP VIEW app.recent_orders', 'DROP VIEW', { removes: ['recent_orders'] }),
      ddl('DROP INDEX app.orders_created_at_idx', 'DROP INDEX'),
      ddl('CREATE INDEX orders_created_at_brin ON app.orders USING brin (created_at)', 'CREATE INDEX'),
      dcl('ALTER DEFAULT PRIVILEGES IN SCHEMA app REVOKE DELETE ON TABLES FROM app_readwrite', 'ALTER DEFAULT PRIVILEGES'),
      ddl("COMMENT ON VIEW app.customer_order_totals IS 'Lifetime order count and spend per customer'", 'COMMENT'),
      ddl(SYNTAX_ERROR_SQL, 'ALTER TABLE', {
        fail: { code: '42601', message: 'syntax error at or near "TABL"', cursor: cursorAt(SYNTAX_ERROR_SQL, 'TABL'), phase: 'syntax' },
      }),
      ddl('ALTER TABLE app.orders ADD COLUMN note text', 'ALTER TABLE', { provides: ['orders.note'] }),
    ],
  },
  {
    at: 0.93,
    think: [2_000, 20_000],
    statements: [
      ddl('CREATE SCHEMA IF NOT EXISTS archive', 'CREATE SCHEMA'),
      ddl('CREATE TABLE archive.orders_2025 (LIKE app.orders INCLUDING ALL)', 'CREATE TABLE'),
      dcl('REVOKE ALL ON archive.orders_2025 FROM PUBLIC', 'REVOKE'),
      dcl('GRANT USAGE ON SCHEMA archive TO app_readonly', 'GRANT'),
      dcl('GRANT SELECT ON archive.orders_2025 TO app_readonly', 'GRANT'),
    ],
  },
];

/** pgaudit class of a command tag under `pgaudit.log = 'ddl, role'`, or null when not audited. */
export function auditClass(tag: string): 'DDL' | 'ROLE' | null {
  if (/^(GRANT|REVOKE|CREATE ROLE|ALTER ROLE|DROP ROLE|GRANT ROLE|REVOKE ROLE|ALTER DEFAULT PRIVILEGES)$/.test(tag)) {
    return 'ROLE';
  }
  if (/^(CREATE|ALTER|DROP|COMMENT)/.test(tag)) return 'DDL';
  return null;
}
