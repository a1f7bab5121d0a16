/**
 * What Okera users do: a catalog that evolves over the period (databases, tables, views,
 * roles, attributes, partitions) and the queries, metadata calls and DDL/DCL run against
 * it. Timing and file placement live in okera.ts; this module only decides statements.
 */
import type { Rng } from './prng.js';
import { DAY_MS, dayString } from './time.js';

/** Coarse class of a request, used for the summary counts. */
export type OkeraCategory = 'query' | 'multi' | 'explain' | 'dml' | 'metadata' | 'ddl' | 'dcl';

export interface OkeraStatement {
  category: OkeraCategory;
  statementType: 'QUERY' | 'DDL' | 'DML' | 'EXPLAIN';
  user: string;
  connectedUser: string;
  client: string;
  defaultDb: string;
  statement: string;
  sessionId: string | null;
  aeDatabase?: string;
  aeTable?: string;
  aeView?: string;
  aeRole?: string;
  /** null when the request succeeded, else the status text. */
  error: string | null;
  authFailure: boolean;
  durationMs: number;
}

interface Table {
  db: string;
  name: string;
  ddl: string;
  partitioned: boolean;
}

const BUCKET = 's3://acme-datalake';

const TABLES: readonly Table[] = [
  {
    db: 'sales',
    name: 'orders',
    partitioned: true,
    ddl: '(order_id BIGINT, customer_id BIGINT, region STRING, amount DECIMAL(12,2), currency STRING, order_ts TIMESTAMP) PARTITIONED BY (ymd STRING) STORED AS PARQUET',
  },
  {
    db: 'sales',
    name: 'customers',
    partitioned: false,
    ddl: '(customer_id BIGINT, name STRING, email STRING, phone STRING, region STRING, created_at TIMESTAMP) STORED AS PARQUET',
  },
  {
    db: 'sales',
    name: 'products',
    partitioned: false,
    ddl: '(product_id INT, sku STRING, title STRING, category STRING, price DECIMAL(10,2)) STORED AS PARQUET',
  },
  {
    db: 'sales',
    name: 'orders_daily',
    partitioned: true,
    ddl: '(region STRING, orders BIGINT, revenue DECIMAL(16,2)) PARTITIONED BY (ymd STRING) STORED AS PARQUET',
  },
  {
    db: 'marketing',
    name: 'campaigns',
    partitioned: false,
    ddl: '(campaign_id INT, name STRING, channel STRING, budget DECIMAL(12,2), starts_on DATE, ends_on DATE) STORED AS PARQUET',
  },
  {
    db: 'marketing',
    name: 'clicks',
    partitioned: true,
    ddl: "(click_id BIGINT, campaign_id INT, customer_id BIGINT, url STRING, click_ts TIMESTAMP) PARTITIONED BY (ymd STRING) ROW FORMAT DELIMITED FIELDS TERMINATED BY '\\t' STORED AS TEXTFILE",
  },
  {
    db: 'hr',
    name: 'employees',
    partitioned: false,
    ddl: '(employee_id INT, name STRING, email STRING, ssn STRING, department STRING, salary DECIMAL(10,2), hired_on DATE) STORED AS PARQUET',
  },
];

const FINANCE_LEDGER: Table = {
  db: 'finance',
  name: 'ledger',
  partitioned: true,
  ddl: '(entry_id BIGINT, account STRING, amount DECIMAL(14,2), booked_at TIMESTAMP) PARTITIONED BY (ymd STRING) STORED AS PARQUET',
};

function location(t: Table): string {
  return `${BUCKET}/${t.db}/${t.name}/`;
}

function createTable(t: Table, ifNotExists: boolean): string {
  return `CREATE EXTERNAL TABLE ${ifNotExists ? 'IF NOT EXISTS ' : ''}${t.db}.${t.name} ${t.ddl} LOCATION '${location(t)}'`;
}

/** End users by group; the group decides which role (and so which data) they get. */
const ANALYSTS = ['alice', 'bob', 'carol', 'dave'];
const MARKETING = ['erin', 'frank'];
const HR = ['grace'];
const FINANCE = ['heidi'];
const STEWARD = 'ivan';
const REGIONS = ['eu', 'us', 'apac', 'latam'];
const CATEGORIES = ['coffee', 'tea', 'equipment', 'accessories'];
const PROJECTS = ['churn', 'pricing', 'forecast', 'attribution', 'ltv', 'fraud'];
const NEW_CAMPAIGN_COLUMNS = ['utm_source STRING', 'utm_medium STRING', 'owner STRING', 'notes STRING'];

type PlanStep = Omit<OkeraStatement, 'durationMs' | 'sessionId'> & { durationMs?: number };

type FailureKind = 'typo-table' | 'typo-column' | 'denied' | 'syntax' | 'cancelled';

/** Fraction of the period at which the mid-period catalog changes happen. */
const FINANCE_AT = 0.4;
const REBUILD_AT = 0.7;

export class OkeraWorkload {
  /** Scheduled catalog changes, with their start times fixed up front. */
  readonly plan: { at: number; step: PlanStep; opensFinance: boolean }[] = [];
  private financeReady = Number.POSITIVE_INFINITY;
  private readonly grants = new Set<string>();
  private readonly stagingTables: { name: string; createdAt: number }[] = [];
  private readonly scratchViews: string[] = [];
  private readonly projects: { name: string; stage: number }[] = [];
  private projectCounter = 0;
  private campaignColumnsAdded = 0;
  private readonly sessions = new Map<string, string>();

  constructor(
    private readonly rng: Rng,
    periodStart: number,
    periodEnd: number,
  ) {
    const span = periodEnd - periodStart;
    const schedule = (at: number, steps: PlanStep[]): void => {
      // An admin pasting a script into the DDL console: a few seconds between statements.
      let t = at + rng.int(0, 120_000);
      for (const step of steps) {
        this.plan.push({ at: t, step, opensFinance: step.statement.startsWith('GRANT SELECT ON DATABASE finance') });
        t += rng.int(800, 6_000);
      }
    };
    schedule(periodStart + 5 * 60_000, this.setupSteps());
    schedule(periodStart + span * FINANCE_AT, this.financeSteps());
    schedule(periodStart + span * REBUILD_AT, this.rebuildSteps());
    // Each kind of failure also happens once at a fixed time, so small samples hold them all.
    const days = Math.round(span / DAY_MS);
    const incidents: [number, number, FailureKind, string][] = [
      [0, 10.2, 'typo-table', 'alice'],
      [0.3, 14.7, 'syntax', 'bob'],
      [0.55, 11.1, 'denied', 'frank'],
      [0.55, 15.4, 'typo-column', 'carol'],
      [0.8, 16.3, 'cancelled', 'dave'],
    ];
    for (const [fraction, hours, kind, user] of incidents) {
      const at = periodStart + Math.floor(fraction * days) * DAY_MS + hours * 3_600_000 + rng.int(0, 20 * 60_000) + rng.float();
      this.plan.push({ at, step: this.incidentStep(kind, user, at), opensFinance: false });
    }
    this.plan.sort((a, b) => a.at - b.at);
  }

  private incidentStep(kind: FailureKind, user: string, t: number): PlanStep {
    const group = MARKETING.includes(user) ? 'marketing' : 'analysts';
    const d = this.days(t);
    const stmt: OkeraStatement = {
      category: 'query',
      statementType: 'QUERY',
      user,
      connectedUser: 'presto',
      client: 'presto',
      defaultDb: 'default',
      statement: `SELECT region, count(*) AS orders, sum(amount) AS revenue FROM sales.orders WHERE ymd BETWEEN '${d.weekAgo}' AND '${d.yesterday}' GROUP BY region`,
      sessionId: this.session(user, 'presto'),
      ...tbl('sales', 'orders'),
      error: null,
      authFailure: false,
      durationMs: 0,
    };
    this.applyFailure(stmt, kind, group, t, kind === 'typo-table' ? 'sales.ordrs' : undefined);
    return stmt;
  }

  /** The statement of a scheduled request at `t`. */
  planned(entry: { step: PlanStep; opensFinance: boolean }, t: number): OkeraStatement {
    // Finance users show up once their grant exists.
    if (entry.opensFinance) this.financeReady = t + 60_000;
    return this.finish(entry.step, this.rng.logNormal(150, 0.7, 10, 20_000));
  }

  /** The statement of an unscheduled request starting at `t`. */
  next(t: number): OkeraStatement {
    const category = this.rng.weighted<OkeraCategory>([
      ['query', 0.83],
      ['multi', 0.02],
      ['explain', 0.005],
      ['dml', 0.015],
      ['metadata', 0.04],
      ['ddl', 0.06],
      ['dcl', 0.03],
    ]);
    switch (category) {
      case 'query':
        return this.query(t);
      case 'multi':
        return this.multi(t);
      case 'explain':
        return this.explain(t);
      case 'dml':
        return this.dml(t);
      case 'metadata':
        return this.metadata();
      case 'ddl':
        return this.ddl(t);
      case 'dcl':
        return this.dcl();
    }
  }

  private finish(step: PlanStep, durationMs: number): OkeraStatement {
    return { sessionId: null, ...step, durationMs: step.durationMs ?? durationMs };
  }

  private admin(statement: string, category: OkeraCategory, ae: Partial<OkeraStatement> = {}): PlanStep {
    return {
      category,
      statementType: 'DDL',
      user: 'root',
      connectedUser: 'root',
      client: 'okera-execute-ddl',
      defaultDb: 'default',
      statement,
      error: null,
      authFailure: false,
      ...ae,
    };
  }

  private setupSteps(): PlanStep[] {
    const s: PlanStep[] = [
      this.admin('CREATE ROLE IF NOT EXISTS okera_public_role', 'dcl', { aeRole: 'okera_public_role' }),
    ];
    for (const db of ['sales', 'marketing', 'hr', 'staging', 'scratch']) {
      s.push(this.admin(`CREATE DATABASE IF NOT EXISTS ${db}`, 'ddl', { aeDatabase: db }));
    }
    for (const attr of ['pii.email', 'pii.phone', 'pii.ssn']) {
      s.push(this.admin(`CREATE ATTRIBUTE IF NOT EXISTS ${attr}`, 'ddl'));
    }
    for (const t of TABLES) {
      s.push(this.admin(createTable(t, true), 'ddl', { aeDatabase: t.db, aeTable: t.name }));
    }
    s.push(
      this.admin(createTable({ ...TABLES[1]!, name: 'customers_legacy' }, true), 'ddl', {
        aeDatabase: 'sales',
        aeTable: 'customers_legacy',
      }),
      this.admin(
        "CREATE VIEW IF NOT EXISTS sales.orders_eu AS SELECT order_id, customer_id, amount, order_ts, ymd FROM sales.orders WHERE region = 'eu'",
        'ddl',
        { aeDatabase: 'sales', aeView: 'orders_eu' },
      ),
      this.admin(
        'CREATE VIEW IF NOT EXISTS marketing.campaign_summary AS SELECT c.campaign_id, c.name, count(k.click_id) AS clicks FROM marketing.campaigns c LEFT JOIN marketing.clicks k ON k.campaign_id = c.campaign_id GROUP BY c.campaign_id, c.name',
        'ddl',
        { aeDatabase: 'marketing', aeView: 'campaign_summary' },
      ),
      this.admin('ALTER TABLE sales.customers ADD COLUMN ATTRIBUTE email pii.email', 'ddl', tbl('sales', 'customers')),
      this.admin('ALTER TABLE sales.customers ADD COLUMN ATTRIBUTE phone pii.phone', 'ddl', tbl('sales', 'customers')),
      this.admin('ALTER TABLE hr.employees ADD COLUMN ATTRIBUTE email pii.email', 'ddl', tbl('hr', 'employees')),
      this.admin('ALTER TABLE hr.employees ADD COLUMN ATTRIBUTE ssn pii.ssn', 'ddl', tbl('hr', 'employees')),
    );
    const roles: [string, string, string[]][] = [
      ['analyst_role', 'analysts', ['GRANT SELECT ON DATABASE sales HAVING ATTRIBUTE NOT IN (pii.email, pii.phone) TO ROLE analyst_role']],
      ['marketing_role', 'marketing', ['GRANT SELECT ON DATABASE marketing TO ROLE marketing_role', 'GRANT SELECT ON TABLE sales.orders TO ROLE marketing_role']],
      ['hr_role', 'hr', ['GRANT SELECT ON DATABASE hr TO ROLE hr_role']],
      ['pii_reader_role', 'pii_readers', ['GRANT SELECT ON DATABASE sales HAVING ATTRIBUTE IN (pii.email) TO ROLE pii_reader_role']],
      ['etl_role', 'etl', ['GRANT ALL ON SERVER TO ROLE etl_role']],
    ];
    for (const [role, group, grants] of roles) {
      s.push(this.admin(`CREATE ROLE ${role}`, 'dcl', { aeRole: role }));
      s.push(this.admin(`GRANT ROLE ${role} TO GROUP ${group}`, 'dcl', { aeRole: role }));
      for (const g of grants) s.push(this.admin(g, 'dcl', { aeRole: role, ...grantTarget(g) }));
    }
    s.push(
      this.admin('GRANT SELECT ON DATABASE scratch TO ROLE analyst_role', 'dcl', { aeRole: 'analyst_role', aeDatabase: 'scratch' }),
      this.admin('GRANT ALL ON DATABASE scratch TO ROLE analyst_role', 'dcl', { aeRole: 'analyst_role', aeDatabase: 'scratch' }),
    );
    return s;
  }

  private financeSteps(): PlanStep[] {
    const t = FINANCE_LEDGER;
    return [
      {
        ...this.admin('CREATE DATABASE sales', 'ddl', { aeDatabase: 'sales' }),
        error: 'AnalysisException: Database already exists: sales',
        durationMs: 14,
      },
      this.admin('CREATE DATABASE finance', 'ddl', { aeDatabase: 'finance' }),
      this.admin('CREATE ATTRIBUTE finance.confidential', 'ddl'),
      this.admin(createTable(t, false), 'ddl', { aeDatabase: 'finance', aeTable: 'ledger' }),
      this.admin('ALTER TABLE finance.ledger ADD COLUMN ATTRIBUTE amount finance.confidential', 'ddl', tbl('finance', 'ledger')),
      this.admin(
        'CREATE VIEW finance.ledger_daily AS SELECT ymd, account, sum(amount) AS total FROM finance.ledger GROUP BY ymd, account',
        'ddl',
        { aeDatabase: 'finance', aeView: 'ledger_daily' },
      ),
      this.admin('CREATE ROLE finance_role', 'dcl', { aeRole: 'finance_role' }),
      this.admin('GRANT ROLE finance_role TO GROUP finance', 'dcl', { aeRole: 'finance_role' }),
      this.admin('GRANT SELECT ON DATABASE finance TO ROLE finance_role', 'dcl', { aeRole: 'finance_role', aeDatabase: 'finance' }),
    ];
  }

  private rebuildSteps(): PlanStep[] {
    return [
      this.admin('DROP TABLE IF EXISTS sales.customers_legacy', 'ddl', tbl('sales', 'customers_legacy')),
      this.admin('DROP VIEW IF EXISTS marketing.campaign_summary', 'ddl', { aeDatabase: 'marketing', aeView: 'campaign_summary' }),
      this.admin(
        "CREATE VIEW marketing.campaign_summary AS SELECT c.campaign_id, c.name, c.channel, count(k.click_id) AS clicks FROM marketing.campaigns c LEFT JOIN marketing.clicks k ON k.campaign_id = c.campaign_id WHERE k.ymd >= '2026-01-01' GROUP BY c.campaign_id, c.name, c.channel",
        'ddl',
        { aeDatabase: 'marketing', aeView: 'campaign_summary' },
      ),
      this.admin('REVOKE SELECT ON TABLE sales.orders FROM ROLE marketing_role', 'dcl', {
        aeRole: 'marketing_role',
        ...tbl('sales', 'orders'),
      }),
      this.admin('GRANT SELECT ON VIEW sales.orders_eu TO ROLE marketing_role', 'dcl', {
        aeRole: 'marketing_role',
        aeDatabase: 'sales',
        aeView: 'orders_eu',
      }),
    ];
  }

  /** A user with a current Presto/Spark session; sessions roll over now and then. */
  private session(user: string, client: string): string {
    const key = `${user}/${client}`;
    let id = this.sessions.get(key);
    if (id === undefined || this.rng.chance(0.04)) {
      id = `${this.rng.hex(8)}-${this.rng.hex(4)}-4${this.rng.hex(3)}-${this.rng.pick(['8', '9', 'a', 'b'])}${this.rng.hex(3)}-${this.rng.hex(12)}`;
      this.sessions.set(key, id);
    }
    return id;
  }

  private reader(t: number): { user: string; group: 'analysts' | 'marketing' | 'hr' | 'finance' } {
    const group = this.rng.weighted<'analysts' | 'marketing' | 'hr' | 'finance'>([
      ['analysts', 0.6],
      ['marketing', 0.25],
      ['hr', 0.07],
      ['finance', t >= this.financeReady ? 0.08 : 0],
    ]);
    const users = { analysts: ANALYSTS, marketing: MARKETING, hr: HR, finance: FINANCE }[group];
    return { user: this.rng.pick(users), group };
  }

  private days(t: number): { today: string; yesterday: string; weekAgo: string } {
    return { today: dayString(t), yesterday: dayString(t - DAY_MS), weekAgo: dayString(t - 7 * DAY_MS) };
  }

  private query(t: number): OkeraStatement {
    const { user, group } = this.reader(t);
    const client = this.rng.weighted([
      ['presto', 0.65],
      ['okera-spark', 0.2],
      ['okera-hive', 0.15],
    ]);
    const connectedUser = { presto: 'presto', 'okera-spark': 'spark', 'okera-hive': 'hive' }[client] ?? client;
    const base: Omit<OkeraStatement, 'statement'> = {
      category: 'query',
      statementType: 'QUERY',
      user,
      connectedUser,
      client,
      defaultDb: 'default',
      sessionId: client === 'okera-hive' && this.rng.chance(0.5) ? null : this.session(user, client),
      error: null,
      authFailure: false,
      durationMs: this.rng.logNormal(900, 1.3, 15, 20 * 60_000),
    };
    const r = this.rng;
    const d = this.days(t);
    const templates: [() => Partial<OkeraStatement> & { statement: string }, number][] = [];
    const add = (w: number, f: () => Partial<OkeraStatement> & { statement: string }): void => {
      templates.push([f, w]);
    };
    if (group === 'analysts' || group === 'marketing') {
      add(3, () => ({
        statement: `SELECT order_id, customer_id, amount FROM sales.orders WHERE order_id = ${r.int(1, 9_999_999)} AND region IN (${quoteList(r, REGIONS)})`,
        ...tbl('sales', 'orders'),
      }));
      add(3, () => ({
        statement: `SELECT region, count(*) AS orders, sum(amount) AS revenue FROM sales.orders WHERE ymd = '${d.yesterday}' GROUP BY region`,
        ...tbl('sales', 'orders'),
      }));
      add(2, () => ({
        statement: `SELECT "order_id", "amount" FROM "sales"."orders" WHERE "ymd" = '${d.today}' AND "amount" >= ${r.int(10, 900)}.${r.int(10, 99)} LIMIT ${r.pick([100, 500, 1000])}`,
        ...tbl('sales', 'orders'),
      }));
      add(1, () => ({
        statement: `SELECT * FROM sales.orders_eu WHERE order_ts >= '${d.yesterday} ${pad2(r.int(0, 23))}:00:00' LIMIT 1000`,
        aeDatabase: 'sales',
        aeView: 'orders_eu',
      }));
      add(1.5, () => ({
        statement: `SELECT sku, title, price FROM sales.products WHERE category = '${r.pick(CATEGORIES)}' AND price < ${r.int(5, 300)}`,
        ...tbl('sales', 'products'),
      }));
    }
    if (group === 'analysts') {
      add(2, () => ({
        statement: `SELECT * FROM sales.customers WHERE customer_id = ${r.int(1, 250_000)} LIMIT 10`,
        ...tbl('sales', 'customers'),
      }));
      add(1.5, () => ({
        statement: `SELECT c.name, o.order_id, o.amount\nFROM sales.orders o\nJOIN sales.customers c ON o.customer_id = c.customer_id\nWHERE o.ymd BETWEEN '${d.weekAgo}' AND '${d.yesterday}' AND o.amount > ${r.int(100, 5000)}.00\nORDER BY o.amount DESC\nLIMIT 100`,
        ...tbl('sales', 'orders'),
      }));
      // Email carries pii.email, which analyst_role's grant excludes: Okera hides the column.
      add(0.12, () => ({
        statement: `SELECT customer_id, email FROM sales.customers WHERE region = '${r.pick(REGIONS)}' LIMIT 50`,
        ...tbl('sales', 'customers'),
        error: "AnalysisException: Could not resolve column/field reference: 'email'",
      }));
    }
    if (group === 'marketing') {
      add(3, () => ({
        statement: `SELECT campaign_id, count(*) AS clicks FROM marketing.clicks WHERE ymd = '${r.pick([d.today, d.yesterday])}' AND campaign_id IN (${intList(r, 1, 400)}) GROUP BY campaign_id`,
        ...tbl('marketing', 'clicks'),
      }));
      add(2, () => ({
        statement: `SELECT name, channel, budget FROM marketing.campaigns WHERE starts_on >= DATE '${d.weekAgo}' ORDER BY budget DESC`,
        ...tbl('marketing', 'campaigns'),
      }));
      add(1, () => ({
        statement: `SELECT * FROM marketing.campaign_summary WHERE clicks > ${r.int(10, 5000)}`,
        aeDatabase: 'marketing',
        aeView: 'campaign_summary',
      }));
    }
    if (group === 'hr') {
      add(2, () => ({
        statement: 'SELECT department, avg(salary) AS avg_salary, count(*) AS headcount FROM hr.employees GROUP BY department',
        ...tbl('hr', 'employees'),
      }));
      add(1, () => ({
        statement: `SELECT name, email, department FROM hr.employees WHERE employee_id = ${r.int(1000, 4999)}`,
        ...tbl('hr', 'employees'),
      }));
    }
    if (group === 'finance') {
      add(2, () => ({
        statement: `SELECT account, sum(amount) AS total FROM finance.ledger WHERE ymd = '${d.yesterday}' GROUP BY account`,
        ...tbl('finance', 'ledger'),
      }));
      add(1, () => ({
        statement: `SELECT * FROM finance.ledger_daily WHERE account LIKE '${r.int(1, 9)}%' AND ymd >= '${d.weekAgo}'`,
        aeDatabase: 'finance',
        aeView: 'ledger_daily',
      }));
    }
    const picked = r.weighted(templates)();
    const stmt: OkeraStatement = { ...base, ...picked };
    if (stmt.error === null) this.maybeFail(stmt, group, t);
    return stmt;
  }

  /** Turns ~3% of queries into the failures people really produce. */
  private maybeFail(stmt: OkeraStatement, group: string, t: number): void {
    const r = this.rng;
    const kind = r.weighted<FailureKind | 'none'>([
      ['none', 0.97],
      ['typo-table', 0.009],
      ['typo-column', 0.006],
      ['denied', 0.009],
      ['syntax', 0.003],
      ['cancelled', 0.003],
    ]);
    if (kind !== 'none') this.applyFailure(stmt, kind, group, t);
  }

  private applyFailure(stmt: OkeraStatement, kind: FailureKind, group: string, t: number, table?: string): void {
    const r = this.rng;
    switch (kind) {
      case 'typo-table': {
        const typo = table ?? r.pick(['sales.ordrs', 'sales.order', 'sales.custmers', 'marketing.click', 'sales.orders_us']);
        stmt.statement = `SELECT count(*) FROM ${typo} WHERE ymd = '${dayString(t)}'`;
        stmt.error = `AnalysisException: Could not resolve table reference: '${typo}'`;
        delete stmt.aeDatabase;
        delete stmt.aeTable;
        delete stmt.aeView;
        break;
      }
      case 'typo-column':
        stmt.statement = `SELECT order_id, amout FROM sales.orders WHERE ymd = '${dayString(t)}' LIMIT ${r.pick([10, 100])}`;
        stmt.error = "AnalysisException: Could not resolve column/field reference: 'amout'";
        Object.assign(stmt, tbl('sales', 'orders'));
        break;
      case 'denied': {
        const target = group === 'hr' ? 'sales.customers' : 'hr.employees';
        stmt.statement = `SELECT * FROM ${target} LIMIT 100`;
        stmt.error = `AuthorizationException: User '${stmt.user}' does not have privileges to execute 'SELECT' on: ${target}`;
        stmt.authFailure = true;
        const [db, table] = target.split('.') as [string, string];
        Object.assign(stmt, tbl(db, table));
        delete stmt.aeView;
        break;
      }
      case 'syntax':
        stmt.statement = `SELEC order_id FROM sales.orders WHERE ymd = '${dayString(t)}'`;
        stmt.error =
          "AnalysisException: Syntax error in line 1:\nSELEC order_id FROM sales.orders WHERE ymd = '" +
          dayString(t) +
          "'\n^\nEncountered: IDENTIFIER\nExpected: ALTER, COMPUTE, CREATE, DELETE, DESCRIBE, DROP, EXPLAIN, GRANT, INSERT, LOAD, REFRESH, REVOKE, SELECT, SET, SHOW, TRUNCATE, UPDATE, UPSERT, USE, VALUES, WITH\n\nCAUSED BY: Exception: Syntax error";
        delete stmt.aeDatabase;
        delete stmt.aeTable;
        delete stmt.aeView;
        break;
      case 'cancelled':
        stmt.error = 'Cancelled';
        stmt.durationMs = r.logNormal(90_000, 0.8, 5_000, 30 * 60_000);
        return;
    }
    stmt.durationMs = r.logNormal(25, 0.5, 3, 400);
  }

  private multi(t: number): OkeraStatement {
    const r = this.rng;
    const user = r.pick(ANALYSTS);
    const pickOne = r.weighted<[string, string]>([
      [['sales', 'SELECT count(*) FROM orders'], 2],
      [['sales', `SELECT region, sum(amount) FROM orders WHERE ymd = '${dayString(t - DAY_MS)}' GROUP BY region`], 2],
      [['sales', `SELECT * FROM products WHERE product_id = ${r.int(1, 800)}`], 1],
      [['marketing', `SELECT * FROM campaigns WHERE campaign_id = ${r.int(1, 400)}`], 1],
    ]);
    const [db, query] = pickOne;
    const table = /FROM (\w+)/.exec(query)?.[1] ?? '';
    return {
      category: 'multi',
      statementType: 'QUERY',
      user,
      connectedUser: 'presto',
      client: 'presto',
      defaultDb: 'default',
      statement: `USE ${db}; ${query}`,
      sessionId: this.session(user, 'presto'),
      aeDatabase: db,
      aeTable: table,
      error: null,
      authFailure: false,
      durationMs: r.logNormal(700, 1.1, 20, 600_000),
    };
  }

  private explain(t: number): OkeraStatement {
    const user = this.rng.pick(ANALYSTS);
    return {
      category: 'explain',
      statementType: 'EXPLAIN',
      user,
      connectedUser: 'presto',
      client: 'presto',
      defaultDb: 'default',
      statement: `EXPLAIN SELECT region, sum(amount) FROM sales.orders WHERE ymd = '${dayString(t)}' GROUP BY region`,
      sessionId: this.session(user, 'presto'),
      ...tbl('sales', 'orders'),
      error: null,
      authFailure: false,
      durationMs: this.rng.logNormal(60, 0.5, 5, 2000),
    };
  }

  private dml(t: number): OkeraStatement {
    const day = dayString(t - DAY_MS);
    return {
      category: 'dml',
      statementType: 'DML',
      user: 'etl',
      connectedUser: 'hive',
      client: 'okera-hive',
      defaultDb: 'default',
      statement: `INSERT INTO sales.orders_daily PARTITION (ymd='${day}') SELECT region, count(*), sum(amount) FROM sales.orders WHERE ymd = '${day}' GROUP BY region`,
      sessionId: null,
      ...tbl('sales', 'orders_daily'),
      error: null,
      authFailure: false,
      durationMs: this.rng.logNormal(25_000, 0.7, 2_000, 30 * 60_000),
    };
  }

  private metadata(): OkeraStatement {
    const r = this.rng;
    const t = r.pick(TABLES);
    const user = r.pick([...ANALYSTS, ...MARKETING, STEWARD]);
    const options: [string, Partial<OkeraStatement>][] = [
      ['SHOW DATABASES', {}],
      [`SHOW TABLES IN ${t.db}`, { aeDatabase: t.db }],
      [`DESCRIBE ${t.db}.${t.name}`, tbl(t.db, t.name)],
      [`DESCRIBE FORMATTED ${t.db}.${t.name}`, tbl(t.db, t.name)],
      ['SHOW PARTITIONS sales.orders', tbl('sales', 'orders')],
      ['SHOW ROLES', {}],
      [`SHOW GRANT ROLE ${r.pick(['analyst_role', 'marketing_role', 'hr_role'])}`, {}],
      [`USE ${t.db}`, { aeDatabase: t.db }],
    ];
    const [statement, ae] = r.pick(options);
    return {
      category: 'metadata',
      statementType: 'DDL',
      user,
      connectedUser: user,
      client: 'okera-execute-ddl',
      defaultDb: 'default',
      statement,
      sessionId: null,
      ...ae,
      error: null,
      authFailure: false,
      durationMs: r.logNormal(35, 0.6, 3, 2000),
    };
  }

  private ddl(t: number): OkeraStatement {
    const r = this.rng;
    const kind = r.weighted([
      ['partition', 0.5],
      ['staging', 0.2],
      ['view', 0.15],
      ['tag', 0.07],
      ['columns', 0.08],
    ]);
    const steward = (statement: string, ae: Partial<OkeraStatement>): OkeraStatement =>
      this.stewardStatement('ddl', statement, ae, r.logNormal(140, 0.7, 8, 20_000));
    if (kind === 'partition' || (kind === 'columns' && this.campaignColumnsAdded >= NEW_CAMPAIGN_COLUMNS.length)) {
      const candidates = TABLES.filter((x) => x.partitioned);
      if (t >= this.financeReady) candidates.push(FINANCE_LEDGER);
      const table = r.pick(candidates);
      const day = dayString(t + r.pick([0, 0, DAY_MS]));
      return {
        ...steward(
          `ALTER TABLE ${table.db}.${table.name} ADD IF NOT EXISTS PARTITION (ymd='${day}') LOCATION '${location(table)}ymd=${day}/'`,
          tbl(table.db, table.name),
        ),
        user: 'etl',
        connectedUser: 'hive',
        client: 'okera-hive',
      };
    }
    if (kind === 'staging') {
      const oldest = this.stagingTables[0];
      if (oldest !== undefined && (this.stagingTables.length >= 4 || t - oldest.createdAt > 6 * 3_600_000)) {
        this.stagingTables.shift();
        return steward(`DROP TABLE IF EXISTS staging.${oldest.name}`, tbl('staging', oldest.name));
      }
      const stamp = new Date(t).toISOString().slice(0, 13).replace(/[-T]/g, '');
      const name = `orders_import_${stamp}_${r.hex(4)}`;
      const existing = this.stagingTables.at(-1);
      if (existing !== undefined && r.chance(0.08)) {
        // A retried import job recreating the table it already made.
        return {
          ...steward(
            `CREATE EXTERNAL TABLE staging.${existing.name} ${TABLES[0]!.ddl} LOCATION '${BUCKET}/staging/${existing.name}/'`,
            tbl('staging', existing.name),
          ),
          error: `AnalysisException: Table already exists: staging.${existing.name}`,
          durationMs: r.logNormal(20, 0.4, 3, 300),
        };
      }
      this.stagingTables.push({ name, createdAt: t });
      return steward(
        `CREATE EXTERNAL TABLE staging.${name} ${TABLES[0]!.ddl} LOCATION '${BUCKET}/staging/${name}/'`,
        tbl('staging', name),
      );
    }
    if (kind === 'view') {
      if (this.scratchViews.length >= 5 || (this.scratchViews.length > 0 && r.chance(0.4))) {
        const name = this.scratchViews.shift()!;
        return steward(`DROP VIEW IF EXISTS scratch.${name}`, { aeDatabase: 'scratch', aeView: name });
      }
      const owner = r.pick(ANALYSTS);
      const region = r.pick(REGIONS);
      const name = `${owner}_${region}_orders_${r.int(1, 99)}`;
      this.scratchViews.push(name);
      return {
        ...steward(
          `CREATE VIEW scratch.${name} AS SELECT order_id, customer_id, amount, ymd FROM sales.orders WHERE region = '${region}' AND amount > ${r.int(0, 500)}`,
          { aeDatabase: 'scratch', aeView: name },
        ),
        user: owner,
        connectedUser: owner,
      };
    }
    if (kind === 'tag') {
      const [table, column, attr] = r.pick([
        ['sales.customers', 'email', 'pii.email'],
        ['sales.customers', 'phone', 'pii.phone'],
        ['hr.employees', 'ssn', 'pii.ssn'],
        ['marketing.clicks', 'customer_id', 'pii.email'],
      ] as const);
      const [db, name] = table.split('.') as [string, string];
      return steward(`ALTER TABLE ${table} ADD COLUMN ATTRIBUTE ${column} ${attr}`, tbl(db, name));
    }
    const column = NEW_CAMPAIGN_COLUMNS[this.campaignColumnsAdded++]!;
    return steward(`ALTER TABLE marketing.campaigns ADD COLUMNS (${column})`, tbl('marketing', 'campaigns'));
  }

  /** A catalog change made by the data steward through okera-execute-ddl. */
  private stewardStatement(category: 'ddl' | 'dcl', statement: string, ae: Partial<OkeraStatement>, durationMs: number): OkeraStatement {
    return {
      category,
      statementType: 'DDL',
      user: STEWARD,
      connectedUser: STEWARD,
      client: 'okera-execute-ddl',
      defaultDb: 'default',
      statement,
      sessionId: null,
      ...ae,
      error: null,
      authFailure: false,
      durationMs,
    };
  }

  private dcl(): OkeraStatement {
    const r = this.rng;
    const dcl = (statement: string, ae: Partial<OkeraStatement>): OkeraStatement =>
      this.stewardStatement('dcl', statement, ae, r.logNormal(90, 0.6, 5, 10_000));
    if (r.chance(0.35)) {
      // Project roles go through a lifecycle: create, bind to a group, grant, drop.
      const open = this.projects.find((p) => p.stage < 3 && r.chance(0.6));
      if (open === undefined || (this.projects.length < 3 && r.chance(0.3))) {
        const name = `project_${r.pick(PROJECTS)}_${++this.projectCounter}_role`;
        this.projects.push({ name, stage: 0 });
        return dcl(`CREATE ROLE ${name}`, { aeRole: name });
      }
      open.stage++;
      const group = open.name.replace(/_role$/, '');
      if (open.stage === 1) return dcl(`GRANT ROLE ${open.name} TO GROUP ${group}`, { aeRole: open.name });
      if (open.stage === 2) {
        return dcl(`GRANT SELECT ON DATABASE sales HAVING ATTRIBUTE NOT IN (pii.email, pii.phone) TO ROLE ${open.name}`, {
          aeRole: open.name,
          aeDatabase: 'sales',
        });
      }
      this.projects.splice(this.projects.indexOf(open), 1);
      return dcl(`DROP ROLE ${open.name}`, { aeRole: open.name });
    }
    if (r.chance(0.05)) {
      return {
        ...dcl('GRANT SELECT ON TABLE sales.products TO ROLE analyst_rol', { aeRole: 'analyst_rol', ...tbl('sales', 'products') }),
        error: "AnalysisException: Role 'analyst_rol' does not exist.",
        durationMs: r.logNormal(12, 0.4, 2, 200),
      };
    }
    const role = r.pick(['analyst_role', 'marketing_role', 'pii_reader_role', 'hr_role']);
    if (r.chance(0.2)) {
      const attr = r.pick(['pii.email', 'pii.phone']);
      const key = `attr:${role}:${attr}`;
      const granted = this.grants.has(key);
      if (granted) this.grants.delete(key);
      else this.grants.add(key);
      return dcl(
        granted
          ? `REVOKE SELECT ON DATABASE sales HAVING ATTRIBUTE IN (${attr}) FROM ROLE ${role}`
          : `GRANT SELECT ON DATABASE sales HAVING ATTRIBUTE IN (${attr}) TO ROLE ${role}`,
        { aeRole: role, aeDatabase: 'sales' },
      );
    }
    const table = r.pick(TABLES);
    const key = `${role}:${table.db}.${table.name}`;
    const granted = this.grants.has(key);
    if (granted) this.grants.delete(key);
    else this.grants.add(key);
    return dcl(
      granted
        ? `REVOKE SELECT ON TABLE ${table.db}.${table.name} FROM ROLE ${role}`
        : `GRANT SELECT ON TABLE ${table.db}.${table.name} TO ROLE ${role}`,
      { aeRole: role, ...tbl(table.db, table.name) },
    );
  }
}

function tbl(db: string, table: string): Pick<OkeraStatement, 'aeDatabase' | 'aeTable'> {
  return { aeDatabase: db, aeTable: table };
}

function grantTarget(grant: string): Partial<OkeraStatement> {
  const onTable = /ON TABLE (\w+)\.(\w+)/.exec(grant);
  if (onTable) return tbl(onTable[1]!, onTable[2]!);
  const onDb = /ON DATABASE (\w+)/.exec(grant);
  return onDb ? { aeDatabase: onDb[1]! } : {};
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

function quoteList(r: Rng, values: readonly string[]): string {
  const picked = values.filter(() => r.chance(0.5));
  const list = picked.length > 0 ? picked : [r.pick(values)];
  return list.map((v) => `'${v}'`).join(',');
}

function intList(r: Rng, lo: number, hi: number): string {
  const n = r.int(1, 5);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(r.int(lo, hi));
  return out.join(', ');
}
