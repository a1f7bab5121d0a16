import { AuditReplayError } from '../../core/errors.js';
import { mapName, NO_MAPS, type NameMaps } from '../name-map.js';
import type { Target } from '../target.js';
import { diffCatalogs, type Drift } from './catalog-diff.js';
import { snapshotCatalog, type CatalogSnapshot } from './catalog-snapshot.js';

export interface VerifyOptions {
  /** Primary databases to compare (default: every connectable non-template database of the primary). */
  databases?: readonly string[];
  /** Primary schemas to compare (default: all user schemas). */
  schemas?: readonly string[];
  /** Primary names to the secondary's (default: none). */
  maps?: NameMaps;
  signal?: AbortSignal;
}

/** How many objects of each kind the primary holds in the compared scope. */
export type VerifyCounts = Record<string, number>;

export interface VerifyResult {
  equal: boolean;
  /** Primary database names compared. */
  databases: string[];
  counts: VerifyCounts;
  /** Secondary roles left out: the role verify connects to the secondary as, when the primary has no such role. */
  ignoredRoles: string[];
  drift: Drift[];
}

/**
 * Snapshots both catalogs and compares them. Primary names are mapped through `maps`
 * to pick the secondary's databases and schemas and to compare. The role the secondary
 * is reached as is left out of the comparison (with its memberships and grants) when
 * the primary has no role of that name after mapping: it is how the secondary is
 * administered (e.g. a dedicated sync role), not replicated state; a role that exists on
 * both sides is compared like any other.
 */
export async function verifyCatalogs(primary: Target, secondary: Target, options: VerifyOptions = {}): Promise<VerifyResult> {
  const maps = options.maps ?? NO_MAPS;
  const signal = options.signal;
  const wanted = options.databases?.length ? [...options.databases] : undefined;
  if (wanted && !primary.capabilities.multiDatabase && wanted.length > 1) {
    throw new AuditReplayError('usage', `${primary.url} holds one database: --database takes one name for it, not ${wanted.length}`);
  }
  const primarySnap = await snapshotCatalog(primary, { ...(wanted ? { databases: wanted } : {}), ...(options.schemas ? { schemas: options.schemas } : {}), ...(signal ? { signal } : {}) });
  if (wanted && primary.capabilities.multiDatabase) {
    const absent = wanted.filter((d) => !primarySnap.databases.some((s) => s.name === d));
    if (absent.length) throw new AuditReplayError('usage', `--database: ${absent.join(', ')} not on the primary (${primary.url})`);
  }
  const databases = primarySnap.databases.map((d) => d.name);
  const secondarySnap = await snapshotCatalog(secondary, {
    databases: databases.map((d) => mapName(maps.database, d)),
    ...(options.schemas ? { schemas: options.schemas.map((s) => mapName(maps.schema, s)) } : {}),
    ...(signal ? { signal } : {}),
  });
  const primaryRoles = new Set(primarySnap.roles.map((r) => mapName(maps.role, r.name)));
  const ignoredRoles = primaryRoles.has(secondary.user) ? [] : [secondary.user];
  const drift = diffCatalogs(primarySnap, secondarySnap, { maps, ignoreRoles: ignoredRoles });
  return { equal: drift.length === 0, databases, counts: countObjects(primarySnap), ignoredRoles, drift };
}

/** Counts of the primary's objects, for the "no drift: ..." line. */
export function countObjects(snap: CatalogSnapshot): VerifyCounts {
  const counts: VerifyCounts = { databases: snap.databases.length, schemas: 0, tables: 0, views: 0, 'materialized views': 0, sequences: 0, columns: 0, indexes: 0, constraints: 0, functions: 0, privileges: 0, 'default privileges': 0 };
  const plural: Record<string, string> = { table: 'tables', 'partitioned table': 'tables', view: 'views', 'materialized view': 'materialized views', sequence: 'sequences', 'foreign table': 'tables', 'composite type': 'composite types' };
  for (const db of snap.databases) {
    counts.schemas! += db.schemas.length;
    for (const r of db.relations) counts[plural[r.kind]!] = (counts[plural[r.kind]!] ?? 0) + 1;
    counts.columns! += db.columns.length;
    counts.indexes! += db.indexes.length;
    counts.constraints! += db.constraints.length;
    counts.functions! += db.functions.length;
    counts.privileges! += db.privileges.length;
    counts['default privileges']! += db.defaultPrivileges.length;
  }
  counts.roles = snap.roles.length;
  counts.memberships = snap.memberships.length;
  return counts;
}
