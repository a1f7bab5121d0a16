import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expandInputs, isMultiInput } from '../../src/sinks/expand-inputs.js';
import { makeTree } from '../helpers/temp-tree.js';

/** Globs and prefixes naming the shard outputs of one run, expanded over a local folder. */

let root: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ root, cleanup } = await makeTree({
    'run/results-1-of-3.jsonl': '',
    'run/results-0-of-3.jsonl': '',
    'run/results-2-of-3.jsonl.gz': '',
    'run/results-0-of-3.jsonl.summary.json': '{}',
    'run/.results-9-of-9.jsonl.123.456.tmp': '',
    'run/.hidden.jsonl': '',
    'run/notes.txt': 'not results',
    'run/deeper/results-x.parquet': '',
    'run/deeper/more/results-y.arrows': '',
    'other/results.arrow': '',
  }));
});

afterAll(async () => {
  await cleanup?.();
});

describe('expandInputs', () => {
  it('expands a glob to the matching outputs, sorted by key', async () => {
    expect(await expandInputs(join(root, 'run/results-*-of-3.jsonl'))).toEqual([join(root, 'run/results-0-of-3.jsonl'), join(root, 'run/results-1-of-3.jsonl')]);
    expect(await expandInputs(join(root, 'run/results-?-of-3.jsonl*'))).toEqual([
      join(root, 'run/results-0-of-3.jsonl'),
      join(root, 'run/results-1-of-3.jsonl'),
      join(root, 'run/results-2-of-3.jsonl.gz'),
    ]);
  });

  it('matches folders in the pattern, one level for * and any depth for **', async () => {
    expect(await expandInputs(join(root, '*/results*.arrow'))).toEqual([join(root, 'other/results.arrow')]);
    expect(await expandInputs(join(root, 'run/**/results-*.{parquet,arrows}'))).toEqual([join(root, 'run/deeper/more/results-y.arrows'), join(root, 'run/deeper/results-x.parquet')]);
  });

  it('expands a prefix to every results object under it, at any depth, leaving summaries, temporary and hidden files out', async () => {
    expect(await expandInputs(join(root, 'run') + '/')).toEqual(
      ['deeper/more/results-y.arrows', 'deeper/results-x.parquet', 'results-0-of-3.jsonl', 'results-1-of-3.jsonl', 'results-2-of-3.jsonl.gz'].map((k) => join(root, 'run', k)),
    );
  });

  it('fails naming the pattern when nothing matches, or the folder is not there', async () => {
    await expect(expandInputs(join(root, 'run/nothing-*.jsonl'))).rejects.toThrow(expect.objectContaining({ code: 'usage', message: expect.stringContaining(`'${join(root, 'run/nothing-*.jsonl')}' matches no object`) as unknown }));
    await expect(expandInputs(join(root, 'missing') + '/')).rejects.toThrow(expect.objectContaining({ code: 'usage', message: expect.stringContaining('missing/\' holds no object') as unknown }));
    await expect(expandInputs(join(root, 'missing/*.jsonl'))).rejects.toThrow(/matches no object/);
  });

  it('leaves plain names, stdout and table URLs as they are, unchecked', async () => {
    for (const plain of [join(root, 'not-there.jsonl'), 's3://bucket/run/results.parquet', '-', 'postgres://u@h/db?table=replay.results&run=abc', 'postgres://u@h/db?table=replay.r*']) {
      expect(isMultiInput(plain), plain).toBe(false);
      expect(await expandInputs(plain)).toEqual([plain]);
    }
  });

  it('reads ? in an https URL as its query string (an Azure SAS), not as a glob', () => {
    expect(isMultiInput('https://acct.blob.core.windows.net/c/run/results.jsonl?sv=2024&sig=abc')).toBe(false);
    expect(isMultiInput('https://acct.blob.core.windows.net/c/run/?sv=2024&sig=abc')).toBe(true);
    expect(isMultiInput('s3://bucket/run/results-?.jsonl')).toBe(true);
  });
});
