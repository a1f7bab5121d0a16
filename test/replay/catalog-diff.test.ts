import { describe, expect, it } from 'vitest';
import { parseNameMap, type NameMaps } from '../../src/replay/name-map.js';
import { diffCatalogs, formatDrift, quoteIdent, type Drift } from '../../src/replay/verify/catalog-diff.js';
import type { CatalogSnapshot, DatabaseSnapshot, RoleSnapshot } from '../../src/replay/verify/catalog-snapshot.js';

function role(name: string, extra: Partial<RoleSnapshot> = {}): RoleSnapshot {
  return {
    name,
    superuser: false,
    inherit: true,
    createRole: false,
    createDb: false,
    canLogin: true,
    replication: false,
    bypassRls: false,
    connectionLimit: -1,
    validUntil: null,
    config: [],
    comment: null,
    ...extra,
  };
}

/** A small but complete database: schema `schema` owned by `owner`, one table with a serial id, a view, an index, grants. */
function database(name: string, schema: string, owner: string, extra: Partial<DatabaseSnapshot> = {}): DatabaseSnapshot {
  const col = (column: string, position: number, type: string, def: string | null) => ({
    schema,
    table: 'orders',
    name: column,
    position,
    type,
    default: def,
    notNull: column === 'id',
    identity: '',
    generated: '',
    collation: null,
    comment: null,
  });
  return {
    name,
    owner,
    comment: null,
    schemas: [{ name: schema, owner, comment: 'sales data' }],
    relations: [
      { schema, name: 'orders', kind: 'table', owner, persistence: 'permanent', rowSecurity: false, definition: null, comment: null },
      { schema, name: 'orders_id_seq', kind: 'sequence', owner, persistence: 'permanent', rowSecurity: false, definition: null, comment: null },
      { schema, name: 'big', kind: 'view', owner, persistence: 'permanent', rowSecurity: false, definition: ` SELECT id, total\n   FROM ${schema}.orders\n  WHERE total > 100;`, comment: null },
    ],
    columns: [col('id', 1, 'integer', `nextval('${schema}.orders_id_seq'::regclass)`), col('total', 2, 'numeric(10,2)', '0')],
    indexes: [{ schema, table: 'orders', name: 'orders_pkey', definition: `CREATE UNIQUE INDEX orders_pkey ON ${schema}.orders USING btree (id)`, valid: true, comment: null }],
    constraints: [{ schema, table: 'orders', name: 'orders_pkey', type: 'primary key', definition: 'PRIMARY KEY (id)', validated: true, comment: null }],
    sequences: [{ schema, name: 'orders_id_seq', type: 'integer', start: '1', increment: '1', min: '1', max: '2147483647', cache: '1', cycle: false, ownedBy: `${schema}.orders.id` }],
    functions: [],
    extensions: [{ name: 'plpgsql', version: '1.0', schema: 'pg_catalog' }],
    privileges: [
      { objectType: 'table', schema, name: 'orders', grantee: owner, privilege: 'SELECT', grantable: false, grantor: owner },
      { objectType: 'table', schema, name: 'orders', grantee: 'readers', privilege: 'SELECT', grantable: false, grantor: owner },
      { objectType: 'column', schema, name: 'orders', column: 'total', grantee: 'readers', privilege: 'UPDATE', grantable: false, grantor: owner },
      { objectType: 'schema', schema: null, name: schema, grantee: 'readers', privilege: 'USAGE', grantable: false, grantor: owner },
    ],
    defaultPrivileges: [{ role: owner, schema, objectType: 'tables', grantee: 'readers', privilege: 'SELECT', grantable: false }],
    ...extra,
  };
}

function snapshot(db: DatabaseSnapshot, owner: string, extra: Partial<CatalogSnapshot> = {}): CatalogSnapshot {
  return {
    serverVersion: '15.18',
    singleDatabase: false,
    roles: [role('postgres', { superuser: true }), role(owner, { config: ['work_mem=8MB', 'search_path=sales'] }), role('readers', { canLogin: false })],
    memberships: [{ role: 'readers', member: owner, admin: false }],
    databases: [db],
    ...extra,
  };
}

const maps = (schema: string[], role: string[], db: string[]): NameMaps => ({
  schema: parseNameMap(schema, '--map-schema'),
  role: parseNameMap(role, '--map-role'),
  database: parseNameMap(db, '--map-database'),
});

/** The same snapshot with every list, and every list inside, in reverse order. */
function reversed(snap: CatalogSnapshot): CatalogSnapshot {
  const copy = structuredClone(snap);
  copy.roles.reverse();
  for (const r of copy.roles) r.config.reverse();
  copy.memberships.reverse();
  copy.databases.reverse();
  for (const d of copy.databases) {
    for (const list of [d.schemas, d.relations, d.columns, d.indexes, d.constraints, d.sequences, d.functions, d.extensions, d.privileges, d.defaultPrivileges]) list.reverse();
  }
  return copy;
}

describe('diffCatalogs', () => {
  it('finds no drift between a snapshot and a copy with every list in another order', () => {
    const a = snapshot(database('appdb', 'sales', 'alice'), 'alice');
    expect(diffCatalogs(a, reversed(a))).toEqual([]);
  });

  it('maps the primary schema, role and database names, inside definitions too, before comparing', () => {
    const primary = snapshot(database('appdb', 'sales', 'alice'), 'alice');
    const secondary = snapshot(database('copydb', 'archive', 'bob'), 'bob');
    expect(diffCatalogs(primary, secondary, { maps: maps(['sales=archive'], ['alice=bob'], ['appdb=copydb']) })).toEqual([]);

    const unmapped = diffCatalogs(primary, secondary);
    expect(unmapped).toContainEqual({ change: 'missing', objectType: 'database', name: 'appdb', database: null });
    expect(unmapped).toContainEqual({ change: 'extra', objectType: 'database', name: 'copydb', database: null });
    expect(unmapped).toContainEqual({ change: 'missing', objectType: 'role', name: 'alice', database: null });
  });

  it('reports a schema that only the schema map is missing as missing and extra, with definitions that differ elsewhere', () => {
    const primary = snapshot(database('appdb', 'sales', 'alice'), 'alice');
    const secondary = snapshot(database('appdb', 'archive', 'alice'), 'alice');
    const drift = diffCatalogs(primary, secondary);
    // Everything in the schema hangs off it: one line each way, not one per table, column and grant.
    expect(drift).toEqual([
      { change: 'missing', objectType: 'schema', name: 'sales', database: 'appdb' },
      { change: 'extra', objectType: 'schema', name: 'archive', database: 'appdb' },
    ]);
  });

  it('rewrites only whole schema names before a dot, not names that end in them', () => {
    const p = database('appdb', 'sales', 'alice');
    p.relations[2]!.definition = ' SELECT o.id\n   FROM sales.orders o\n     JOIN presales.orders q ON q.id = o.id;';
    const s = database('appdb', 'archive', 'alice');
    s.relations[2]!.definition = ' SELECT o.id\n   FROM archive.orders o\n     JOIN presales.orders q ON q.id = o.id;';
    const m = maps(['sales=archive'], [], []);
    expect(diffCatalogs(snapshot(p, 'alice'), snapshot(s, 'alice'), { maps: m })).toEqual([]);
    s.relations[2]!.definition = ' SELECT o.id\n   FROM archive.orders o\n     JOIN prearchive.orders q ON q.id = o.id;';
    expect(diffCatalogs(snapshot(p, 'alice'), snapshot(s, 'alice'), { maps: m })).toEqual([
      expect.objectContaining({ change: 'different', objectType: 'view', name: 'archive.big', property: 'definition' }),
    ]);
  });

  it('maps a quoted mixed-case schema as PostgreSQL folds the map, and quotes names that need it', () => {
    const p = database('appdb', 'Sales', 'alice');
    const s = database('appdb', 'archive', 'alice');
    expect(p.relations[2]!.definition).toContain('Sales.orders');
    // As the catalog prints it: quoted.
    p.relations[2]!.definition = p.relations[2]!.definition!.replace('Sales.orders', '"Sales".orders');
    p.columns[0]!.default = `nextval('"Sales".orders_id_seq'::regclass)`;
    p.indexes[0]!.definition = 'CREATE UNIQUE INDEX orders_pkey ON "Sales".orders USING btree (id)';
    expect(diffCatalogs(snapshot(p, 'alice'), snapshot(s, 'alice'), { maps: maps(['sales=archive'], [], []) })).toEqual([]);
    expect(diffCatalogs(snapshot(p, 'alice'), snapshot(s, 'alice'))).toContainEqual({ change: 'missing', objectType: 'schema', name: '"Sales"', database: 'appdb' });
    expect(quoteIdent('orders')).toBe('orders');
    expect(quoteIdent('Order "Lines"')).toBe('"Order ""Lines"""');
  });

  it('reports a missing table once, not once per column, index, constraint and privilege', () => {
    const p = database('appdb', 'sales', 'alice');
    const s = database('appdb', 'sales', 'alice');
    s.relations = s.relations.filter((r) => r.name !== 'orders');
    s.columns = [];
    s.indexes = [];
    s.constraints = [];
    s.privileges = s.privileges.filter((x) => x.objectType === 'schema');
    expect(diffCatalogs(snapshot(p, 'alice'), snapshot(s, 'alice'))).toEqual([{ change: 'missing', objectType: 'table', name: 'sales.orders', database: 'appdb' }]);
  });

  it('reports each changed property with both values', () => {
    const p = database('appdb', 'sales', 'alice');
    const s = database('appdb', 'sales', 'alice');
    s.columns[1]!.type = 'numeric(12,2)';
    s.sequences[0]!.increment = '5';
    s.privileges[1]!.grantable = true;
    const sec = snapshot(s, 'alice');
    sec.roles[1]!.connectionLimit = 3;
    sec.memberships[0]!.admin = true;
    expect(diffCatalogs(snapshot(p, 'alice'), sec)).toEqual([
      { change: 'different', objectType: 'membership', name: 'alice in readers', database: null, property: 'admin', primary: false, secondary: true },
      { change: 'different', objectType: 'role', name: 'alice', database: null, property: 'connectionLimit', primary: -1, secondary: 3 },
      { change: 'different', objectType: 'column', name: 'sales.orders.total', database: 'appdb', property: 'type', primary: 'numeric(10,2)', secondary: 'numeric(12,2)' },
      { change: 'different', objectType: 'privilege', name: 'SELECT on table sales.orders to readers', database: 'appdb', property: 'grantable', primary: false, secondary: true },
      { change: 'different', objectType: 'sequence parameters', name: 'sales.orders_id_seq', database: 'appdb', property: 'increment', primary: '1', secondary: '5' },
    ]);
  });

  it('leaves out the ignored roles with their memberships and the privileges granted to them', () => {
    const p = snapshot(database('appdb', 'sales', 'alice'), 'alice');
    const s = snapshot(database('appdb', 'sales', 'alice'), 'alice');
    s.roles.push(role('sync'));
    // sync in alice hangs off the extra role sync; alice in sync is a membership of a role both sides have.
    s.memberships.push({ role: 'alice', member: 'sync', admin: false }, { role: 'sync', member: 'alice', admin: true });
    s.databases[0]!.privileges.push({ objectType: 'schema', schema: null, name: 'sales', grantee: 'sync', privilege: 'CREATE', grantable: false, grantor: 'alice' });
    expect(diffCatalogs(p, s).map((d) => `${d.change} ${d.objectType} ${d.name}`)).toEqual([
      'extra membership alice in sync',
      'extra role sync',
      'extra privilege CREATE on schema sales to sync',
    ]);
    expect(diffCatalogs(p, s, { ignoreRoles: ['sync'] })).toEqual([]);
  });

  it('matches every primary database with a single-database secondary and skips the properties of the database itself', () => {
    const p = snapshot(database('appdb', 'sales', 'alice', { owner: 'alice', comment: 'the app' }), 'alice');
    p.databases[0]!.privileges.push({ objectType: 'database', schema: null, name: 'appdb', grantee: 'alice', privilege: 'CREATE', grantable: false, grantor: 'postgres' });
    const s = snapshot(database('postgres', 'sales', 'alice', { owner: 'postgres', comment: null }), 'alice', { singleDatabase: true });
    expect(diffCatalogs(p, s)).toEqual([]);
    s.databases[0]!.columns[1]!.default = '1';
    expect(diffCatalogs(p, s)).toEqual([
      { change: 'different', objectType: 'column', name: 'sales.orders.total', database: 'appdb', property: 'default', primary: '0', secondary: '1' },
    ]);
  });

  it('compares the database owner, comment and privileges between multi-database clusters', () => {
    const p = snapshot(database('appdb', 'sales', 'alice', { comment: 'the app' }), 'alice');
    const s = snapshot(database('appdb', 'sales', 'alice', { comment: 'the app', owner: 'postgres' }), 'alice');
    s.databases[0]!.privileges.push({ objectType: 'database', schema: null, name: 'appdb', grantee: 'PUBLIC', privilege: 'CONNECT', grantable: false, grantor: 'postgres' });
    const drift = diffCatalogs(p, s);
    expect(drift).toContainEqual({ change: 'different', objectType: 'database', name: 'appdb', database: 'appdb', property: 'owner', primary: 'alice', secondary: 'postgres' });
    expect(drift).toContainEqual({ change: 'extra', objectType: 'privilege', name: 'CONNECT on database appdb to PUBLIC', database: 'appdb' });
  });

  it('compares PostgreSQL 15 with 18 without the MAINTAIN privilege and without qualifiers in view definitions', () => {
    const p = snapshot(database('appdb', 'sales', 'alice'), 'alice');
    p.databases[0]!.relations[2]!.definition = ' SELECT orders.id,\n    orders.total\n   FROM sales.orders\n  WHERE (orders.total > (100)::numeric);';
    const s = snapshot(database('appdb', 'sales', 'alice'), 'alice', { serverVersion: '18.6' });
    s.databases[0]!.relations[2]!.definition = ' SELECT id,\n    total\n   FROM sales.orders\n  WHERE (total > (100)::numeric);';
    s.databases[0]!.privileges.push({ objectType: 'table', schema: 'sales', name: 'orders', grantee: 'alice', privilege: 'MAINTAIN', grantable: false, grantor: 'alice' });
    expect(diffCatalogs(p, s)).toEqual([]);

    // The same two on one version differ, and a real change of the view still shows across versions.
    expect(diffCatalogs(p, { ...s, serverVersion: '15.18' }).map((d) => `${d.change} ${d.objectType} ${d.property ?? d.name}`)).toEqual([
      'extra privilege MAINTAIN on table sales.orders to alice',
      'different view definition',
    ]);
    s.databases[0]!.relations[2]!.definition = ' SELECT id,\n    total\n   FROM sales.orders\n  WHERE (total > (200)::numeric);';
    expect(diffCatalogs(p, s)).toEqual([expect.objectContaining({ change: 'different', objectType: 'view', property: 'definition' })]);
  });

  it('gives plain JSON that survives a round trip', () => {
    const p = snapshot(database('appdb', 'sales', 'alice'), 'alice');
    const s = snapshot(database('appdb', 'sales', 'alice'), 'alice');
    s.roles[1]!.config = ['work_mem=16MB'];
    const drift = diffCatalogs(p, s);
    expect(drift).toHaveLength(1);
    expect(JSON.parse(JSON.stringify(drift))).toEqual(drift);
    expect(drift[0]).toMatchObject({ property: 'config', primary: ['work_mem=8MB', 'search_path=sales'], secondary: ['work_mem=16MB'] });
  });
});

describe('formatDrift', () => {
  it('groups drift into missing, extra and different, one readable line each', () => {
    const drift: Drift[] = [
      { change: 'different', objectType: 'column', name: 'sales.orders.total', database: 'appdb', property: 'type', primary: 'numeric(10,2)', secondary: 'numeric(12,2)' },
      { change: 'extra', objectType: 'membership', name: 'bob in readers', database: null },
      { change: 'missing', objectType: 'index', name: 'sales.orders_total', database: 'appdb' },
      { change: 'different', objectType: 'table', name: 'sales.orders', database: 'appdb', property: 'comment', primary: 'all orders', secondary: null },
    ];
    expect(formatDrift(drift)).toBe(
      [
        'missing on secondary (1):',
        '  [appdb] index sales.orders_total',
        'extra on secondary (1):',
        '  membership bob in readers',
        'different (primary vs secondary) (2):',
        '  [appdb] column sales.orders.total type numeric(10,2) vs numeric(12,2)',
        '  [appdb] table sales.orders comment "all orders" vs null',
        '',
      ].join('\n'),
    );
  });

  it('prints nothing when there is no drift', () => {
    expect(formatDrift([])).toBe('');
  });
});
