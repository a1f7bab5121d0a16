import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AuditReplayError } from '../../src/core/errors.js';
import { inShard, parseShard, resolveShard, shardFromEnv, shardLabel, withShard, type Shard } from '../../src/core/shard.js';

const usageError = (pattern: RegExp) => expect.objectContaining({ name: 'AuditReplayError', code: 'usage', message: expect.stringMatching(pattern) as unknown });

/** The shards of a run split N ways. */
const shards = (count: number): Shard[] => Array.from({ length: count }, (_, index) => ({ index, count }));

describe('parseShard', () => {
  it('reads k/N with a 0-based k', () => {
    expect(parseShard('0/1')).toEqual({ index: 0, count: 1 });
    expect(parseShard('2/4')).toEqual({ index: 2, count: 4 });
    expect(parseShard(' 15/16 ')).toEqual({ index: 15, count: 16 });
  });

  it('refuses anything else with a usage error naming the flag', () => {
    for (const bad of ['4/4', '5/4', '0/0', '1', '1/', '/4', '-1/4', '1.5/4', 'a/b', '1/4/2', '', '1 / 4', '9007199254740993/9007199254740994']) {
      expect(() => parseShard(bad, '--shard'), bad).toThrow(usageError(/^--shard takes k\/N/));
    }
    expect(() => parseShard('3/2', '--my-flag')).toThrow(usageError(/^--my-flag .*'3\/2'/));
  });
});

describe('shardFromEnv', () => {
  it('reads the pod index of an Indexed Job and the shard count', () => {
    expect(shardFromEnv({ JOB_COMPLETION_INDEX: '1', AUDITREPLAY_SHARDS: '3' })).toEqual({ index: 1, count: 3 });
    expect(shardFromEnv({ JOB_COMPLETION_INDEX: '0', AUDITREPLAY_SHARDS: '1' })).toEqual({ index: 0, count: 1 });
  });

  it('is null when neither variable is set (or both are empty)', () => {
    expect(shardFromEnv({})).toBeNull();
    expect(shardFromEnv({ JOB_COMPLETION_INDEX: '', AUDITREPLAY_SHARDS: ' ' })).toBeNull();
  });

  it('refuses one variable without the other, naming both', () => {
    expect(() => shardFromEnv({ JOB_COMPLETION_INDEX: '1' })).toThrow(usageError(/JOB_COMPLETION_INDEX is set but AUDITREPLAY_SHARDS is not/));
    expect(() => shardFromEnv({ AUDITREPLAY_SHARDS: '3' })).toThrow(usageError(/AUDITREPLAY_SHARDS is set but JOB_COMPLETION_INDEX is not/));
  });

  it('refuses values out of range or not numbers, naming the variables', () => {
    for (const env of [
      { JOB_COMPLETION_INDEX: '3', AUDITREPLAY_SHARDS: '3' },
      { JOB_COMPLETION_INDEX: '0', AUDITREPLAY_SHARDS: '0' },
      { JOB_COMPLETION_INDEX: 'one', AUDITREPLAY_SHARDS: '3' },
      { JOB_COMPLETION_INDEX: '1', AUDITREPLAY_SHARDS: 'three' },
    ]) {
      expect(() => shardFromEnv(env), JSON.stringify(env)).toThrow(usageError(/^JOB_COMPLETION_INDEX\/AUDITREPLAY_SHARDS takes k\/N/));
    }
  });
});

describe('resolveShard', () => {
  const env = { JOB_COMPLETION_INDEX: '1', AUDITREPLAY_SHARDS: '3' };

  it('takes the flag over the environment, the environment over nothing', () => {
    expect(resolveShard('0/2', env)).toEqual({ index: 0, count: 2 });
    expect(resolveShard(undefined, env)).toEqual({ index: 1, count: 3 });
    expect(resolveShard(undefined, {})).toBeNull();
  });

  it('does not look at a broken environment when the flag is given', () => {
    expect(resolveShard('0/2', { JOB_COMPLETION_INDEX: '7' })).toEqual({ index: 0, count: 2 });
    expect(() => resolveShard(undefined, { JOB_COMPLETION_INDEX: '7' })).toThrow(AuditReplayError);
  });
});

describe('inShard', () => {
  it('puts every key in exactly one shard, for every shard count', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.integer({ min: 1, max: 64 }), (key, count) => {
        expect(shards(count).filter((s) => inShard(key, s))).toHaveLength(1);
      }),
      { numRuns: 2000 },
    );
  });

  it('gives a key the same shard on every call', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 1, max: 16 }), (key, count) => {
        const first = shards(count).find((s) => inShard(key, s));
        for (let i = 0; i < 3; i++) expect(shards(count).find((s) => inShard(key, s))).toEqual(first);
      }),
    );
  });

  it('is FNV-1a (32-bit) of the key modulo N, so every machine and version agrees', () => {
    // Published FNV-1a test vectors: "a" -> 0xe40c292c, "foobar" -> 0xbf9cf968.
    for (const count of [2, 3, 4, 7, 16]) {
      expect(shards(count).findIndex((s) => inShard('a', s))).toBe(0xe40c292c % count);
      expect(shards(count).findIndex((s) => inShard('foobar', s))).toBe(0xbf9cf968 % count);
    }
  });

  it('spreads object-like keys evenly', () => {
    const counts = [0, 0, 0, 0];
    for (let day = 1; day <= 250; day++) {
      for (let h = 0; h < 4; h++) {
        const key = `ymd=2026-${String(1 + (day % 12)).padStart(2, '0')}-${String(day).padStart(3, '0')}/part-${h}.log.gz`;
        counts[shards(4).findIndex((s) => inShard(key, s))]!++;
      }
    }
    for (const c of counts) expect(c).toBeGreaterThan(200); // 1000 keys: 250 each when perfectly even
  });
});

describe('{shard} in output names', () => {
  it('becomes k-of-N, or 0-of-1 when unsharded', () => {
    expect(withShard('out/results-{shard}.jsonl', { index: 2, count: 4 })).toBe('out/results-2-of-4.jsonl');
    expect(withShard('s3://b/run/{shard}/results-{shard}.parquet', { index: 0, count: 3 })).toBe('s3://b/run/0-of-3/results-0-of-3.parquet');
    expect(withShard('results-{shard}.jsonl', null)).toBe('results-0-of-1.jsonl');
    expect(withShard('results.jsonl', { index: 1, count: 2 })).toBe('results.jsonl');
    expect(shardLabel(null)).toBe('0-of-1');
  });
});
