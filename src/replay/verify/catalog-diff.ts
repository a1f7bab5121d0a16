import { mapName, NO_MAPS, type NameMaps } from '../name-map.js';
import type { CatalogSnapshot, DatabaseSnapshot, PrivilegeSnapshot } from './catalog-snapshot.js';

/** A property value as a Drift carries it: plain JSON. */
export type DriftValue = string | number | boolean | null | string[];

/**
 * One difference between the primary's catalog (names mapped to the secondary's) and
 * the secondary's. `missing`: on the primary only; `extra`: on the secondary only;
 * `different`: on both, one property differs (one Drift per property).
 */
export interface Drift {
  change: 'missing' | 'extra' | 'different';
  /** `role`, `membership`, `database`, `schema`, `table`, `view`, `column`, `index`, `constraint`, `sequence`, `function`, `extension`, `privilege`, `default privilege`, ... */
  objectType: string;
  /** The object's name as the secondary names it (quoted where PostgreSQL would need quotes). */
  name: string;
  /** The secondary's database, or null for cluster-wide objects (roles, memberships). */
  database: string | null;
  /** Only for `different`. */
  property?: string;
  primary?: DriftValue;
  secondary?: DriftValue;
}

export interface DiffOptions {
  maps?: NameMaps;
  /**
   * Secondary roles left out of the comparison, with their memberships and the privileges
   * granted to them: the role the secondary is administered through (default none).
   */
  ignoreRoles?: readonly string[];
}

/** One comparable thing: a name unique within its type and database, and its properties. */
interface Fact {
  objectType: string;
  database: string | null;
  name: string;
  props: Record<string, DriftValue>;
  /** Key of the object this one belongs to: not reported on its own when the parent is missing or extra. */
  parent?: string;
  /** Roles the fact is about, for `ignoreRoles`. */
  roles?: string[];
}

const keyOf = (objectType: string, name: string): string => `${objectType}\u0000${name}`;

/** Renames applied to the primary's side; identity for the secondary's. */
interface Renamer {
  role(name: string): string;
  schema(name: string): string;
  database(name: string): string;
  /** Schema-qualified references inside catalog text (view, index and constraint definitions, defaults). */
  text(sql: string | null): string | null;
}

const IDENTITY: Renamer = { role: (n) => n, schema: (n) => n, database: (n) => n, text: (s) => s };

/**
 * Compares two snapshots and lists every difference, primary names mapped through
 * `maps` (schema, role, database; default none) before comparing. Order of rows in the
 * snapshots does not matter; the result is sorted. When either side is a
 * single-database target, each compared database of the other side is matched with its
 * one database and the properties of the database itself (owner, comment, privileges)
 * are not compared, as that side cannot express them. Between major versions (PostgreSQL
 * 15 and PGlite's 18) the MAINTAIN privilege of 17+ is left out and view definitions are
 * compared without qualifiers, as the versions print them differently.
 */
export function diffCatalogs(primary: CatalogSnapshot, secondary: CatalogSnapshot, options: DiffOptions = {}): Drift[] {
  const maps = options.maps ?? NO_MAPS;
  const renamer = primaryRenamer(primary, maps);
  const versions = { primary: majorVersion(primary.serverVersion), secondary: majorVersion(secondary.serverVersion) };
  const across: CrossVersion = {
    // MAINTAIN (PostgreSQL 17) is in every owner's default ACL there and cannot exist before.
    dropMaintain: Math.min(versions.primary, versions.secondary) < 17 && Math.max(versions.primary, versions.secondary) >= 17,
    // PostgreSQL 16 stopped qualifying columns of a lone relation in view definitions.
    looseViews: versions.primary !== versions.secondary,
  };
  const ignored = new Set(options.ignoreRoles ?? []);
  const drift: Drift[] = [];

  compare(clusterFacts(primary, renamer), clusterFacts(secondary, IDENTITY), ignored, drift);

  const single = primary.singleDatabase || secondary.singleDatabase;
  const pairs: [DatabaseSnapshot | undefined, DatabaseSnapshot | undefined][] = [];
  if (secondary.singleDatabase) {
    for (const p of primary.databases) pairs.push([p, secondary.databases[0]]);
  } else if (primary.singleDatabase) {
    for (const p of primary.databases) pairs.push([p, secondary.databases.find((s) => s.name === renamer.database(p.name))]);
  } else {
    const byName = new Map(secondary.databases.map((s) => [s.name, s]));
    for (const p of primary.databases) {
      const name = renamer.database(p.name);
      pairs.push([p, byName.get(name)]);
      byName.delete(name);
    }
    for (const s of byName.values()) pairs.push([undefined, s]);
  }
  for (const [p, s] of pairs) {
    // Facts of a pair are labelled with the secondary's name, or with the mapped primary name when the secondary lacks it.
    const label = s && !secondary.singleDatabase ? s.name : renamer.database(p!.name);
    const pf = p ? databaseFacts(p, renamer, label, !single, across) : [];
    const sf = s ? databaseFacts(s, IDENTITY, label, !single, across) : [];
    if (!p || !s) {
      drift.push({ change: p ? 'missing' : 'extra', objectType: 'database', name: quoteIdent(label), database: null });
      continue;
    }
    compare(pf, sf, ignored, drift);
  }
  return drift.sort(compareDrift);
}

/** Compares the facts of one database (or of the cluster): both lists carry the same database label. */
function compare(primary: Fact[], secondary: Fact[], ignored: ReadonlySet<string>, out: Drift[]): void {
  const key = (f: Fact): string => keyOf(f.objectType, f.name);
  const keep = (f: Fact): boolean => !f.roles?.some((r) => ignored.has(r));
  const theirs = new Map(secondary.filter(keep).map((f) => [key(f), f]));
  const unmatched = new Set<string>();
  const found: [Drift, Fact][] = [];
  for (const f of primary.filter(keep)) {
    const k = key(f);
    const s = theirs.get(k);
    if (!s) {
      unmatched.add(k);
      found.push([{ change: 'missing', objectType: f.objectType, name: f.name, database: f.database }, f]);
      continue;
    }
    theirs.delete(k);
    for (const prop of Object.keys(f.props)) {
      const a = f.props[prop] ?? null;
      const b = s.props[prop] ?? null;
      if (!sameValue(a, b)) out.push({ change: 'different', objectType: f.objectType, name: f.name, database: f.database, property: prop, primary: a, secondary: b });
    }
  }
  for (const [k, s] of theirs) {
    unmatched.add(k);
    found.push([{ change: 'extra', objectType: s.objectType, name: s.name, database: s.database }, s]);
  }
  // A missing table is one line, not one per column, index and grant as well.
  const parents = new Map([...primary, ...secondary].map((f) => [key(f), f.parent]));
  const underUnmatched = (f: Fact): boolean => {
    for (let p = f.parent; p !== undefined; p = parents.get(p)) if (unmatched.has(p)) return true;
    return false;
  };
  for (const [d, f] of found) if (!underUnmatched(f)) out.push(d);
}

function sameValue(a: DriftValue, b: DriftValue): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && [...a].sort().join('\u0000') === [...b].sort().join('\u0000');
  return a === b;
}

const CHANGE_ORDER = { missing: 0, extra: 1, different: 2 };

function compareDrift(a: Drift, b: Drift): number {
  return (
    CHANGE_ORDER[a.change] - CHANGE_ORDER[b.change] ||
    (a.database ?? '').localeCompare(b.database ?? '') ||
    a.objectType.localeCompare(b.objectType) ||
    a.name.localeCompare(b.name) ||
    (a.property ?? '').localeCompare(b.property ?? '')
  );
}

function clusterFacts(snap: CatalogSnapshot, r: Renamer): Fact[] {
  const facts: Fact[] = [];
  for (const role of snap.roles) {
    const { name, ...props } = role;
    const mapped = r.role(name);
    facts.push({ objectType: 'role', database: null, name: quoteIdent(mapped), props: { ...props, config: [...props.config] }, roles: [mapped] });
  }
  for (const m of snap.memberships) {
    const role = r.role(m.role);
    const member = r.role(m.member);
    facts.push({
      objectType: 'membership',
      database: null,
      name: `${quoteIdent(member)} in ${quoteIdent(role)}`,
      props: { admin: m.admin },
      parent: keyOf('role', quoteIdent(member)),
      roles: [role, member],
    });
  }
  return facts;
}

/** How to compare two different major versions of PostgreSQL (e.g. PostgreSQL 15 with PGlite's 18). */
interface CrossVersion {
  dropMaintain: boolean;
  looseViews: boolean;
}

function majorVersion(version: string): number {
  return Number.parseInt(version, 10) || 0;
}

/** A view definition without qualifiers (`sales.orders.id` reads `id`): what versions print alike. */
function unqualified(definition: string | null): string | null {
  return definition === null ? null : definition.replace(/(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)\./g, '');
}

function databaseFacts(db: DatabaseSnapshot, r: Renamer, label: string, withDatabase: boolean, across: CrossVersion): Fact[] {
  const facts: Fact[] = [];
  const add = (objectType: string, name: string, props: Record<string, DriftValue>, parent?: string, roles?: string[]): string => {
    facts.push({ objectType, database: label, name, props, ...(parent === undefined ? {} : { parent }), ...(roles ? { roles } : {}) });
    return keyOf(objectType, name);
  };
  const qn = (schema: string, ...rest: string[]): string => [r.schema(schema), ...rest].map(quoteIdent).join('.');
  const schemaKey = (schema: string): string => keyOf('schema', quoteIdent(r.schema(schema)));
  const relationKind = new Map(db.relations.map((rel) => [`${rel.schema}\u0000${rel.name}`, rel.kind]));
  const relationKey = (schema: string, name: string): string => keyOf(relationKind.get(`${schema}\u0000${name}`) ?? 'table', qn(schema, name));
  const role = (name: string): string => (name === 'PUBLIC' ? name : r.role(name));
  const showRole = (name: string): string => (name === 'PUBLIC' ? name : quoteIdent(name));

  if (withDatabase) add('database', quoteIdent(label), { owner: r.role(db.owner), comment: db.comment });
  for (const s of db.schemas) add('schema', quoteIdent(r.schema(s.name)), { owner: r.role(s.owner), comment: s.comment });
  for (const rel of db.relations) {
    const props = {
      owner: r.role(rel.owner),
      persistence: rel.persistence,
      rowSecurity: rel.rowSecurity,
      definition: across.looseViews ? unqualified(r.text(rel.definition)) : r.text(rel.definition),
      comment: rel.comment,
    };
    add(rel.kind, qn(rel.schema, rel.name), props, schemaKey(rel.schema));
  }
  for (const c of db.columns) {
    const props = {
      position: c.position,
      type: r.text(c.type),
      default: r.text(c.default),
      notNull: c.notNull,
      identity: c.identity,
      generated: c.generated,
      collation: c.collation,
      comment: c.comment,
    };
    add('column', qn(c.schema, c.table, c.name), props, relationKey(c.schema, c.table));
  }
  for (const i of db.indexes) {
    add('index', qn(i.schema, i.name), { table: qn(i.schema, i.table), definition: r.text(i.definition), valid: i.valid, comment: i.comment }, relationKey(i.schema, i.table));
  }
  for (const k of db.constraints) {
    const props = { type: k.type, definition: r.text(k.definition), validated: k.validated, comment: k.comment };
    add('constraint', `${quoteIdent(k.name)} on ${qn(k.schema, k.table)}`, props, relationKey(k.schema, k.table));
  }
  for (const s of db.sequences) {
    const props = {
      type: s.type,
      start: s.start,
      increment: s.increment,
      min: s.min,
      max: s.max,
      cache: s.cache,
      cycle: s.cycle,
      ownedBy: s.ownedBy === null ? null : s.ownedBy.replace(/^[^.]+/, (schema) => r.schema(schema)),
    };
    add('sequence parameters', qn(s.schema, s.name), props, relationKey(s.schema, s.name));
  }
  for (const f of db.functions) {
    const props = {
      result: r.text(f.result),
      language: f.language,
      owner: r.role(f.owner),
      body: f.bodyMd5,
      volatility: f.volatility,
      securityDefiner: f.securityDefiner,
      comment: f.comment,
    };
    add(f.kind, `${qn(f.schema, f.name)}(${r.text(f.arguments)})`, props, schemaKey(f.schema));
  }
  for (const e of db.extensions) add('extension', quoteIdent(e.name), { version: e.version, schema: r.schema(e.schema) });
  for (const p of db.privileges) {
    if ((p.objectType === 'database' && !withDatabase) || (across.dropMaintain && p.privilege === 'MAINTAIN')) continue;
    const [what, parent] = privilegeTarget(p, r, label, qn);
    const grantee = role(p.grantee);
    add('privilege', `${p.privilege} on ${what} to ${showRole(grantee)}`, { grantable: p.grantable, grantor: r.role(p.grantor) }, parent, [grantee]);
  }
  for (const d of db.defaultPrivileges) {
    if (across.dropMaintain && d.privilege === 'MAINTAIN') continue;
    const owner = r.role(d.role);
    const grantee = role(d.grantee);
    const where = d.schema === null ? '' : ` in schema ${quoteIdent(r.schema(d.schema))}`;
    const name = `${d.privilege} on ${d.objectType} created by ${quoteIdent(owner)}${where} to ${showRole(grantee)}`;
    add('default privilege', name, { grantable: d.grantable }, d.schema === null ? undefined : schemaKey(d.schema), [owner, grantee]);
  }
  return facts;
}

/** How a privilege names its object, and the key of that object's fact. */
function privilegeTarget(p: PrivilegeSnapshot, r: Renamer, label: string, qn: (schema: string, ...rest: string[]) => string): [string, string] {
  if (p.objectType === 'database') return [`database ${quoteIdent(label)}`, keyOf('database', quoteIdent(label))];
  if (p.objectType === 'schema') return [`schema ${quoteIdent(r.schema(p.name))}`, keyOf('schema', quoteIdent(r.schema(p.name)))];
  const schema = p.schema ?? '';
  if (p.objectType === 'column') {
    const name = qn(schema, p.name, p.column ?? '');
    return [`column ${name}`, keyOf('column', name)];
  }
  if (p.objectType === 'function' || p.objectType === 'procedure' || p.objectType === 'aggregate' || p.objectType === 'window') {
    const open = p.name.indexOf('(');
    const name = `${qn(schema, p.name.slice(0, open))}${r.text(p.name.slice(open))}`;
    return [`${p.objectType} ${name}`, keyOf(p.objectType, name)];
  }
  const name = qn(schema, p.name);
  return [`${p.objectType} ${name}`, keyOf(p.objectType, name)];
}

function primaryRenamer(primary: CatalogSnapshot, maps: NameMaps): Renamer {
  const renames: [RegExp, string][] = [];
  const schemas = new Set(primary.databases.flatMap((d) => d.schemas.map((s) => s.name)));
  for (const name of schemas) {
    const to = mapName(maps.schema, name);
    if (to === name) continue;
    // A qualified reference is the schema's identifier, as the catalog prints it, right before a dot.
    const ident = quoteIdent(name).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    renames.push([new RegExp(`(^|[^A-Za-z0-9_$."])${ident}\\.`, 'g'), `$1${quoteIdent(to).replace(/\$/g, '$$$$')}.`]);
  }
  return {
    role: (n) => mapName(maps.role, n),
    schema: (n) => mapName(maps.schema, n),
    database: (n) => mapName(maps.database, n),
    text: (sql) => (sql === null ? null : renames.reduce((s, [re, to]) => s.replace(re, to), sql)),
  };
}

/** The identifier as PostgreSQL prints it: bare when it is lower-case and plain, else double-quoted. */
export function quoteIdent(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

function show(value: DriftValue | undefined): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return `[${value.join(', ')}]`;
  if (typeof value === 'string') return /\s/.test(value) || value === '' ? JSON.stringify(value) : value;
  return String(value);
}

/**
 * The drift as text for people: grouped into "missing on secondary", "extra on secondary"
 * and "different (primary vs secondary)", one line per object or property, prefixed with
 * the database for objects that live in one. Empty string for no drift.
 */
export function formatDrift(drift: readonly Drift[]): string {
  const groups: [Drift['change'], string][] = [
    ['missing', 'missing on secondary'],
    ['extra', 'extra on secondary'],
    ['different', 'different (primary vs secondary)'],
  ];
  const out: string[] = [];
  for (const [change, title] of groups) {
    const items = drift.filter((d) => d.change === change);
    if (items.length === 0) continue;
    out.push(`${title} (${items.length}):`);
    for (const d of items) {
      const where = d.database === null ? '' : `[${d.database}] `;
      const detail = change === 'different' ? ` ${d.property} ${show(d.primary)} vs ${show(d.secondary)}` : '';
      out.push(`  ${where}${d.objectType} ${d.name}${detail}`);
    }
  }
  return out.length ? `${out.join('\n')}\n` : '';
}
