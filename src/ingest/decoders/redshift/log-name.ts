import type { ObjectRef } from '../../source.js';

/** The three logs of Redshift's audit logging. */
export type RedshiftLogKind = 'useractivitylog' | 'connectionlog' | 'userlog';

const KINDS: readonly RedshiftLogKind[] = ['useractivitylog', 'connectionlog', 'userlog'];

export interface RedshiftLogName {
  /** `<acct>_redshift_<region>_<cluster>`, or '' when the name is not Redshift's. */
  cluster: string;
  kind: RedshiftLogKind | null;
  /** The file name, without folders. */
  base: string;
}

/**
 * Reads Redshift's object name `<acct>_redshift_<region>_<cluster>_<kind>_<ts>.gz`. The
 * cluster part keeps the pids of different clusters apart when one folder holds several.
 */
export function redshiftLogName(key: string): RedshiftLogName {
  const base = key.slice(key.lastIndexOf('/') + 1);
  for (const kind of KINDS) {
    const at = base.indexOf(`_${kind}_`);
    if (at > 0) return { cluster: base.slice(0, at), kind, base };
  }
  return { cluster: '', kind: null, base };
}

/**
 * The part of a record id that names its object. Redshift's own file names are unique
 * across accounts, regions, clusters and hours, so they alone keep ids the same however
 * the bucket is addressed; any other name needs its folders too.
 */
export function objectIdPart(object: ObjectRef): string {
  const name = redshiftLogName(object.key);
  if (name.kind !== null) return name.base;
  return object.key !== '' ? object.key : object.name;
}
