import { AuditReplayError } from '../../core/errors.js';
import { LEDGER_SCHEMA } from '../sync/ledger.js';
import type { Target, TargetSession } from '../target.js';

/**
 * What `verify` compares: the catalog of a cluster read by name, never by OID, so two
 * clusters built by different routes (a dump, a sync, a replay) can be compared. Every
 * field is JSON; privileges are one row per grant (aclexplode), with a NULL ACL read as
 * the built-in default it stands for, so `GRANT` then `REVOKE` equals never granting.
 */
export interface CatalogSnapshot {
  /** `server_version` of the cluster, for the report only. */
  serverVersion: string;
  /** The target holds one database (PGlite): it stands for whichever database is compared. */
  singleDatabase: boolean;
  /** Cluster-wide; predefined `pg_*` roles are left out. */
  roles: RoleSnapshot[];
  memberships: MembershipSnapshot[];
  databases: DatabaseSnapshot[];
}

export interface RoleSnapshot {
  name: string;
  superuser: boolean;
  inherit: boolean;
  createRole: boolean;
  createDb: boolean;
  canLogin: boolean;
  replication: boolean;
  bypassRls: boolean;
  connectionLimit: number;
  /** `rolvaliduntil` in UTC ISO form, or null. Passwords are never read. */
  validUntil: string | null;
  /** Role-wide settings (`ALTER ROLE r SET k = v`), sorted. */
  config: string[];
  comment: string | null;
}

export interface MembershipSnapshot {
  role: string;
  member: string;
  admin: boolean;
}

/** One privilege of one grantee on one object, as aclexplode gives it. */
export interface PrivilegeSnapshot {
  objectType: 'database' | 'schema' | 'table' | 'view' | 'materialized view' | 'sequence' | 'foreign table' | 'column' | 'function' | 'procedure' | 'aggregate' | 'window';
  /** Null for a database. */
  schema: string | null;
  /** The object's name; for a column, its table's; for a function, `name(args)`. */
  name: string;
  column?: string;
  /** A role, or `PUBLIC`. */
  grantee: string;
  privilege: string;
  grantable: boolean;
  grantor: string;
}

/** One entry of `pg_default_acl`, exploded: what `role` grants on objects it creates in `schema` (null: everywhere). */
export interface DefaultPrivilegeSnapshot {
  role: string;
  schema: string | null;
  objectType: 'tables' | 'sequences' | 'functions' | 'types' | 'schemas';
  grantee: string;
  privilege: string;
  grantable: boolean;
}

export interface SchemaSnapshot {
  name: string;
  owner: string;
  comment: string | null;
}

export type RelationKind = 'table' | 'partitioned table' | 'view' | 'materialized view' | 'sequence' | 'foreign table' | 'composite type';

export interface RelationSnapshot {
  schema: string;
  name: string;
  kind: RelationKind;
  owner: string;
  /** `permanent` or `unlogged` (temporary relations are never listed). */
  persistence: string;
  rowSecurity: boolean;
  /** pg_get_viewdef for views and materialized views, else null. */
  definition: string | null;
  comment: string | null;
}

export interface ColumnSnapshot {
  schema: string;
  table: string;
  name: string;
  /** Place among the live columns, from 1: dropped columns leave no gap. */
  position: number;
  type: string;
  default: string | null;
  notNull: boolean;
  /** `always`, `by default`, or '' when not an identity column. */
  identity: string;
  /** `stored` for a generated column, else ''. */
  generated: string;
  collation: string | null;
  comment: string | null;
}

export interface IndexSnapshot {
  schema: string;
  table: string;
  name: string;
  definition: string;
  valid: boolean;
  comment: string | null;
}

export interface ConstraintSnapshot {
  schema: string;
  table: string;
  name: string;
  /** `primary key`, `unique`, `check`, `foreign key`, `exclusion`, `trigger`. */
  type: string;
  definition: string;
  validated: boolean;
  comment: string | null;
}

export interface SequenceSnapshot {
  schema: string;
  name: string;
  type: string;
  start: string;
  increment: string;
  min: string;
  max: string;
  cache: string;
  cycle: boolean;
  /** `schema.table.column` the sequence belongs to (serial, identity, OWNED BY), or null. */
  ownedBy: string | null;
}

export interface FunctionSnapshot {
  schema: string;
  name: string;
  /** pg_get_function_identity_arguments: what tells overloads apart. */
  arguments: string;
  kind: 'function' | 'procedure' | 'aggregate' | 'window';
  result: string | null;
  language: string;
  owner: string;
  /** md5 of the body (`prosrc`, or the SQL-standard body), not the body itself. */
  bodyMd5: string;
  volatility: string;
  securityDefiner: boolean;
  comment: string | null;
}

export interface ExtensionSnapshot {
  name: string;
  version: string;
  schema: string;
}

export interface DatabaseSnapshot {
  name: string;
  owner: string;
  comment: string | null;
  schemas: SchemaSnapshot[];
  relations: RelationSnapshot[];
  columns: ColumnSnapshot[];
  indexes: IndexSnapshot[];
  constraints: ConstraintSnapshot[];
  sequences: SequenceSnapshot[];
  functions: FunctionSnapshot[];
  extensions: ExtensionSnapshot[];
  /** Privileges on the database itself and on every object above (columns included). */
  privileges: PrivilegeSnapshot[];
  defaultPrivileges: DefaultPrivilegeSnapshot[];
}

export interface SnapshotOptions {
  /**
   * Databases to read (default: every connectable non-template database); those that do
   * not exist are left out. A single-database target reads its one.
   */
  databases?: readonly string[];
  /** Schemas to read (default: all but the system ones and `auditreplay`). */
  schemas?: readonly string[];
  signal?: AbortSignal;
}

/**
 * Reads a target's catalog by plain SQL on pg_catalog (PostgreSQL 15 and later, PGlite).
 * Roles and memberships are read once (cluster-wide), everything else per database.
 * A single-database target (PGlite) reads its one database; when exactly one database is
 * asked for, the snapshot names it so, as it stands for that database.
 */
export async function snapshotCatalog(target: Target, options: SnapshotOptions = {}): Promise<CatalogSnapshot> {
  const signal = options.signal;
  const first = await target.connect(signal ? { signal } : {});
  try {
    await prepareSession(first, signal);
    const serverVersion = String((await first.query<{ v: string }>('SELECT current_setting($1) AS v', ['server_version'], { signal })).rows[0]?.v ?? '');
    const roles = await readRoles(first, signal);
    const memberships = await readMemberships(first, signal);
    const single = !target.capabilities.multiDatabase;
    let names: string[];
    if (single) {
      names = [first.database];
    } else {
      const res = await first.query<{ datname: string }>(
        'SELECT datname::text AS datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY datname',
        [],
        { signal },
      );
      const existing = res.rows.map((r) => r.datname);
      names = options.databases?.length ? options.databases.filter((d) => existing.includes(d)) : existing;
    }
    const databases: DatabaseSnapshot[] = [];
    for (const name of names) {
      const session = name === first.database ? first : await target.connect(signal ? { database: name, signal } : { database: name });
      try {
        if (session !== first) await prepareSession(session, signal);
        databases.push(await readDatabase(session, options.schemas, signal));
      } finally {
        if (session !== first) await session.close();
      }
    }
    if (single && options.databases?.length === 1) databases[0]!.name = options.databases[0]!;
    return { serverVersion, singleDatabase: single, roles, memberships, databases };
  } finally {
    await first.close();
  }
}

/**
 * Fixes what the catalog's text output depends on: with search_path = pg_catalog every
 * user object is written schema-qualified, the same way on both sides, and constants in
 * defaults print the same whatever the server's TimeZone or DateStyle.
 */
async function prepareSession(session: TargetSession, signal: AbortSignal | undefined): Promise<void> {
  await session.exec(
    "SET search_path = pg_catalog; SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; SET extra_float_digits = 1",
    signal ? { signal } : {},
  );
}

async function rows<R>(session: TargetSession, sql: string, params: unknown[], signal: AbortSignal | undefined): Promise<R[]> {
  return (await session.query<R>(sql, params, signal ? { signal } : {})).rows;
}

async function readRoles(session: TargetSession, signal: AbortSignal | undefined): Promise<RoleSnapshot[]> {
  const list = await rows<Omit<RoleSnapshot, 'config'> & { oid: number }>(
    session,
    `SELECT r.rolname::text AS name, r.rolsuper AS superuser, r.rolinherit AS inherit, r.rolcreaterole AS "createRole",
            r.rolcreatedb AS "createDb", r.rolcanlogin AS "canLogin", r.rolreplication AS replication,
            r.rolbypassrls AS "bypassRls", r.rolconnlimit::int4 AS "connectionLimit",
            CASE WHEN r.rolvaliduntil IS NULL THEN NULL ELSE r.rolvaliduntil::text END AS "validUntil",
            shobj_description(r.oid, 'pg_authid') AS comment
       FROM pg_roles r
      WHERE r.rolname !~ '^pg_'
      ORDER BY r.rolname`,
    [],
    signal,
  );
  const settings = await rows<{ name: string; setting: string }>(
    session,
    `SELECT r.rolname::text AS name, s.setting
       FROM pg_db_role_setting d JOIN pg_roles r ON r.oid = d.setrole
       CROSS JOIN LATERAL unnest(d.setconfig) AS s(setting)
      WHERE d.setdatabase = 0 AND r.rolname !~ '^pg_'
      ORDER BY 1, 2`,
    [],
    signal,
  );
  const config = new Map<string, string[]>();
  for (const s of settings) config.set(s.name, [...(config.get(s.name) ?? []), s.setting]);
  return list.map((r) => ({ ...r, config: config.get(r.name) ?? [] }));
}

async function readMemberships(session: TargetSession, signal: AbortSignal | undefined): Promise<MembershipSnapshot[]> {
  // PostgreSQL 16+ may hold one grant per grantor: a membership is there, with admin, if any grant says so.
  return rows<MembershipSnapshot>(
    session,
    `SELECT r.rolname::text AS role, m.rolname::text AS member, bool_or(a.admin_option) AS admin
       FROM pg_auth_members a
       JOIN pg_roles r ON r.oid = a.roleid
       JOIN pg_roles m ON m.oid = a.member
      WHERE m.rolname !~ '^pg_'
      GROUP BY 1, 2
      ORDER BY 1, 2`,
    [],
    signal,
  );
}

/** The schemas a database query looks at: `$1` is the filter (null: all user schemas). */
// Our own ledger schema lives only on the secondary: never part of a comparison.
const SCHEMA_FILTER = `n.nspname !~ '^pg_' AND n.nspname NOT IN ('information_schema', '${LEDGER_SCHEMA}')
  AND ($1::text[] IS NULL OR n.nspname = ANY ($1::text[]))`;

/** Objects an extension created come with the extension: only the extension itself is compared. */
const notExtensionMember = (catalog: string, oidExpr: string): string =>
  `NOT EXISTS (SELECT 1 FROM pg_depend dep WHERE dep.classid = '${catalog}'::regclass AND dep.objid = ${oidExpr} AND dep.deptype = 'e')`;

/** aclexplode of an ACL column, with NULL read as its default for `kind`, grantees and grantors by name. */
const explode = (acl: string, kind: string, owner: string): string => `CROSS JOIN LATERAL (
     SELECT CASE WHEN e.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(e.grantee)::text END AS grantee,
            pg_get_userbyid(e.grantor)::text AS grantor, e.privilege_type::text AS privilege, e.is_grantable AS grantable
       FROM aclexplode(coalesce(${acl}, acldefault(${kind}, ${owner}))) e) g`;

const RELKIND = `CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'partitioned table' WHEN 'v' THEN 'view'
  WHEN 'm' THEN 'materialized view' WHEN 'S' THEN 'sequence' WHEN 'f' THEN 'foreign table' WHEN 'c' THEN 'composite type' END`;

const PROKIND = `CASE p.prokind WHEN 'f' THEN 'function' WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' WHEN 'w' THEN 'window' END`;

async function readDatabase(session: TargetSession, schemaFilter: readonly string[] | undefined, signal: AbortSignal | undefined): Promise<DatabaseSnapshot> {
  const f = [schemaFilter?.length ? [...schemaFilter] : null];
  const q = <R>(sql: string, params: unknown[] = f): Promise<R[]> => rows<R>(session, sql, params, signal);

  const db = (
    await q<{ name: string; owner: string; comment: string | null }>(
      `SELECT d.datname::text AS name, pg_get_userbyid(d.datdba)::text AS owner, shobj_description(d.oid, 'pg_database') AS comment
         FROM pg_database d WHERE d.datname = current_database()`,
      [],
    )
  )[0];
  if (!db) throw new AuditReplayError('internal', `database ${session.database} is not in its own pg_database`);

  const schemas = await q<SchemaSnapshot>(
    `SELECT n.nspname::text AS name, pg_get_userbyid(n.nspowner)::text AS owner, obj_description(n.oid, 'pg_namespace') AS comment
       FROM pg_namespace n
      WHERE ${SCHEMA_FILTER} AND ${notExtensionMember('pg_namespace', 'n.oid')}
      ORDER BY 1`,
  );

  const relations = await q<RelationSnapshot>(
    `SELECT n.nspname::text AS schema, c.relname::text AS name, ${RELKIND} AS kind, pg_get_userbyid(c.relowner)::text AS owner,
            CASE c.relpersistence WHEN 'u' THEN 'unlogged' ELSE 'permanent' END AS persistence,
            c.relrowsecurity AS "rowSecurity",
            CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END AS definition,
            obj_description(c.oid, 'pg_class') AS comment
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c') AND c.relpersistence <> 't'
        AND ${SCHEMA_FILTER} AND ${notExtensionMember('pg_class', 'c.oid')}
      ORDER BY 1, 2`,
  );

  const columns = await q<ColumnSnapshot>(
    `SELECT n.nspname::text AS schema, c.relname::text AS table, a.attname::text AS name,
            (row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum))::int4 AS position,
            format_type(a.atttypid, a.atttypmod) AS type,
            pg_get_expr(ad.adbin, ad.adrelid) AS default,
            a.attnotnull AS "notNull",
            CASE a.attidentity WHEN 'a' THEN 'always' WHEN 'd' THEN 'by default' ELSE '' END AS identity,
            CASE a.attgenerated WHEN 's' THEN 'stored' WHEN 'v' THEN 'virtual' ELSE '' END AS generated,
            CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation THEN (SELECT co.collname::text FROM pg_collation co WHERE co.oid = a.attcollation) END AS collation,
            col_description(c.oid, a.attnum) AS comment
       FROM pg_attribute a
       JOIN pg_class c ON c.oid = a.attrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_type t ON t.oid = a.atttypid
       LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
      WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'c') AND c.relpersistence <> 't'
        AND ${SCHEMA_FILTER} AND ${notExtensionMember('pg_class', 'c.oid')}
      ORDER BY 1, 2, 4`,
  );

  const indexes = await q<IndexSnapshot>(
    `SELECT n.nspname::text AS schema, t.relname::text AS table, c.relname::text AS name,
            pg_get_indexdef(c.oid) AS definition, i.indisvalid AS valid, obj_description(c.oid, 'pg_class') AS comment
       FROM pg_index i
       JOIN pg_class c ON c.oid = i.indexrelid
       JOIN pg_class t ON t.oid = i.indrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE t.relpersistence <> 't' AND ${SCHEMA_FILTER} AND ${notExtensionMember('pg_class', 't.oid')}
      ORDER BY 1, 3`,
  );

  // PostgreSQL 18 also keeps NOT NULL as constraints (contype 'n'); columns' notNull covers them on every version.
  const constraints = await q<ConstraintSnapshot>(
    `SELECT n.nspname::text AS schema, c.relname::text AS table, k.conname::text AS name,
            CASE k.contype WHEN 'p' THEN 'primary key' WHEN 'u' THEN 'unique' WHEN 'c' THEN 'check' WHEN 'f' THEN 'foreign key'
                           WHEN 'x' THEN 'exclusion' WHEN 't' THEN 'trigger' ELSE k.contype::text END AS type,
            pg_get_constraintdef(k.oid) AS definition, k.convalidated AS validated,
            obj_description(k.oid, 'pg_constraint') AS comment
       FROM pg_constraint k
       JOIN pg_class c ON c.oid = k.conrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE k.contype <> 'n' AND c.relpersistence <> 't' AND ${SCHEMA_FILTER} AND ${notExtensionMember('pg_class', 'c.oid')}
      ORDER BY 1, 2, 3`,
  );

  const sequences = await q<SequenceSnapshot>(
    `SELECT n.nspname::text AS schema, c.relname::text AS name, format_type(s.seqtypid, NULL) AS type,
            s.seqstart::text AS start, s.seqincrement::text AS increment, s.seqmin::text AS min, s.seqmax::text AS max,
            s.seqcache::text AS cache, s.seqcycle AS cycle,
            (SELECT tn.nspname || '.' || t.relname || '.' || a.attname
               FROM pg_depend d
               JOIN pg_class t ON t.oid = d.refobjid
               JOIN pg_namespace tn ON tn.oid = t.relnamespace
               JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
              WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass
                AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0
              LIMIT 1)::text AS "ownedBy"
       FROM pg_sequence s
       JOIN pg_class c ON c.oid = s.seqrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relpersistence <> 't' AND ${SCHEMA_FILTER} AND ${notExtensionMember('pg_class', 'c.oid')}
      ORDER BY 1, 2`,
  );

  const functions = await q<FunctionSnapshot>(
    `SELECT n.nspname::text AS schema, p.proname::text AS name, pg_get_function_identity_arguments(p.oid) AS arguments,
            ${PROKIND} AS kind,
            CASE WHEN p.prokind = 'p' THEN NULL ELSE pg_get_function_result(p.oid) END AS result,
            l.lanname::text AS language, pg_get_userbyid(p.proowner)::text AS owner,
            md5(coalesce(nullif(p.prosrc, ''), '') || coalesce(pg_get_function_sqlbody(p.oid), '')) AS "bodyMd5",
            CASE p.provolatile WHEN 'i' THEN 'immutable' WHEN 's' THEN 'stable' ELSE 'volatile' END AS volatility,
            p.prosecdef AS "securityDefiner",
            obj_description(p.oid, 'pg_proc') AS comment
       FROM pg_proc p
       JOIN pg_namespace n ON n.oid = p.pronamespace
       JOIN pg_language l ON l.oid = p.prolang
      WHERE ${SCHEMA_FILTER} AND ${notExtensionMember('pg_proc', 'p.oid')}
      ORDER BY 1, 2, 3`,
  );

  const extensions = await q<ExtensionSnapshot>(
    `SELECT e.extname::text AS name, e.extversion::text AS version, n.nspname::text AS schema
       FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
      ORDER BY 1`,
    [],
  );

  const privileges = await q<PrivilegeSnapshot>(
    `SELECT 'database' AS "objectType", NULL::text AS schema, d.datname::text AS name, NULL::text AS column, g.*
       FROM pg_database d ${explode('d.datacl', "'d'::\"char\"", 'd.datdba')}
      WHERE d.datname = current_database()
     UNION ALL
     SELECT 'schema', NULL, n.nspname::text, NULL, g.*
       FROM pg_namespace n ${explode('n.nspacl', "'n'::\"char\"", 'n.nspowner')}
      WHERE ${SCHEMA_FILTER} AND ${notExtensionMember('pg_namespace', 'n.oid')}
     UNION ALL
     SELECT ${RELKIND}, n.nspname::text, c.relname::text, NULL, g.*
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            ${explode('c.relacl', `(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END)::"char"`, 'c.relowner')}
      WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND c.relpersistence <> 't'
        AND ${SCHEMA_FILTER} AND ${notExtensionMember('pg_class', 'c.oid')}
     UNION ALL
     SELECT 'column', n.nspname::text, c.relname::text, a.attname::text, g.*
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            ${explode('a.attacl', `'c'::"char"`, 'c.relowner')}
      WHERE a.attnum > 0 AND NOT a.attisdropped AND a.attacl IS NOT NULL AND c.relpersistence <> 't'
        AND ${SCHEMA_FILTER} AND ${notExtensionMember('pg_class', 'c.oid')}
     UNION ALL
     SELECT ${PROKIND}, n.nspname::text, p.proname::text || '(' || pg_get_function_identity_arguments(p.oid) || ')', NULL, g.*
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            ${explode('p.proacl', `'f'::"char"`, 'p.proowner')}
      WHERE ${SCHEMA_FILTER} AND ${notExtensionMember('pg_proc', 'p.oid')}
      ORDER BY 1, 2, 3, 4, 5, 7`,
  );
  for (const p of privileges) if (p.column === null) delete p.column;

  // Global entries (no schema) hold the whole ACL; per-schema entries only what they add.
  const defaultPrivileges = await q<DefaultPrivilegeSnapshot>(
    `SELECT pg_get_userbyid(a.defaclrole)::text AS role, n.nspname::text AS schema,
            CASE a.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences' WHEN 'f' THEN 'functions'
                                 WHEN 'T' THEN 'types' WHEN 'n' THEN 'schemas' ELSE a.defaclobjtype::text END AS "objectType",
            CASE WHEN e.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(e.grantee)::text END AS grantee,
            e.privilege_type::text AS privilege, e.is_grantable AS grantable
       FROM pg_default_acl a
       LEFT JOIN pg_namespace n ON n.oid = a.defaclnamespace
       CROSS JOIN LATERAL aclexplode(a.defaclacl) e
      WHERE a.defaclnamespace = 0 OR (${SCHEMA_FILTER})
      ORDER BY 1, 2 NULLS FIRST, 3, 4, 5`,
  );

  return { ...db, schemas, relations, columns, indexes, constraints, sequences, functions, extensions, privileges, defaultPrivileges };
}
