/**
 * The right frontier of an RFC 9162 Merkle tree: what the egress log keeps to append a leaf and
 * compute the root without reading the tree. Pure, like merkle.ts, whose hashing it uses.
 */
import { ErrorCodes, ShekaraError } from '../errors.js';
import { emptyRoot, isTreeSize, nodeHash, popcount, proofError, requireHash } from './merkle.js';

export interface CompactRangeJSON {
  size: number;
  /** Roots of the perfect subtrees that make up the tree, largest (leftmost) first, hex. */
  hashes: string[];
}

/**
 * The right frontier of the tree: one root per perfect subtree in the binary decomposition
 * of `size` (popcount(size) hashes). Appending is O(log n) hashes, the root is O(log n).
 */
export class CompactRange {
  private constructor(
    private count: number,
    private readonly frontier: Buffer[],
  ) {}

  static empty(): CompactRange {
    return new CompactRange(0, []);
  }

  /** Restores persisted state; throws SHK_AUDIT_CHECKPOINT if it cannot be a valid frontier. */
  static fromJSON(json: CompactRangeJSON): CompactRange {
    function invalid(why: string): never {
      throw new ShekaraError(ErrorCodes.SHK_AUDIT_CHECKPOINT, `stored compact range is invalid: ${why}`);
    }
    const size: unknown = json?.size;
    const hashes: unknown = json?.hashes;
    if (!isTreeSize(size)) invalid(`size ${String(size)} is not a non-negative safe integer`);
    if (!Array.isArray(hashes)) invalid('hashes is not an array');
    // The frontier holds exactly one perfect-subtree root per 1 bit of the size.
    if (hashes.length !== popcount(size)) {
      invalid(`size ${size} needs ${popcount(size)} subtree hashes, got ${hashes.length}`);
    }
    const frontier = hashes.map((hex: unknown, i) => {
      if (typeof hex !== 'string' || !/^[0-9a-f]{64}$/.test(hex)) invalid(`hash ${i} is not 64 lowercase hex digits`);
      return Buffer.from(hex, 'hex');
    });
    return new CompactRange(size, frontier);
  }

  get size(): number {
    return this.count;
  }

  /**
   * Appends one leaf hash (already HASH(0x00 || leaf)); returns the new size. `onNode` sees
   * every perfect subtree root completed by this leaf (level ≥ 1; level 0 is the leaf itself),
   * so a store can keep them for O(log² n) proofs.
   */
  append(hash: Uint8Array, onNode?: (level: number, index: number, hash: Buffer) => void): number {
    requireHash('appended leaf hash', hash);
    if (this.count >= Number.MAX_SAFE_INTEGER) throw proofError('bad-input', 'tree is full');
    // Each trailing 1 bit of the old size is a perfect subtree of the new leaf's height:
    // merge it in, exactly like carrying in binary addition.
    let node: Buffer = Buffer.from(hash);
    let level = 0;
    for (let s = BigInt(this.count); (s & 1n) === 1n; s >>= 1n) {
      node = nodeHash(this.frontier.pop()!, node);
      level += 1;
      onNode?.(level, Math.floor(this.count / 2 ** level), node);
    }
    this.frontier.push(node);
    return ++this.count;
  }

  /** MTH of the tree at the current size. */
  root(): Buffer {
    let hash = this.frontier.at(-1);
    if (hash === undefined) return emptyRoot();
    for (let i = this.frontier.length - 2; i >= 0; i--) hash = nodeHash(this.frontier[i]!, hash);
    return hash;
  }

  toJSON(): CompactRangeJSON {
    return { size: this.count, hashes: this.frontier.map((h) => h.toString('hex')) };
  }
}
