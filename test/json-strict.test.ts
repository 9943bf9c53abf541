/** The strict JSON parser agrees with JSON.parse on valid input, and refuses what JSON.parse lets through. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonStrictError, parseStrictJson } from '../src/json-strict.js';

describe('strict JSON', () => {
  it.each([
    '{}',
    '[]',
    ' {"a" : [1, -2.5e3, 0, 1E-7, true, false, null, "x"] } ',
    '"esc \\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\ud83d\\ude97"',
    '{"Алматы":"🚗","nested":{"deep":[[{}]]}}',
    '-0',
    '12345678901234567890',
  ])('parses %s as JSON.parse does', (text) => {
    expect(parseStrictJson(text)).toEqual(JSON.parse(text));
  });

  it('returns objects without a prototype, keeping __proto__ and constructor as own keys', () => {
    const o = parseStrictJson('{"__proto__":{"polluted":1},"constructor":2}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(o)).toBeNull();
    expect(Object.keys(o)).toEqual(['__proto__', 'constructor']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    ['{"role":"regulator","role":"operator"}', '$.role', 'duplicate key'],
    ['{"a":{"b":1,"b":2}}', '$.a.b', 'duplicate key'],
    ['[{"x":1},{"y":1,"y":1}]', '$.1.y', 'duplicate key'],
    ['{"a b":1,"a b":2}', '$.<unnamed>', 'duplicate key'],
    ['{"n":1e400}', '$.n', 'number out of range'],
    ['['.repeat(65) + ']'.repeat(65), '$' + '.0'.repeat(64), 'nested deeper than 64'],
  ])('refuses %s at %s', (text, path, rule) => {
    expect(() => parseStrictJson(text)).toThrow(JsonStrictError);
    try {
      parseStrictJson(text);
    } catch (err) {
      expect(err).toMatchObject({ path, rule });
    }
  });

  it.each([
    '',
    '{',
    '{"a":}',
    '{"a":1,}',
    '[1,]',
    '01',
    '"\u0001"',
    "{'a':1}",
    'NaN',
    '1 2',
    '"\\x"',
    '"\\u12"',
    'tru',
  ])('refuses %j like JSON.parse, with a message holding no input', (text) => {
    expect(() => JSON.parse(text)).toThrow();
    expect(() => parseStrictJson(text)).toThrow(JsonStrictError);
  });

  it('agrees with JSON.parse on any JSON text, and on that text with bytes inserted or removed', () => {
    const edits = fc.array(
      fc.tuple(
        fc.nat(),
        fc.constantFrom('', '"', ',', '}', ']', '{', '[', ':', '\\', '-', '0', 'e', '.', ' ', 'tru'),
        fc.boolean(),
      ),
      { maxLength: 3 },
    );
    const texts = fc.tuple(fc.json(), edits).map(([text, es]) => {
      let s = text;
      for (const [at, insert, remove] of es) {
        const k = at % (s.length + 1);
        s = s.slice(0, k) + insert + s.slice(k + (remove ? 1 : 0));
      }
      return s;
    });
    fc.assert(
      fc.property(texts, (text) => {
        let expected: unknown;
        try {
          expected = JSON.parse(text);
        } catch {
          expect(() => parseStrictJson(text)).toThrow(JsonStrictError);
          return;
        }
        // Edits can make a duplicate key or a number too large for a double (`1e400`), which only
        // the strict parser refuses.
        try {
          expect(parseStrictJson(text)).toEqual(expected);
        } catch (err) {
          expect(['duplicate key', 'number out of range']).toContain((err as JsonStrictError).rule);
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('names the path down to an error through objects and arrays, names that are not identifiers hidden', () => {
    expect(() => parseStrictJson('{"a":[0,{"b c":{"d":[1,2,tru]}}]}')).toThrow(
      '$.a.1.<unnamed>.d.2: unexpected character at offset 25',
    );
    expect(() => parseStrictJson('{"a":{"b":[1 2]}}')).toThrow("$.a.b: expected ',' or ']' at offset 13");
    expect(() => parseStrictJson('{"a":{"b":1 "c":2}}')).toThrow("$.a: expected ',' or '}' at offset 12");
    expect(() => parseStrictJson('{"a":[-]}')).toThrow('$.a.0: bad number at offset 6');
    expect(() => parseStrictJson('{"k":{"__proto__":1}}', { reservedKeys: ['__proto__'] })).toThrow(
      '$.k.__proto__: reserved key',
    );
    expect(() => parseStrictJson('[[[]]]', { maxDepth: 2 })).toThrow('$.0.0: nested deeper than 2');
  });

  it('takes its root name from the caller', () => {
    expect(() => parseStrictJson('{"k":1,"k":2}', { root: 'body' })).toThrow('body.k: duplicate key');
  });
});
