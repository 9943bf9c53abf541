/** The strict JSON parser agrees with JSON.parse on valid input, and refuses what JSON.parse lets through. */
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

  it('takes its root name from the caller', () => {
    expect(() => parseStrictJson('{"k":1,"k":2}', { root: 'body' })).toThrow('body.k: duplicate key');
  });
});
