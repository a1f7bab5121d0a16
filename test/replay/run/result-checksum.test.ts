import { describe, expect, it } from 'vitest';
import { ResultChecksum, type ChecksumMode } from '../../../src/replay/run/result-checksum.js';

const FIELDS = [
  { name: 'id', typeId: 23 },
  { name: 'name', typeId: 25 },
];

function digest(rows: (string | null)[][], mode: ChecksumMode = 'rows', fields = FIELDS, batch = 2): string | null {
  const c = new ResultChecksum(mode);
  for (let i = 0; i < rows.length; i += batch) c.add(rows.slice(i, i + batch));
  return c.digest(fields);
}

describe('the result checksum', () => {
  const rows = [
    ['1', 'a'],
    ['2', 'b'],
    ['3', null],
    ['4', ''],
  ];

  it('is the same for the same rows in any order and any batching', () => {
    const d = digest(rows);
    expect(d).toMatch(/^[0-9a-f]{16}$/);
    expect(digest([...rows].reverse(), 'rows', FIELDS, 3)).toBe(d);
    expect(digest([rows[2]!, rows[0]!, rows[3]!, rows[1]!], 'rows', FIELDS, 1)).toBe(d);
  });

  it('tells apart a changed value, a missing row, a repeated row, NULL from empty, and shifted boundaries', () => {
    const d = digest(rows);
    expect(digest([['1', 'a'], ['2', 'B'], ['3', null], ['4', '']])).not.toBe(d);
    expect(digest(rows.slice(1))).not.toBe(d);
    expect(digest([...rows, ['1', 'a']])).not.toBe(d);
    expect(digest([['1', 'a'], ['2', 'b'], ['3', ''], ['4', '']])).not.toBe(d);
    expect(digest([['ab', 'c']])).not.toBe(digest([['a', 'bc']]));
    // Two identical rows do not cancel out (as XOR would).
    expect(digest([['1', 'a'], ['1', 'a']])).not.toBe(digest([]));
  });

  it('also covers the column names and types in full mode, and computes nothing with none', () => {
    const full = digest(rows, 'full');
    expect(full).toMatch(/^[0-9a-f]{16}-[0-9a-f]{8}$/);
    expect(full!.slice(0, 16)).toBe(digest(rows));
    expect(digest(rows, 'full', [{ name: 'id', typeId: 20 }, FIELDS[1]!])).not.toBe(full);
    expect(digest(rows, 'none')).toBeNull();
  });

  it('gives an empty result a checksum of its own', () => {
    expect(digest([])).toBe('0000000000000000');
  });
});
