/**
 * The egress log's leaves: what one entry says, and the exact bytes that are hashed.
 *
 * Leaf bytes = canonical JSON of the entry object (docs/audit.md "Leaf format"):
 *   - UTF-8, no whitespace, object keys sorted by code point, at every depth;
 *   - values are strings, safe integers, booleans, null, arrays and objects only: no
 *     fractions or exponents, so every language prints each number the same way;
 *   - strings escaped as JSON.stringify (ECMA-262 §25.5.2.2) does, which is what Python's
 *     `json.dumps(o, sort_keys=True, separators=(',', ':'), ensure_ascii=False)` prints too.
 * Leaf hash = SHA-256(0x00 ‖ leaf bytes), RFC 9162 §2.1.1.
 *
 * Every leaf has `v` (format version), `kind` and `index` (its position in the tree), so new
 * kinds (downlink commands, consent grants and revocations) fit without a new format: the
 * verifier hashes any kind the same way. A leaf never holds personal data: no VIN, no
 * payload, only the vehicle pseudonym and the payload's SHA-256.
 */
import * as crypto from 'node:crypto';
import { ErrorCodes, ShekaraError } from '../errors.js';
import { leafHash } from './merkle.js';

export const LEAF_VERSION = 1;

/**
 * 'egress': a delivery, failed attempt, dead letter or blocked attempt (egress_log).
 * The others are events (audit_events): 'access' a re-identification of a VIN; 'consent' a grant
 * or revocation; 'command' a downlink command allowed, blocked or acknowledged; 'objection' an
 * owner's objection to automated processing and its resolution; 'erasure' a vehicle's local
 * personal data erased on request; 'incident' a step of a personal-data incident (opened, notice
 * exported, closed).
 */
export type LeafKind = 'egress' | 'access' | 'consent' | 'command' | 'objection' | 'erasure' | 'incident';

/** Leaf kinds appended as events, apart from the egress outcomes. */
export type EventLeafKind = Exclude<LeafKind, 'egress'>;

export type CanonicalValue =
  string | number | boolean | null | readonly CanonicalValue[] | { readonly [k: string]: CanonicalValue };

/** Canonical JSON text of `value` (see the file comment). Throws on floats and undefined. */
export function canonicalJson(value: unknown, path = '$'): string {
  // Fast path for the common leaf shape — one object of scalars and arrays of scalars: the
  // engine's JSON.stringify with the sorted key list prints exactly the canonical form. A leaf
  // built with its keys already in that order (egressLeaf) needs no key list: the engine prints
  // own keys in Object.keys order, so plain JSON.stringify gives the same text, without a replacer.
  if (path === '$' && isFlatLeaf(value)) {
    const keys = Object.keys(value);
    return inCodePointOrder(keys) ? JSON.stringify(value) : JSON.stringify(value, sortedKeys(keys));
  }
  return canonicalSlow(value, path);
}

/**
 * Every leaf of one kind has the same keys in the same order, so their canonical order is found
 * once per key list and kept: the self-check and the writer hash thousands of leaves a second,
 * and sorting each leaf's keys was half the cost of printing it. The key list is the replacer,
 * so the engine prints the keys in exactly that order (integer-like keys too).
 */
const sortedKeyLists: [given: readonly string[], sorted: string[]][] = [];
/** Enough for every leaf kind; a store with many odd entries (edited ones) must not grow it without end. */
const MAX_KEY_LISTS = 64;

function sortedKeys(keys: readonly string[]): string[] {
  // Object.keys returns internalized strings: comparing two lists of one kind is pointer compares.
  for (const [given, sorted] of sortedKeyLists)
    if (given.length === keys.length && given.every((k, i) => k === keys[i])) return sorted;
  const sorted = [...keys].sort(byCodePoint);
  if (sortedKeyLists.length >= MAX_KEY_LISTS) sortedKeyLists.length = 0;
  sortedKeyLists.push([keys, sorted]);
  return sorted;
}

function inCodePointOrder(keys: readonly string[]): boolean {
  for (let i = 1; i < keys.length; i++) if (byCodePoint(keys[i - 1]!, keys[i]!) >= 0) return false;
  return true;
}

function isFlatLeaf(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const scalar = (v: unknown) =>
    v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isSafeInteger(v));
  for (const v of Object.values(value)) {
    if (scalar(v)) continue;
    if (!Array.isArray(v) || !v.every(scalar)) return false;
  }
  return true;
}

function canonicalSlow(value: unknown, path: string): string {
  if (value === null || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value))
      throw leafError(`${path}: ${value} is not a safe integer; leaves hold integers only`);
    return String(value);
  }
  if (Array.isArray(value)) return `[${value.map((v, i) => canonicalSlow(v, `${path}[${i}]`)).join(',')}]`;
  if (typeof value === 'object') {
    const keys = Object.keys(value as object).sort(byCodePoint);
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalSlow((value as Record<string, unknown>)[k], `${path}.${k}`)}`).join(',')}}`;
  }
  throw leafError(`${path}: a ${typeof value} cannot be in a leaf`);
}

/** The bytes that are hashed for `entry`. */
export function leafBytes(entry: Readonly<Record<string, unknown>>): Buffer {
  return Buffer.from(canonicalJson(entry), 'utf8');
}

/**
 * `crypto.hash` (Node ≥ 20.12; package.json allows 20.11) hashes a string in one call, several
 * times cheaper than a Hash object for an input of a leaf's size.
 */
const oneShotHash = (crypto as { hash?: typeof crypto.hash }).hash;

/** SHA-256(0x00 ‖ canonical JSON of `entry`). */
export function entryLeafHash(entry: Readonly<Record<string, unknown>>): Buffer {
  // RFC 9162 §2.1.1: the 0x00 prefix is U+0000, one byte in UTF-8; canonical JSON is well-formed
  // UTF-16 (JSON.stringify escapes lone surrogates), so the string encodes to exactly the leaf bytes.
  if (oneShotHash) return Buffer.from(oneShotHash('sha256', `\0${canonicalJson(entry)}`, 'hex'), 'hex');
  return leafHash(leafBytes(entry));
}

/**
 * What an egress-log row holds, as the leaf needs it. Spelled out here rather than derived from
 * the store's row type on purpose: the leaf format is a contract with regulators' verifiers, so
 * a change to the store's types must not change a leaf without a change to this file.
 */
export interface EgressLeafSource {
  readonly seq: number;
  readonly at: number;
  readonly oem: string;
  readonly destination: string;
  readonly destinationIp: string | null;
  readonly destinationCountry: string | null;
  readonly recordId: string;
  readonly pseudonym: string;
  readonly purpose: string;
  readonly policyHash: string;
  readonly fieldsSent: readonly string[];
  readonly fieldsDropped: readonly string[];
  readonly payloadSha256: string | null;
  readonly payloadBytes: number | null;
  readonly outcome: string;
  readonly attempt: number;
  readonly httpStatus: number | null;
  readonly error: string | null;
}

/**
 * An egress leaf's `payloadSha256` and `payloadBytes` of a body: SHA-256 (hex) of its UTF-8 bytes
 * and how many there are. The one definition: the delivery worker computes it from the body it
 * sends, the store from the stored body for outcomes that come without it; both MUST agree.
 */
export function payloadDigest(body: string): { payloadSha256: string; payloadBytes: number } {
  return {
    payloadSha256: oneShotHash
      ? oneShotHash('sha256', body, 'hex')
      : crypto.createHash('sha256').update(body, 'utf8').digest('hex'),
    payloadBytes: Buffer.byteLength(body, 'utf8'),
  };
}

/**
 * The leaf object of one delivery, failed attempt, dead letter or blocked attempt. Its keys are
 * written in code-point order, so canonicalJson prints it as built (the fast path above).
 */
export function egressLeaf(r: EgressLeafSource, index: number): Record<string, CanonicalValue> {
  return {
    at: r.at,
    attempt: r.attempt,
    destination: r.destination,
    destinationCountry: r.destinationCountry,
    destinationIp: r.destinationIp,
    error: r.error,
    fieldsDropped: [...r.fieldsDropped],
    fieldsSent: [...r.fieldsSent],
    httpStatus: r.httpStatus,
    index,
    kind: 'egress',
    oem: r.oem,
    outcome: r.outcome,
    payloadBytes: r.payloadBytes,
    payloadSha256: r.payloadSha256,
    policyHash: r.policyHash,
    pseudonym: r.pseudonym,
    purpose: r.purpose,
    recordId: r.recordId,
    seq: r.seq,
    v: LEAF_VERSION,
  };
}

/**
 * Code-point order (not UTF-16 unit order), so Python's sorted() agrees for any key. The two orders
 * differ only where a surrogate meets a unit at U+D800 or above; below that (every key Shekara
 * writes) the first differing unit decides, with no copies.
 */
const byCodePoint = (a: string, b: string): number => {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  if (i === n) return a.length - b.length;
  const [x, y] = [a.charCodeAt(i), b.charCodeAt(i)];
  if (x < 0xd800 && y < 0xd800) return x - y;
  const cx = [...a].map((c) => c.codePointAt(0)!);
  const cy = [...b].map((c) => c.codePointAt(0)!);
  for (let k = 0; k < Math.min(cx.length, cy.length); k++) if (cx[k] !== cy[k]) return cx[k]! - cy[k]!;
  return cx.length - cy.length;
};

function leafError(message: string): ShekaraError {
  return new ShekaraError(ErrorCodes.SHK_AUDIT_EXPORT, message, { details: { reason: 'not-canonical' } });
}
