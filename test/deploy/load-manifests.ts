import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { ICronJob } from 'kubernetes-models/batch/v1/CronJob';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { ISecret } from 'kubernetes-models/v1/Secret';
import { parseAllDocuments } from 'yaml';
import { ROOT } from '../helpers/run-cli.js';
import type { K8sObject } from './validate-manifest.js';

export const K8S_DIR = join(ROOT, 'deploy', 'k8s');

/** Files of deploy/k8s that are not Kubernetes API objects. */
export const NOT_API_OBJECTS = new Set(['kustomization.yaml']);

/** How the image starts the CLI (its ENTRYPOINT); a container's argv must begin with it or with `auditreplay`. */
export const ENTRYPOINT = ['node', '/app/bin/auditreplay.js'];

/** One object of one manifest file. */
export interface Manifest {
  file: string;
  object: K8sObject;
}

/** Every YAML document of every manifest in deploy/k8s (kustomization.yaml aside); a YAML error throws. */
export function loadManifests(dir: string = K8S_DIR): Manifest[] {
  const manifests: Manifest[] = [];
  for (const file of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f) && !NOT_API_OBJECTS.has(f)).sort()) {
    for (const doc of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]!.message}`);
      const object = doc.toJS() as K8sObject | null;
      if (object !== null) manifests.push({ file, object });
    }
  }
  return manifests;
}

/** A pod template of a CronJob or Job, with what the checks need around it. */
export interface Workload {
  /** `cronjob-sync.yaml CronJob/auditreplay-sync`, for test names. */
  label: string;
  object: K8sObject;
  pod: IPodSpec;
  /** The Job's spec (a CronJob's job template). */
  job: IJob['spec'] & object;
}

/** The pod templates of every CronJob and Job. */
export function workloads(manifests: Manifest[]): Workload[] {
  const found: Workload[] = [];
  for (const { file, object } of manifests) {
    const label = `${file} ${object.kind}/${object.metadata?.name ?? '?'}`;
    if (object.kind === 'CronJob') {
      const job = (object as unknown as ICronJob).spec.jobTemplate.spec!;
      found.push({ label, object, job, pod: job.template.spec! });
    } else if (object.kind === 'Job') {
      const job = (object as unknown as IJob).spec!;
      found.push({ label, object, job, pod: job.template.spec! });
    }
  }
  return found;
}

/** A container's command line without the launcher: `['sync', ...]`. Throws if it does not start the CLI. */
export function cliArgs(container: IContainer): string[] {
  const argv = [...(container.command ?? ENTRYPOINT), ...(container.args ?? [])];
  if (ENTRYPOINT.every((part, i) => argv[i] === part)) return argv.slice(ENTRYPOINT.length);
  if (argv[0] === 'auditreplay') return argv.slice(1);
  throw new Error(`container ${container.name} does not run auditreplay: ${argv.join(' ')}`);
}

function secretData(secret: ISecret): Record<string, string> {
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries(secret.data ?? {})) data[k] = Buffer.from(v, 'base64').toString('utf8');
  return { ...data, ...secret.stringData };
}

function named<T extends K8sObject>(manifests: Manifest[], kind: string, name: string): T | undefined {
  return manifests.find((m) => m.object.kind === kind && m.object.metadata?.name === name)?.object as T | undefined;
}

/**
 * What a container would see, rebuilt on this machine under `root`: the ConfigMaps mounted
 * into it written as files under `root` + their mount path, and its environment from
 * `env` and `envFrom` (ConfigMaps, and the Secrets' example values), with paths inside
 * those mounts pointing at the copies. `local` maps a container path the same way, for
 * args. A reference to a ConfigMap, Secret or key that no manifest defines throws.
 */
export async function containerView(
  manifests: Manifest[],
  pod: IPodSpec,
  container: IContainer,
  root: string,
): Promise<{ env: Record<string, string>; local: (path: string) => string }> {
  const mounts: string[] = [];
  for (const mount of container.volumeMounts ?? []) {
    const volume = (pod.volumes ?? []).find((v) => v.name === mount.name);
    if (!volume) throw new Error(`volumeMount ${mount.name} has no volume`);
    if (!volume.configMap) continue;
    const configMap = named<K8sObject & IConfigMap>(manifests, 'ConfigMap', volume.configMap.name!);
    if (!configMap) throw new Error(`volume ${volume.name}: no ConfigMap ${volume.configMap.name}`);
    const data = configMap.data ?? {};
    const items = volume.configMap.items ?? Object.keys(data).map((key) => ({ key, path: key }));
    for (const item of items) {
      const text = data[item.key];
      if (text === undefined) throw new Error(`volume ${volume.name}: ConfigMap ${configMap.metadata?.name} has no key ${item.key}`);
      const file = join(root, mount.mountPath, item.path);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, text);
    }
    mounts.push(mount.mountPath);
  }
  const local = (path: string): string => (mounts.some((m) => path === m || path.startsWith(`${m}/`)) ? join(root, path) : path);

  const lookup = (kind: 'Secret' | 'ConfigMap', name: string): Record<string, string> => {
    const object = named<K8sObject>(manifests, kind, name);
    if (!object) throw new Error(`container ${container.name}: no ${kind} ${name}`);
    return kind === 'Secret' ? secretData(object as unknown as ISecret) : ((object as unknown as IConfigMap).data ?? {});
  };
  const env: Record<string, string> = {};
  // As the kubelet: envFrom first, then env, which wins.
  for (const from of container.envFrom ?? []) {
    const source = from.secretRef ? lookup('Secret', from.secretRef.name!) : from.configMapRef ? lookup('ConfigMap', from.configMapRef.name!) : {};
    for (const [k, v] of Object.entries(source)) env[`${from.prefix ?? ''}${k}`] = v;
  }
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env[e.name] = local(e.value);
    else if (e.valueFrom?.secretKeyRef || e.valueFrom?.configMapKeyRef) {
      const ref = e.valueFrom.secretKeyRef ?? e.valueFrom.configMapKeyRef!;
      const value = lookup(e.valueFrom.secretKeyRef ? 'Secret' : 'ConfigMap', ref.name!)[ref.key];
      if (value === undefined) throw new Error(`env ${e.name}: ${ref.name} has no key ${ref.key}`);
      env[e.name] = value;
    } else throw new Error(`env ${e.name}: only value, secretKeyRef and configMapKeyRef are rebuilt here`);
  }
  return { env, local };
}
