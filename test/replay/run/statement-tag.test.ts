import { describe, expect, it } from 'vitest';
import { parseTag, tagStatement } from '../../../src/replay/run/statement-tag.js';

describe('the replay tag', () => {
  it('puts the run and original id in a leading comment that a log line gives back', () => {
    const sql = tagStatement('SELECT 1', 'run-1', '6afc2331.bd2c:5');
    expect(sql).toBe('/* auditreplay run=run-1 orig=6afc2331.bd2c:5 */ SELECT 1');
    expect(parseTag(`2026-11-20 LOG:  statement: ${sql}`)).toEqual({ runId: 'run-1', originalId: '6afc2331.bd2c:5' });
  });

  it('encodes ids that could close the comment or split the tag, and decodes them back', () => {
    for (const id of ['a b', 'x*/DROP TABLE t;/*', 'ünï–cödé 😀', 'q%20', 'id#1', 'tab\there']) {
      const sql = tagStatement('SELECT 1', 'r 1', id);
      expect(sql.indexOf('*/')).toBe(sql.lastIndexOf('*/'));
      expect(sql.slice(0, sql.indexOf('*/'))).not.toMatch(/orig=\S*\s+\S*\s+\S/);
      expect(parseTag(sql)).toEqual({ runId: 'r 1', originalId: id });
    }
  });

  it('finds no tag in an untagged statement', () => {
    expect(parseTag('/* app=checkout */ SELECT 1')).toBeNull();
  });
});
