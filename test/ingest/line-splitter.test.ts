import { describe, expect, it } from 'vitest';
import { LineSplitter, type BadLine, type LineBatch } from '../../src/ingest/line-splitter.js';

function split(chunks: Buffer[], maxLineBytes?: number): { lines: [number, string | null][]; bad: BadLine[] } {
  const bad: BadLine[] = [];
  const s = new LineSplitter((b) => bad.push(b), maxLineBytes);
  const lines: [number, string | null][] = [];
  const take = (b: LineBatch | null) => b?.lines.forEach((l, i) => lines.push([b.first + i, l]));
  for (const c of chunks) take(s.push(c));
  take(s.end());
  return { lines, bad };
}

describe('LineSplitter', () => {
  it('numbers lines across chunk boundaries and keeps a last line without newline', () => {
    const { lines } = split([Buffer.from('one\ntw'), Buffer.from('o\nthr'), Buffer.from('ee')]);
    expect(lines).toEqual([
      [1, 'one'],
      [2, 'two'],
      [3, 'three'],
    ]);
  });

  it('strips CR of CRLF endings and a leading byte order mark', () => {
    const { lines } = split([Buffer.from('\ufeffa\r\nb\r\n')]);
    expect(lines).toEqual([
      [1, 'a'],
      [2, 'b'],
    ]);
  });

  it('joins a multi-byte character split between chunks', () => {
    const text = Buffer.from('é日本\n');
    const { lines, bad } = split([text.subarray(0, 1), text.subarray(1, 4), text.subarray(4)]);
    expect(lines).toEqual([[1, 'é日本']]);
    expect(bad).toEqual([]);
  });

  it('rejects only the line holding bytes that are not UTF-8', () => {
    const { lines, bad } = split([Buffer.concat([Buffer.from('good\n'), Buffer.from([0x62, 0xff, 0x61, 0x0a]), Buffer.from('also good\n')])]);
    expect(lines).toEqual([
      [1, 'good'],
      [2, null],
      [3, 'also good'],
    ]);
    expect(bad).toHaveLength(1);
    expect(bad[0]).toMatchObject({ line: 2, reason: 'invalid-utf8' });
    expect(bad[0]!.raw.equals(Buffer.from([0x62, 0xff, 0x61]))).toBe(true);
  });

  it('reports a line longer than the limit without buffering it, and goes on', () => {
    const { lines, bad } = split([Buffer.from('ok\n' + 'x'.repeat(40)), Buffer.from('y'.repeat(40)), Buffer.from('\nnext\n')], 64);
    expect(lines).toEqual([
      [1, 'ok'],
      [3, 'next'],
    ]);
    expect(bad).toMatchObject([{ line: 2, reason: 'malformed-line' }]);
  });

  it('keeps empty lines so numbering matches the file', () => {
    const { lines } = split([Buffer.from('a\n\nb\n')]);
    expect(lines).toEqual([
      [1, 'a'],
      [2, ''],
      [3, 'b'],
    ]);
  });
});
