/**
 * fast-check arbitraries for hostile JSON text: written as text, not built as objects, so
 * duplicate keys, numbers beyond double range, lone surrogates and nesting thousands deep can
 * be said at all. Used by the telemetry and API fuzzers (test/fuzz/).
 */
import fc from 'fast-check';

/** Keys an object lookup could resolve through the prototype chain. */
export const PROTO_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'isPrototypeOf',
  '__defineGetter__',
  'toJSON',
  'then',
] as const;

/** Number texts JSON allows but JavaScript numbers cannot all hold. */
export const numberText: fc.Arbitrary<string> = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
  fc.integer().map(String),
  fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }).map(String),
  fc.constantFrom(
    '1e400',
    '-1e400',
    '1e-400',
    '-0',
    '0.0',
    '1E5',
    '9007199254740993',
    '4.9e-324',
    '1.7976931348623157e308',
    '0.1',
    '-1',
    '1796298000000.5',
  ),
);

const stringText: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }).map((s) => JSON.stringify(s)) },
  { weight: 1, arbitrary: fc.constantFrom('"\\u0000"', '"\\ud800"', '"\\udc00x"', '"2026-12-03T10:00:00Z"', '""') },
  // Huge strings, kept under the default 64 KiB packet limit with the rest of the payload.
  { weight: 1, arbitrary: fc.integer({ min: 257, max: 12_000 }).map((n) => JSON.stringify('é'.repeat(n))) },
);

/** Nesting far beyond any real payload: arrays, objects, or both. */
const deepText: fc.Arbitrary<string> = fc
  .tuple(fc.integer({ min: 1, max: 12_000 }), fc.constantFrom('[', '{"a":'))
  .map(([depth, open]) => `${open.repeat(depth)}1${(open === '[' ? ']' : '}').repeat(depth)}`);

export function keyText(known: readonly string[]): fc.Arbitrary<string> {
  return fc
    .oneof(
      { weight: 3, arbitrary: fc.constantFrom(...PROTO_KEYS, ...known) },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
    )
    .map((k) => JSON.stringify(k));
}

/** Any JSON value as text; object keys drawn from `known`, prototype names and anything. */
export function jsonText(known: readonly string[], maxDepth = 4): fc.Arbitrary<string> {
  const key = keyText(known);
  const { value } = fc.letrec<{ value: string }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', maxDepth, withCrossShrink: true },
      fc.constantFrom('true', 'false', 'null'),
      numberText,
      stringText,
      fc.array(tie('value'), { maxLength: 5 }).map((a) => `[${a.join(',')}]`),
      fc
        .array(fc.tuple(key, tie('value')), { maxLength: 6 })
        .map((e) => `{${e.map(([k, v]) => `${k}:${v}`).join(',')}}`),
      deepText,
    ),
  }));
  return value;
}

/** An object of `keys` (repeats allowed, so duplicate keys happen) with hostile values. */
export function objectText(keys: fc.Arbitrary<string>, value: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.array(fc.tuple(keys, value), { maxLength: 10 }).map((e) => `{${e.map(([k, v]) => `${k}:${v}`).join(',')}}`);
}
