/**
 * Validation of Kubernetes objects against the schemas kubernetes-models generates from
 * the Kubernetes OpenAPI spec, plus the check those schemas leave out: fields that do not
 * exist. The schemas come from the package, none is written here.
 */
import { validate as configMapSchema } from 'kubernetes-models/_schemas/IoK8sApiCoreV1ConfigMap';
import { validate as secretSchema } from 'kubernetes-models/_schemas/IoK8sApiCoreV1Secret';
import { validate as cronJobSchema } from 'kubernetes-models/_schemas/IoK8sApiBatchV1CronJob';
import { validate as jobSchema } from 'kubernetes-models/_schemas/IoK8sApiBatchV1Job';
import { CronJob, Job } from 'kubernetes-models/batch/v1';
import { ConfigMap, Secret } from 'kubernetes-models/v1';

/** A Kubernetes object as read from a manifest. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

interface ModelInstance {
  validate(): void;
}
type SchemaValidate = (data: unknown) => boolean;

/** The kinds deploy/k8s uses, by `apiVersion kind`: the model class and its generated schema. */
const KINDS: Record<string, { model: new (data: never) => ModelInstance; schema: SchemaValidate }> = {
  'batch/v1 CronJob': { model: CronJob, schema: cronJobSchema },
  'batch/v1 Job': { model: Job, schema: jobSchema },
  'v1 ConfigMap': { model: ConfigMap, schema: configMapSchema },
  'v1 Secret': { model: Secret, schema: secretSchema },
};

function kindOf(object: K8sObject): (typeof KINDS)[string] {
  const kind = KINDS[`${object.apiVersion} ${object.kind}`];
  if (!kind) throw new Error(`no schema wired for ${object.apiVersion} ${object.kind}: add it to KINDS`);
  return kind;
}

/**
 * Validates `object` with its kubernetes-models class (`new CronJob(obj).validate()`):
 * throws the package's ValidationError on a missing required field, a wrong type or a
 * value outside an enum.
 */
export function validateModel(object: K8sObject): void {
  new (kindOf(object).model as new (data: unknown) => ModelInstance)(object).validate();
}

/**
 * The paths (JSON pointer style) of fields in `object` that its schema does not define,
 * e.g. `/spec/concurrencypolicy`. The Kubernetes API server drops or refuses such fields,
 * so a misspelt one silently does nothing; kubernetes-models' validate() lets them through
 * because the OpenAPI schemas do not say `additionalProperties: false`.
 *
 * How: the package's compiled validator reads, on every object it checks, each property
 * its schema defines (and enumerates the keys of maps such as labels or resources). The
 * object is handed to it behind proxies that record those reads; a key that was never
 * read is not in the schema. An object the validator did not look into at all is
 * reported too: no schema described it.
 */
export function unknownFields(object: K8sObject): string[] {
  const { schema } = kindOf(object);
  const seen: { path: string; keys: string[]; read: Set<string>; enumerated: boolean }[] = [];
  const watch = (value: unknown, path: string): unknown => {
    if (Array.isArray(value)) return value.map((item, i) => watch(item, `${path}/${i}`));
    if (value === null || typeof value !== 'object') return value;
    const record = { path, keys: Object.keys(value), read: new Set<string>(), enumerated: false };
    seen.push(record);
    const copy = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, watch(v, `${path}/${k}`)]));
    return new Proxy(copy, {
      get(target, key, receiver) {
        if (typeof key === 'string') record.read.add(key);
        return Reflect.get(target, key, receiver) as unknown;
      },
      has(target, key) {
        if (typeof key === 'string') record.read.add(key);
        return Reflect.has(target, key);
      },
      ownKeys(target) {
        record.enumerated = true;
        return Reflect.ownKeys(target);
      },
    });
  };
  schema(watch(object, ''));
  const unknown: string[] = [];
  for (const r of seen) {
    if (r.enumerated) continue;
    if (r.read.size === 0) {
      if (r.keys.length > 0) unknown.push(`${r.path}/* (no schema describes this object)`);
      continue;
    }
    for (const key of r.keys) if (!r.read.has(key)) unknown.push(`${r.path}/${key}`);
  }
  return unknown;
}
