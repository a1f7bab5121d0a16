import { describe, expect, it } from 'vitest';
import { bindParameters, parseParameters } from '../../../src/replay/run/bind-parameters.js';

describe('bind parameters from a PostgreSQL log', () => {
  it("reads the detail's values as the server printed them", () => {
    const values = parseParameters("parameters: $1 = '42', $2 = NULL, $3 = 'it''s, a = ''test''', $10 = '{7,8,5}'");
    expect(values).toEqual(
      new Map([
        [1, "'42'"],
        [2, 'NULL'],
        [3, "'it''s, a = ''test'''"],
        [10, "'{7,8,5}'"],
      ]),
    );
    expect(parseParameters('parameters: $1 = 42')).toBeNull();
  });

  it('puts each value in place of its placeholder, and nowhere else', () => {
    const values = parseParameters("parameters: $1 = '7', $2 = 'x', $10 = NULL")!;
    expect(bindParameters("SELECT * FROM t WHERE id = $1 AND name <> '$1' /* $2 */ AND tag = $2 AND z IS NOT DISTINCT FROM $10 -- $1", values)).toBe(
      "SELECT * FROM t WHERE id = '7' AND name <> '$1' /* $2 */ AND tag = 'x' AND z IS NOT DISTINCT FROM NULL -- $1",
    );
    expect(bindParameters('SELECT $body$ $1 $body$, $1::int', values)).toBe("SELECT $body$ $1 $body$, '7'::int");
    expect(bindParameters('SELECT * FROM t WHERE a ? b', values)).toBe('SELECT * FROM t WHERE a ? b');
  });

  it('gives up when a placeholder has no value', () => {
    expect(bindParameters('SELECT $1, $3', parseParameters("parameters: $1 = '1'")!)).toBeNull();
  });
});
