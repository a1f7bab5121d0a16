import { AuditReplayError } from './errors.js';
import { fnv1a } from './random.js';

/**
 * One of `count` disjoint parts of the work; `index` is 0-based, as Kubernetes numbers
 * the pods of an Indexed Job (`JOB_COMPLETION_INDEX`).
 */
export interface Shard {
  index: number;
  count: number;
}

/** The whole work: what an unsharded run is. */
export const WHOLE: Shard = { index: 0, count: 1 };

const SHARD_TEXT = /^(\d+)\/(\d+)$/;

/** Parses `k/N` (0 <= k < N); anything else is a usage error naming `flag`. */
export function parseShard(text: string, flag = '--shard'): Shard {
  const m = SHARD_TEXT.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || !Number.isSafeInteger(index) || !Number.isSafeInteger(count) || count < 1 || index >= count) {
    throw new AuditReplayError('usage', `${flag} takes k/N with 0 <= k < N (k is 0-based, as JOB_COMPLETION_INDEX), not '${text}'`);
  }
  return { index, count };
}

/**
 * The shard of a pod of a Kubernetes Indexed Job: `JOB_COMPLETION_INDEX` (set by
 * Kubernetes) of `AUDITREPLAY_SHARDS` (the job's completions, set in its spec). Null
 * when neither is set; a usage error when only one is, or either is not a number in range.
 */
export function shardFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): Shard | null {
  const index = env.JOB_COMPLETION_INDEX?.trim() || undefined;
  const count = env.AUDITREPLAY_SHARDS?.trim() || undefined;
  if (index === undefined && count === undefined) return null;
  if (index === undefined || count === undefined) {
    const [set, unset] = index === undefined ? ['AUDITREPLAY_SHARDS', 'JOB_COMPLETION_INDEX'] : ['JOB_COMPLETION_INDEX', 'AUDITREPLAY_SHARDS'];
    throw new AuditReplayError('usage', `${set} is set but ${unset} is not: a sharded run needs both (the pod's index and the number of shards), or give --shard k/N`);
  }
  return parseShard(`${index}/${count}`, 'JOB_COMPLETION_INDEX/AUDITREPLAY_SHARDS');
}

/** The shard a run works on: the flag's value when given, else the environment's, else null (unsharded). */
export function resolveShard(flag: string | undefined, env: Readonly<Record<string, string | undefined>> = process.env): Shard | null {
  return flag === undefined ? shardFromEnv(env) : parseShard(flag, '--shard');
}

/** True when `key` belongs to `shard`: a stable hash (FNV-1a) of the key modulo the shard count, the same on every machine and run. */
export function inShard(key: string, shard: Shard): boolean {
  return shard.count === 1 || fnv1a(key) % shard.count === shard.index;
}

/** `k-of-N` (`0-of-1` when unsharded), the form `{shard}` takes in output names. */
export function shardLabel(shard: Shard | null): string {
  const s = shard ?? WHOLE;
  return `${s.index}-of-${s.count}`;
}

/** Replaces every `{shard}` in an output name by the shard's label, so each pod of one job config writes its own object. */
export function withShard(name: string, shard: Shard | null): string {
  return name.replaceAll('{shard}', shardLabel(shard));
}

/** Help of the `--shard` flag of extract and replay. */
export const SHARD_FLAG_HELP =
  'do shard k of N (0-based) of the work: extract reads the objects, replay the sessions, whose stable hash falls in it; ' +
  'default from JOB_COMPLETION_INDEX and AUDITREPLAY_SHARDS (a Kubernetes Indexed Job), else unsharded';

/** What output flags add to their help: the `{shard}` placeholder. */
export const SHARD_OUT_HELP = "; '{shard}' in it becomes the shard as k-of-N (0-of-1 unsharded), e.g. results-{shard}.jsonl";
