import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { ISecret } from 'kubernetes-models/v1/Secret';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { checkInvocation } from '../../src/cli/main.js';
import type { AuditReplayError } from '../../src/core/errors.js';
import { resolveShard, withShard } from '../../src/core/shard.js';
import { parseDuration } from '../../src/core/time.js';
import { cliArgs, containerView, K8S_DIR, loadManifests, workloads, type Manifest, type Workload } from './load-manifests.js';
import { unknownFields, validateModel, type K8sObject } from './validate-manifest.js';

const manifests = loadManifests();
const all = workloads(manifests);
const objectsOf = (kind: string): K8sObject[] => manifests.filter((m) => m.object.kind === kind).map((m) => m.object);
const cronJob = (): K8sObject => structuredClone(manifests.find((m) => m.object.kind === 'CronJob')!.object);
const indexed = all.filter((w) => w.job.completionMode === 'Indexed');
const containersOf = (w: Workload): IContainer[] => [...(w.pod.initContainers ?? []), ...w.pod.containers];
const envValue = (c: IContainer, name: string): string | undefined => c.env?.find((e) => e.name === name)?.value;

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'auditreplay-k8s-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** Parses a container's argv with the CLI's own parser, in the environment the pod would give it. */
async function invocation(w: Workload, container: IContainer, extraEnv: Record<string, string> = {}, args?: string[]) {
  const root = await mkdtemp(join(scratch, 'pod-'));
  const view = await containerView(manifests, w.pod, container, root);
  const env = { ...view.env, ...extraEnv };
  const argv = (args ?? cliArgs(container)).map(view.local);
  return { ...(await checkInvocation(argv, env)), env };
}

/** The env an Indexed Job's pod gets from Kubernetes itself, for shard `index`. */
const indexEnv = (w: Workload, index = 0): Record<string, string> => (w.job.completionMode === 'Indexed' ? { JOB_COMPLETION_INDEX: String(index) } : {});

/**
 * Where a config file may leak a password: a URL with a password or a password parameter,
 * or a key named like a credential. Returns the offending paths.
 */
function passwordsIn(value: unknown, path = ''): string[] {
  if (typeof value === 'string') {
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return [];
    const url = new URL(value);
    const hits: string[] = [];
    if (url.password !== '') hits.push(`${path}: password in URL`);
    for (const key of url.searchParams.keys()) if (/pass|secret|token|sig/i.test(key)) hits.push(`${path}: '${key}' parameter`);
    return hits;
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => passwordsIn(v, `${path}[${i}]`));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => [
      ...(/pass(word)?|secret|token|credential|access-key/i.test(k) ? [`${path}.${k}: credential-like key`] : []),
      ...passwordsIn(v, `${path}.${k}`),
    ]);
  }
  return [];
}

describe('the manifests in deploy/k8s', () => {
  it('hold the config, the Secret example, the nightly CronJob, the Indexed replay Job and the compare Job', () => {
    const kinds = manifests.map((m) => `${m.file}: ${m.object.kind}`).sort();
    expect(kinds).toEqual([
      'configmap.yaml: ConfigMap',
      'cronjob-sync.yaml: CronJob',
      'job-compare.yaml: Job',
      'job-replay-indexed.yaml: Job',
      'secret.example.yaml: Secret',
    ]);
  });

  it.each(manifests.map((m): [string, Manifest] => [`${m.file} ${m.object.kind}`, m]))(
    '%s validates against the Kubernetes schema and has no field the schema does not define',
    (_label, { object }) => {
      expect(() => validateModel(object)).not.toThrow();
      expect(unknownFields(object)).toEqual([]);
    },
  );

  it('catches a misspelt field that the schema validation alone lets through', () => {
    const bad = cronJob() as K8sObject & { spec: Record<string, unknown> };
    bad.spec.concurrencypolicy = bad.spec.concurrencyPolicy;
    delete bad.spec.concurrencyPolicy;
    // The typo that matters most: the setting silently does not apply.
    const container = (bad.spec.jobTemplate as { spec: { template: { spec: IPodSpec } } }).spec.template.spec.containers[0]!;
    const securityContext = container.securityContext as Record<string, unknown>;
    securityContext.readonlyRootFilesystem = securityContext.readOnlyRootFilesystem;
    delete securityContext.readOnlyRootFilesystem;
    expect(() => validateModel(bad)).not.toThrow();
    expect(unknownFields(bad)).toEqual(['/spec/concurrencypolicy', '/spec/jobTemplate/spec/template/spec/containers/0/securityContext/readonlyRootFilesystem']);
  });

  it('rejects a field of the wrong type and a value outside an enum', () => {
    const wrongType = cronJob() as K8sObject & { spec: { jobTemplate: { spec: Record<string, unknown> } } };
    wrongType.spec.jobTemplate.spec.backoffLimit = 'three';
    expect(() => validateModel(wrongType)).toThrow(/backoffLimit.*integer/s);
    const wrongEnum = cronJob() as K8sObject & { spec: Record<string, unknown> };
    wrongEnum.spec.concurrencyPolicy = 'forbid';
    expect(() => validateModel(wrongEnum)).toThrow(/concurrencyPolicy/);
  });

  it('are all applied by kustomization.yaml except the Secret example and the one-off Jobs', () => {
    const kustomization = parse(readFileSync(join(K8S_DIR, 'kustomization.yaml'), 'utf8')) as { resources: string[]; images: { name: string }[] };
    for (const file of kustomization.resources) expect(existsSync(join(K8S_DIR, file)), file).toBe(true);
    expect(kustomization.resources.sort()).toEqual(['configmap.yaml', 'cronjob-sync.yaml']);
    const images = new Set(all.flatMap((w) => containersOf(w).map((c) => c.image!.replace(/:[^/:]+$/, ''))));
    expect([...images]).toEqual(kustomization.images.map((i) => i.name));
  });
});

describe('the policies the deployment relies on', () => {
  it('the sync CronJob never runs twice at once, retries, and is bounded in time', () => {
    const crons = all.filter((w) => w.object.kind === 'CronJob');
    expect(crons.map((w) => containersOf(w).map((c) => cliArgs(c)[0]))).toEqual([['sync']]);
    const spec = (crons[0]!.object as unknown as { spec: Record<string, unknown> }).spec;
    expect(spec.concurrencyPolicy).toBe('Forbid');
    expect(spec.startingDeadlineSeconds).toBeGreaterThan(0);
    expect(crons[0]!.job.backoffLimit).toBeGreaterThanOrEqual(1);
    expect(crons[0]!.job.activeDeadlineSeconds).toBeGreaterThan(0);
  });

  it('the replay Job is Indexed with AUDITREPLAY_SHARDS equal to its completions, and each shard writes its own outputs', async () => {
    expect(indexed.map((w) => cliArgs(w.pod.containers[0]!)[0])).toEqual(['replay']);
    for (const w of indexed) {
      expect(w.job.parallelism).toBe(w.job.completions);
      expect(w.job.backoffLimitPerIndex).toBeGreaterThanOrEqual(1);
      for (const c of containersOf(w)) {
        expect(envValue(c, 'AUDITREPLAY_SHARDS'), c.name).toBe(String(w.job.completions));
        // Each pod, as Kubernetes starts it: its own shard, and its own output objects.
        const outputs: string[] = [];
        for (let index = 0; index < w.job.completions!; index++) {
          const { values, env } = await invocation(w, c, indexEnv(w, index));
          const shard = resolveShard(values.shard as string | undefined, env);
          expect(shard).toEqual({ index, count: w.job.completions });
          for (const flag of ['out', 'rejects'] as const) if (values[flag] !== undefined) outputs.push(withShard(values[flag] as string, shard));
        }
        expect(outputs.length).toBeGreaterThanOrEqual(w.job.completions!);
        expect(new Set(outputs).size).toBe(outputs.length);
      }
    }
  });

  it('the compare Job reads, over the same window, every shard the replay Job writes', async () => {
    const compare = all.find((w) => cliArgs(w.pod.containers[0]!)[0] === 'compare')!;
    const replay = indexed[0]!;
    const c = (await invocation(compare, compare.pod.containers[0]!)).values;
    const r = (await invocation(replay, replay.pod.containers[0]!, indexEnv(replay))).values;
    expect(c.candidate).toBe((r.out as string).replace(/[^/]+$/, ''));
    expect([c.from, c.to]).toEqual([r.from, r.to]);
    // Rejects under the results prefix would be read as results.
    expect((r.rejects as string).startsWith(c.candidate as string)).toBe(false);
  });

  it.each(all.map((w): [string, Workload] => [w.label, w]))('%s runs as non-root on a read-only root file system with a writable /tmp', (_label, w) => {
    const pod = w.pod.securityContext ?? {};
    expect(pod.seccompProfile?.type).toBe('RuntimeDefault');
    // podFailurePolicy and backoffLimitPerIndex are refused by the API server with any other policy.
    if (w.job.podFailurePolicy || w.job.backoffLimitPerIndex !== undefined) expect(w.pod.restartPolicy).toBe('Never');
    for (const c of containersOf(w)) {
      const sc = c.securityContext ?? {};
      expect(sc.runAsNonRoot ?? pod.runAsNonRoot, c.name).toBe(true);
      expect(sc.runAsUser ?? pod.runAsUser, c.name).toBeGreaterThan(0);
      expect(sc.readOnlyRootFilesystem, c.name).toBe(true);
      expect(sc.allowPrivilegeEscalation, c.name).toBe(false);
      expect(sc.capabilities?.drop, c.name).toEqual(['ALL']);
      const tmp = c.volumeMounts?.find((m) => m.mountPath === '/tmp');
      expect(tmp?.readOnly ?? false, c.name).toBe(false);
      expect(w.pod.volumes?.find((v) => v.name === tmp?.name)?.emptyDir, c.name).toBeDefined();
      expect(envValue(c, 'TMPDIR'), c.name).toBe('/tmp');
    }
  });

  it('no password appears in the ConfigMap', () => {
    const configMaps = objectsOf('ConfigMap') as (K8sObject & IConfigMap)[];
    expect(configMaps.length).toBeGreaterThan(0);
    for (const cm of configMaps) {
      for (const [key, text] of Object.entries(cm.data ?? {})) expect(passwordsIn(parse(text) as unknown, key)).toEqual([]);
    }
  });

  it('the password check finds a password in a URL and a credential-like key', () => {
    const leaky = parse('target: postgres://sync:hunter2@db/app\nsync:\n  source: s3://b/p?X-Amz-Signature=abc\n  password: x\n') as unknown;
    expect(passwordsIn(leaky)).toEqual(['.target: password in URL', '.sync.source: \'X-Amz-Signature\' parameter', '.sync.password: credential-like key']);
  });

  it('every Secret the pods use is defined by secret.example.yaml, which holds PGPASSWORD and placeholders only', () => {
    const secrets = manifests.filter((m) => m.object.kind === 'Secret');
    expect(secrets.map((m) => m.file)).toEqual(['secret.example.yaml']);
    const defined = new Map(secrets.map((m) => [m.object.metadata!.name!, m.object as unknown as ISecret]));
    const used = all.flatMap((w) => [
      ...containersOf(w).flatMap((c) => [
        ...(c.envFrom ?? []).flatMap((f) => (f.secretRef ? [f.secretRef.name!] : [])),
        ...(c.env ?? []).flatMap((e) => (e.valueFrom?.secretKeyRef ? [e.valueFrom.secretKeyRef.name!] : [])),
      ]),
      ...(w.pod.volumes ?? []).flatMap((v) => (v.secret ? [v.secret.secretName!] : [])),
    ]);
    expect(used.length).toBeGreaterThanOrEqual(all.length);
    for (const name of used) expect(defined.has(name), name).toBe(true);
    for (const secret of defined.values()) {
      const values = secret.stringData ?? {};
      expect(Object.keys(values)).toContain('PGPASSWORD');
      // Flags are configuration: an AUDITREPLAY_* key here would hide one in a Secret.
      expect(Object.keys(values).filter((k) => k.startsWith('AUDITREPLAY_'))).toEqual([]);
      for (const [k, v] of Object.entries(values)) if (k !== 'AWS_REGION') expect(v, k).toMatch(/^<example: .*>$/);
    }
  });

  it('each pod gives SIGTERM time to drain: terminationGracePeriodSeconds exceeds the drain timeout', async () => {
    const drained: string[] = [];
    for (const w of all) {
      expect(w.pod.terminationGracePeriodSeconds, w.label).toBeDefined();
      for (const c of containersOf(w)) {
        const { command, values } = await invocation(w, c, indexEnv(w));
        if (typeof values.drainTimeout !== 'string') continue;
        drained.push(command);
        // 10 s beyond the drain for writing the results or committing the checkpoint.
        expect(w.pod.terminationGracePeriodSeconds! * 1000, w.label).toBeGreaterThanOrEqual(parseDuration(values.drainTimeout) + 10_000);
      }
    }
    // Both commands that stop gracefully are checked, not skipped for want of the flag.
    expect(drained).toEqual(expect.arrayContaining(['sync', 'replay']));
  });
});

describe("each container's command line", () => {
  it.each(all.flatMap((w) => containersOf(w).map((c): [string, string, Workload, IContainer] => [w.label, c.name, w, c])))(
    '%s container %s is a valid auditreplay invocation with its config file and env',
    async (_label, _name, w, c) => {
      const { command, values } = await invocation(w, c, indexEnv(w));
      expect(command).toBe(cliArgs(c)[0]);
      // The settings came from the mounted config file, not only from the args.
      expect(values.target ?? values.baselineLogs).toMatch(/^(postgres|s3):\/\//);
    },
  );

  it('a misspelt flag or config key fails the check', async () => {
    const w = all.find((x) => x.object.kind === 'CronJob')!;
    const c = w.pod.containers[0]!;
    await expect(invocation(w, c, {}, [...cliArgs(c), '--lookbak', '2h'])).rejects.toMatchObject({ code: 'usage', message: expect.stringMatching(/lookbak/) });
    const { env } = await containerView(manifests, w.pod, c, await mkdtemp(join(scratch, 'pod-')));
    await expect(checkInvocation(cliArgs(c), { ...env, AUDITREPLAY_LOOKBAK: '2h' })).rejects.toMatchObject({ code: 'usage' });
    const typo = join(scratch, 'typo.yaml');
    const configMap = objectsOf('ConfigMap')[0] as K8sObject & IConfigMap;
    await writeFile(typo, configMap.data!['auditreplay.yaml']!.replace('on-error:', 'on-eror:'));
    const err = (await checkInvocation(cliArgs(c), { ...env, AUDITREPLAY_CONFIG: typo }).catch((e: unknown) => e)) as AuditReplayError;
    expect(err.code).toBe('usage');
    expect(err.message).toMatch(/unknown key 'sync\.on-eror'/);
  });
});
