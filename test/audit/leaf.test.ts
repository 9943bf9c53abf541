// eslint-disable-next-line no-restricted-imports -- python3 hashes a few bytes
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, egressLeaf, entryLeafHash } from '../../src/audit/leaf.js';
import { leafHash } from '../../src/audit/merkle.js';

const hasPython = (() => {
  try {
    execFileSync('python3', ['--version']);
    return true;
  } catch {
    return false;
  }
})();

const sample = egressLeaf(
  {
    seq: 7,
    at: 1_763_900_000_123,
    oem: 'demo-oem',
    destination: 'oem.example:443',
    destinationIp: '203.0.113.7',
    destinationCountry: 'DE',
    recordId: '019ab-…',
    pseudonym: 'Zx9_-q',
    purpose: 'speed-profile',
    policyHash: `sha256:${'0'.repeat(64)}`,
    fieldsSent: ['Vehicle.Speed'],
    fieldsDropped: ['Account.Owner.Name', 'Vehicle.CurrentLocation.Latitude'],
    payloadSha256: 'ab'.repeat(32),
    payloadBytes: 210,
    outcome: 'failed',
    attempt: 2,
    httpStatus: null,
    error: 'HTTP 503 "busy"\n\u0001 ünïcode ✓',
  },
  6,
);

describe('leaf format', () => {
  it('is JSON with keys sorted at every depth and no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, 'x'], c: null } })).toBe('{"a":{"c":null,"d":[1,"x"]},"b":1}');
    const text = canonicalJson(sample);
    expect(text.startsWith('{"at":1763900000123,"attempt":2,"destination":')).toBe(true);
    expect(text).not.toMatch(/": |, /);
  });

  it('prints a flat leaf (fast path) exactly as the general canonical form does', () => {
    const scalar = fc.oneof(fc.string({ unit: 'binary' }), fc.maxSafeInteger(), fc.boolean(), fc.constant(null));
    fc.assert(
      fc.property(fc.dictionary(fc.string({ unit: 'binary' }), fc.oneof(scalar, fc.array(scalar))), (o) => {
        expect(canonicalJson({ x: o })).toBe(`{"x":${canonicalJson(o)}}`); // nested objects take the general path
      }),
    );
  });

  it('builds an egress leaf in canonical key order, so its canonical text is the plain JSON of it', () => {
    expect(JSON.stringify(sample)).toBe(canonicalJson(sample));
  });

  it('orders keys by code point where UTF-16 order differs (surrogates above U+E000)', () => {
    // U+1F600 (a surrogate pair) sorts after U+FFFD by code point, before it by UTF-16 unit.
    expect(canonicalJson({ '\u{1F600}': 1, '\uFFFD': 2, b: 3, a: 4 })).toBe('{"a":4,"b":3,"\uFFFD":2,"\u{1F600}":1}');
    expect(canonicalJson({ ab: 1, a: 2, '': 3 })).toBe('{"":3,"a":2,"ab":1}');
  });

  it('refuses numbers that languages print differently (fractions, huge integers)', () => {
    expect(() => canonicalJson({ x: 0.1 })).toThrow(/\$\.x: 0\.1 is not a safe integer/);
    expect(() => canonicalJson({ x: 2 ** 60 })).toThrow(/safe integer/);
    expect(() => canonicalJson({ x: undefined })).toThrow(/undefined cannot be in a leaf/);
  });

  it('hashes as RFC 9162 leaf: SHA-256(0x00 ‖ canonical JSON)', () => {
    expect(entryLeafHash(sample).equals(leafHash(Buffer.from(canonicalJson(sample), 'utf8')))).toBe(true);
    // A lone surrogate is printed escaped, so hashing the text and hashing its UTF-8 bytes agree.
    const odd = { ...sample, error: 'lone \uD800 surrogate' };
    expect(entryLeafHash(odd).equals(leafHash(Buffer.from(canonicalJson(odd), 'utf8')))).toBe(true);
  });

  it.runIf(hasPython)(
    'is what Python\'s json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False) prints, byte for byte',
    () => {
      const py = execFileSync(
        'python3',
        [
          '-c',
          'import json,sys; o=json.loads(sys.stdin.read()); sys.stdout.buffer.write(json.dumps(o, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))',
        ],
        { input: JSON.stringify(sample, null, 2) },
      );
      expect(py.toString('utf8')).toBe(canonicalJson(sample));
    },
  );
});
