/**
 * RFC 9162 (Certificate Transparency v2) Merkle tree hashing, proofs and proof checks.
 *
 * Pure functions over SHA-256 hashes: no storage, no I/O. The egress log appends leaf
 * hashes to a CompactRange (compact-range.ts); proofs are built from the stored leaf hashes
 * and checked by the regulator's verifier with the same code.
 *
 * Tree sizes and indices are JavaScript numbers (safe integers, < 2^53); bit arithmetic
 * on them uses BigInt, because `>>` and `&` on numbers truncate to 32 bits.
 */
import { createHash } from 'node:crypto';
import { ErrorCodes, ShekaraError } from '../errors.js';

export const HASH_SIZE = 32;

const LEAF_PREFIX = Buffer.from([0x00]); // RFC 9162 §2.1.1
const NODE_PREFIX = Buffer.from([0x01]); // RFC 9162 §2.1.1

/** Where proof generation reads leaf hashes from (a store's table, or an array). */
export interface LeafHashSource {
  readonly size: number;
  leafHash(index: number): Uint8Array;
  /**
   * Optional: the stored root of the perfect subtree of 2^level leaves that starts at leaf
   * index·2^level (every one is produced once by {@link CompactRange.append}'s `onNode`).
   * With it a proof costs O(log² n) look-ups instead of O(n) hashes; undefined falls back.
   */
  perfectSubtree?(level: number, index: number): Uint8Array | undefined;
}

/**
 * A {@link LeafHashSource} whose look-ups are asynchronous (a store). Proofs over it make the
 * same look-ups as over a synchronous source, independent ones at once.
 */
export interface AsyncLeafHashSource {
  readonly size: number;
  leafHash(index: number): Promise<Uint8Array>;
  perfectSubtree?(level: number, index: number): Promise<Uint8Array | undefined>;
}

/** A subtree [start, end) whose root a proof needs. */
type Span = readonly [start: number, end: number];

/** HASH(0x00 || leaf), RFC 9162 §2.1.1. */
export function leafHash(leaf: Uint8Array): Buffer {
  return createHash('sha256').update(LEAF_PREFIX).update(leaf).digest();
}

/** HASH(0x01 || left || right), RFC 9162 §2.1.1. */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
}

/** MTH({}) = HASH(), the root of the empty tree (RFC 9162 §2.1.1). */
export function emptyRoot(): Buffer {
  return createHash('sha256').digest();
}

/**
 * MTH(D[n]) straight from the recursive definition of RFC 9162 §2.1.1. Deliberately
 * independent of CompactRange so that each can check the other. O(n) hashes.
 */
export function rootFromLeafHashes(hashes: readonly Uint8Array[]): Buffer {
  hashes.forEach((h, i) => requireHash(`leaf hash ${i}`, h));
  return hashes.length === 0 ? emptyRoot() : subtreeHash(arraySource(hashes), 0, hashes.length);
}

type Leaves = LeafHashSource | readonly Uint8Array[];

/** MTH(D[0:size]) over a source that may hold more leaves (RFC 9162 §2.1.1). */
export function rootAt(size: number, source: Leaves): Buffer {
  const leaves = toSource(source);
  requireTreeSize('tree size', size, leaves.size);
  return size === 0 ? emptyRoot() : subtreeHash(leaves, 0, size);
}

/** {@link rootAt} over an asynchronous source. */
export async function rootAtAsync(size: number, source: AsyncLeafHashSource): Promise<Buffer> {
  requireTreeSize('tree size', size, source.size);
  return size === 0 ? emptyRoot() : subtreeHashAsync(source, 0, size);
}

/**
 * PATH(m, D[n]) of RFC 9162 §2.1.3.1, leaf-side sibling first.
 * Cost: each sibling subtree is hashed from leaf hashes, O(n) hashes per proof. Fine for
 * exports and moderate logs; a store that serves many proofs should cache subtree roots.
 */
export function inclusionProof(index: number, treeSize: number, source: Leaves): Buffer[] {
  const leaves = toSource(source);
  return inclusionSpans(index, treeSize, leaves.size).map(([start, end]) => subtreeHash(leaves, start, end));
}

/** {@link inclusionProof} over an asynchronous source. */
export function inclusionProofAsync(index: number, treeSize: number, source: AsyncLeafHashSource): Promise<Buffer[]> {
  return spansAsync(source, () => inclusionSpans(index, treeSize, source.size));
}

/** The subtrees whose roots make up PATH(index, D[treeSize]), in proof order. */
function inclusionSpans(index: number, treeSize: number, available: number): Span[] {
  requireTreeSize('tree size', treeSize, available);
  if (!isTreeSize(index) || index >= treeSize) {
    throw proofError('index-out-of-range', `leaf index ${index} is not below tree size ${treeSize}`);
  }
  // Walk from the root down, collecting the sibling at each split; reversed at the end.
  const path: Span[] = [];
  let [start, end, m] = [0, treeSize, index];
  while (end - start > 1) {
    const k = largestPowerOfTwoBelow(end - start);
    if (m < k) {
      path.push([start + k, end]); // PATH(m, D[0:k]) : MTH(D[k:n])
      end = start + k;
    } else {
      path.push([start, start + k]); // PATH(m - k, D[k:n]) : MTH(D[0:k])
      [start, m] = [start + k, m - k];
    }
  }
  return path.reverse();
}

/**
 * PROOF(m, D[n]) of RFC 9162 §2.1.4.1, defined there for 0 < m < n; m = n gives the
 * empty proof. Same cost note as inclusionProof.
 */
export function consistencyProof(size1: number, size2: number, source: Leaves): Buffer[] {
  const leaves = toSource(source);
  return consistencySpans(size1, size2, leaves.size).map(([start, end]) => subtreeHash(leaves, start, end));
}

/** {@link consistencyProof} over an asynchronous source. */
export function consistencyProofAsync(size1: number, size2: number, source: AsyncLeafHashSource): Promise<Buffer[]> {
  return spansAsync(source, () => consistencySpans(size1, size2, source.size));
}

/** The subtrees whose roots make up PROOF(size1, D[size2]), in proof order. */
function consistencySpans(size1: number, size2: number, available: number): Span[] {
  requireTreeSize('size2', size2, available);
  if (!isTreeSize(size1) || size1 === 0 || size1 > size2) {
    throw proofError(
      'bad-sizes',
      `no consistency proof from size ${size1} to ${size2}: RFC 9162 §2.1.4.1 needs 0 < size1 <= size2`,
    );
  }
  const proof: Span[] = [];
  // `known` is SUBPROOF's b: true while the old tree is still a left edge of the walk.
  let [start, end, m, known] = [0, size2, size1, true];
  while (m !== end - start) {
    const k = largestPowerOfTwoBelow(end - start);
    if (m <= k) {
      proof.push([start + k, end]); // SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
      end = start + k;
    } else {
      proof.push([start, start + k]); // SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
      [start, m, known] = [start + k, m - k, false];
    }
  }
  if (!known) proof.push([start, end]); // SUBPROOF(m, D[m], false) = {MTH(D[m])}
  return proof.reverse();
}

/** RFC 9162 §2.1.3.2. Returns true or throws SHK_AUDIT_PROOF naming the failed check. */
export function verifyInclusion(
  leafIndex: number,
  treeSize: number,
  leafHashValue: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): true {
  const where = `leaf ${leafIndex} of tree size ${treeSize}`;
  if (!isTreeSize(leafIndex) || !isTreeSize(treeSize)) throw proofError('bad-input', `${where}: not safe integers`);
  // §2.1.3.2 step 1: leaf_index must be below tree_size.
  if (leafIndex >= treeSize)
    throw proofError('index-out-of-range', `leaf index ${leafIndex} is not below tree size ${treeSize}`);
  requireHash('leaf hash', leafHashValue);
  requireHash('expected root', root);
  proof.forEach((p, i) => requireHash(`inclusion proof hash ${i}`, p));
  // §2.1.3.2 steps 2-3.
  let fn = BigInt(leafIndex);
  let sn = BigInt(treeSize - 1);
  let r: Buffer = Buffer.from(leafHashValue);
  // §2.1.3.2 step 4.
  for (const p of proof) {
    // Step 4a: a hash beyond the root means the proof is too long for this tree size.
    if (sn === 0n)
      throw proofError('proof-too-long', `inclusion proof has too many hashes (${proof.length}) for ${where}`);
    if ((fn & 1n) === 1n || fn === sn) {
      r = nodeHash(p, r); // step 4b.i
      while ((fn & 1n) === 0n && fn !== 0n) [fn, sn] = [fn >> 1n, sn >> 1n]; // step 4b.ii
    } else {
      r = nodeHash(r, p); // step 4c
    }
    [fn, sn] = [fn >> 1n, sn >> 1n]; // step 4d
  }
  // §2.1.3.2 step 5: sn must have reached 0, and r must equal the root.
  if (sn !== 0n)
    throw proofError('proof-too-short', `inclusion proof has too few hashes (${proof.length}) for ${where}`);
  if (!r.equals(root))
    throw proofError('root-mismatch', `inclusion proof for ${where} does not lead to the expected root`);
  return true;
}

/** RFC 9162 §2.1.4.2. Returns true or throws SHK_AUDIT_PROOF naming the failed check. */
export function verifyConsistency(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): true {
  const where = `from size ${size1} to ${size2}`;
  if (!isTreeSize(size1) || !isTreeSize(size2))
    throw proofError('bad-input', `consistency ${where}: not safe integers`);
  // RFC 9162 §2.1.4.1 defines PROOF(m, D[n]) only for 0 < m: the empty tree proves nothing.
  if (size1 === 0) throw proofError('bad-sizes', `consistency ${where} is undefined: size1 is 0 (RFC 9162 §2.1.4.1)`);
  if (size1 > size2) throw proofError('bad-sizes', `consistency ${where} is undefined: size1 is greater than size2`);
  if (size1 === size2) {
    // SUBPROOF(m, D[m], true) = {} (§2.1.4.1): the same size must be the same tree.
    if (proof.length !== 0) throw proofError('proof-too-long', `sizes are equal (${size1}) but the proof is not empty`);
    if (Buffer.compare(root1, root2) !== 0)
      throw proofError('root-mismatch', `sizes are equal (${size1}) but the roots differ`);
    return true;
  }
  requireHash('root1', root1);
  requireHash('root2', root2);
  proof.forEach((p, i) => requireHash(`consistency proof hash ${i}`, p));
  // §2.1.4.2 step 1: an empty path cannot prove two different sizes consistent.
  if (proof.length === 0) throw proofError('proof-too-short', `consistency proof ${where} is empty`);
  // §2.1.4.2 step 2: a power-of-two first tree is itself a subtree, so its root seeds the path.
  const path = isPowerOfTwo(size1) ? [root1, ...proof] : [...proof];
  // §2.1.4.2 steps 3-4.
  let fn = BigInt(size1 - 1);
  let sn = BigInt(size2 - 1);
  while ((fn & 1n) === 1n) [fn, sn] = [fn >> 1n, sn >> 1n];
  // §2.1.4.2 step 5.
  let fr: Buffer = Buffer.from(path[0]!);
  let sr = fr;
  // §2.1.4.2 step 6.
  for (const c of path.slice(1)) {
    // Step 6a: a hash beyond the root means the proof is too long.
    if (sn === 0n)
      throw proofError('proof-too-long', `consistency proof ${where} has too many hashes (${proof.length})`);
    if ((fn & 1n) === 1n || fn === sn) {
      fr = nodeHash(c, fr); // step 6b.i
      sr = nodeHash(c, sr); // step 6b.ii
      while ((fn & 1n) === 0n && fn !== 0n) [fn, sn] = [fn >> 1n, sn >> 1n]; // step 6b.iii
    } else {
      sr = nodeHash(sr, c); // step 6c
    }
    [fn, sn] = [fn >> 1n, sn >> 1n]; // step 6d
  }
  // §2.1.4.2 step 7: sn must have reached 0, fr must equal first_hash and sr second_hash.
  if (sn !== 0n) throw proofError('proof-too-short', `consistency proof ${where} has too few hashes (${proof.length})`);
  if (!fr.equals(root1)) throw proofError('root-mismatch', `consistency proof ${where} does not reproduce root1`);
  if (!sr.equals(root2)) throw proofError('root-mismatch', `consistency proof ${where} does not reproduce root2`);
  return true;
}

// ---- helpers ----

function subtreeHash(leaves: LeafHashSource, start: number, end: number): Buffer {
  if (end - start === 1) {
    const h = leaves.leafHash(start);
    requireHash(`leaf hash ${start} from the source`, h);
    return Buffer.from(h);
  }
  const perfect = leaves.perfectSubtree && perfectAt(start, end);
  if (perfect) {
    const stored = leaves.perfectSubtree!(...perfect);
    if (stored) return storedSubtree(start, end, stored);
  }
  const k = largestPowerOfTwoBelow(end - start); // RFC 9162 §2.1.1: k < n <= 2k
  return nodeHash(subtreeHash(leaves, start, start + k), subtreeHash(leaves, start + k, end));
}

/** [level, index] when [start, end) is a perfect subtree a source may have stored. */
function perfectAt(start: number, end: number): [level: number, index: number] | undefined {
  const level = Math.log2(end - start); // exact for powers of two
  return Number.isInteger(level) && start % (end - start) === 0 ? [level, start / (end - start)] : undefined;
}

function storedSubtree(start: number, end: number, stored: Uint8Array): Buffer {
  requireHash(`subtree hash [${start}, ${end}) from the source`, stored);
  return Buffer.from(stored);
}

/** Invalid sizes reject (never throw synchronously), like every other failure of an async source. */
async function spansAsync(source: AsyncLeafHashSource, spans: () => Span[]): Promise<Buffer[]> {
  return Promise.all(spans().map(([start, end]) => subtreeHashAsync(source, start, end)));
}

/** {@link subtreeHash} over an asynchronous source: the same look-ups, siblings at once. */
async function subtreeHashAsync(leaves: AsyncLeafHashSource, start: number, end: number): Promise<Buffer> {
  if (end - start === 1) {
    const h = await leaves.leafHash(start);
    requireHash(`leaf hash ${start} from the source`, h);
    return Buffer.from(h);
  }
  const perfect = leaves.perfectSubtree && perfectAt(start, end);
  if (perfect) {
    const stored = await leaves.perfectSubtree!(...perfect);
    if (stored) return storedSubtree(start, end, stored);
  }
  const k = largestPowerOfTwoBelow(end - start);
  const [left, right] = await Promise.all([
    subtreeHashAsync(leaves, start, start + k),
    subtreeHashAsync(leaves, start + k, end),
  ]);
  return nodeHash(left, right);
}

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

const isPowerOfTwo = (n: number): boolean => popcount(n) === 1;
/** Number of 1 bits: a tree of `n` leaves is that many perfect subtrees. */
export const popcount = (n: number): number => BigInt(n).toString(2).replaceAll('0', '').length;

export function isTreeSize(n: unknown): n is number {
  return Number.isSafeInteger(n) && (n as number) >= 0;
}

function requireTreeSize(label: string, size: number, available: number): void {
  if (!isTreeSize(size)) throw proofError('bad-input', `${label} ${size} is not a non-negative safe integer`);
  if (size > available) throw proofError('bad-sizes', `${label} ${size} is beyond the ${available} leaves available`);
}

export function requireHash(label: string, hash: Uint8Array): void {
  if (!(hash instanceof Uint8Array) || hash.length !== HASH_SIZE) {
    const got = hash instanceof Uint8Array ? `${hash.length} bytes` : typeof hash;
    throw proofError('bad-input', `${label} must be a ${HASH_SIZE}-byte SHA-256 hash, got ${got}`);
  }
}

const arraySource = (hashes: readonly Uint8Array[]): LeafHashSource => ({
  size: hashes.length,
  leafHash: (i) => hashes[i]!,
});
const toSource = (source: Leaves): LeafHashSource =>
  Array.isArray(source) ? arraySource(source) : (source as LeafHashSource);

export function proofError(reason: string, message: string): ShekaraError {
  return new ShekaraError(ErrorCodes.SHK_AUDIT_PROOF, message, { details: { reason } });
}
