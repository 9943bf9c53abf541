import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isShekaraError } from '../../src/errors.js';
import {
  consistencyProof,
  emptyRoot,
  inclusionProof,
  leafHash,
  rootFromLeafHashes,
  verifyConsistency,
  verifyInclusion,
} from '../../src/audit/merkle.js';
import { CompactRange } from '../../src/audit/compact-range.js';

// Vendored test vectors (test/fixtures/merkle/README.md names the source and license): a fresh
// clone verifies against the same outside reference.
const vectorDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'merkle');

interface InclusionVector {
  leafIdx: number;
  treeSize: number;
  root: string;
  leafHash: string;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
}
interface ConsistencyVector {
  size1: number;
  size2: number;
  root1: string;
  root2: string;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
}
type Loaded<T> = { file: string; vector: T };

/** Every JSON file under `kind/`, recursively. Throws (failing collection) rather than skip. */
function loadVectors<T>(kind: 'inclusion' | 'consistency'): Loaded<T>[] {
  const root = path.join(vectorDir, kind);
  if (!statSync(root, { throwIfNoEntry: false })?.isDirectory()) {
    throw new Error(`Merkle test vectors are missing: ${root} is not a directory`);
  }
  const files = (readdirSync(root, { recursive: true }) as string[]).filter((f) => f.endsWith('.json')).sort();
  if (files.length === 0) throw new Error(`Merkle test vectors are missing: no .json files under ${root}`);
  return files.map((file) => ({
    file: `${kind}/${file}`,
    vector: JSON.parse(readFileSync(path.join(root, file), 'utf8')) as T,
  }));
}

const b64 = (s: string): Buffer => Buffer.from(s, 'base64');
// Some happy-path vectors carry `"proof": null` for an empty proof (Go's nil slice).
const proofOf = (p: string[] | null): Buffer[] => (p ?? []).map(b64);

function outcome(check: () => unknown): 'accepted' | 'rejected' {
  try {
    check();
    return 'accepted';
  } catch (err) {
    if (isShekaraError(err, 'SHK_AUDIT_PROOF')) return 'rejected';
    throw err; // anything else is a bug in the verifier, not a rejection
  }
}

const inclusionVectors = loadVectors<InclusionVector>('inclusion');
const consistencyVectors = loadVectors<ConsistencyVector>('consistency');

describe('merkle › the shared RFC 9162 test vectors', () => {
  it('are present, with both accepting and rejecting cases of each kind', () => {
    for (const vectors of [inclusionVectors, consistencyVectors]) {
      expect(vectors.filter((v) => !v.vector.wantErr).length).toBeGreaterThan(0);
      expect(vectors.filter((v) => v.vector.wantErr).length).toBeGreaterThan(0);
    }
  });

  describe('inclusion', () => {
    for (const { file, vector: v } of inclusionVectors) {
      const want = v.wantErr ? 'rejected' : 'accepted';
      it(`${file} (${v.desc}) is ${want}`, () => {
        expect(
          outcome(() => verifyInclusion(v.leafIdx, v.treeSize, b64(v.leafHash), proofOf(v.proof), b64(v.root))),
        ).toBe(want);
      });
    }
  });

  describe('consistency', () => {
    for (const { file, vector: v } of consistencyVectors) {
      const want = v.wantErr ? 'rejected' : 'accepted';
      it(`${file} (${v.desc}) is ${want}`, () => {
        expect(outcome(() => verifyConsistency(v.size1, v.size2, proofOf(v.proof), b64(v.root1), b64(v.root2)))).toBe(
          want,
        );
      });
    }
  });
});

// The eight-leaf reference tree of RFC 6962's test suite, which the vectors are built on.
const referenceLeaves = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
].map((hex) => leafHash(Buffer.from(hex, 'hex')));
const referenceRoots = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

describe('merkle › the reference tree', () => {
  it('has the published root at every size from 1 to 8', () => {
    referenceRoots.forEach((hex, i) =>
      expect(rootFromLeafHashes(referenceLeaves.slice(0, i + 1)).toString('hex')).toBe(hex),
    );
  });

  it('yields exactly the proofs in the happy-path vectors', () => {
    for (const { vector: v } of inclusionVectors.filter((x) => x.file.match(/^inclusion\/\d\/happy-path/))) {
      expect(inclusionProof(v.leafIdx, v.treeSize, referenceLeaves)).toEqual(proofOf(v.proof));
    }
    for (const { vector: v } of consistencyVectors.filter((x) => x.file.match(/^consistency\/\d\/happy-path/))) {
      expect(consistencyProof(v.size1, v.size2, referenceLeaves)).toEqual(proofOf(v.proof));
    }
  });
});

const leavesUpTo = (n: number): Buffer[] =>
  Array.from({ length: n }, (_, i) => leafHash(Buffer.from(`egress leaf ${i}`)));

describe('merkle › roots', () => {
  it('the empty tree has the SHA-256 of the empty string as its root', () => {
    const sha256OfEmpty = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
    expect(emptyRoot().toString('hex')).toBe(sha256OfEmpty);
    expect(rootFromLeafHashes([]).toString('hex')).toBe(sha256OfEmpty);
    expect(CompactRange.empty().root().toString('hex')).toBe(sha256OfEmpty);
  });

  it('a compact range gives the same root as the recursive definition at every size from 0 to 200', () => {
    const leaves = leavesUpTo(200);
    const range = CompactRange.empty();
    for (let size = 0; size <= 200; size++) {
      expect(range.size).toBe(size);
      expect(range.root().toString('hex')).toBe(rootFromLeafHashes(leaves.slice(0, size)).toString('hex'));
      if (size < 200) range.append(leaves[size]!);
    }
  });

  it('a compact range restored from its JSON continues exactly where it left off', () => {
    const leaves = leavesUpTo(100);
    const range = CompactRange.empty();
    leaves.slice(0, 57).forEach((h) => range.append(h));
    const restored = CompactRange.fromJSON(JSON.parse(JSON.stringify(range)));
    expect(restored.toJSON()).toEqual(range.toJSON());
    leaves.slice(57).forEach((h) => restored.append(h));
    expect(restored.root()).toEqual(rootFromLeafHashes(leaves));
  });

  it('a stored compact range whose hash count does not fit its size is refused', () => {
    const state = CompactRange.empty();
    leavesUpTo(6).forEach((h) => state.append(h)); // 6 = 0b110: two subtrees
    const json = state.toJSON();
    expect(() => CompactRange.fromJSON({ size: 7, hashes: json.hashes })).toThrow(/needs 3 subtree hashes/);
    expect(() => CompactRange.fromJSON({ size: 6, hashes: [json.hashes[0]!, 'zz'] })).toThrow(/not 64 lowercase hex/);
    expect(() => CompactRange.fromJSON({ size: -1, hashes: [] })).toThrow(/non-negative safe integer/);
  });
});

describe('merkle › generated proofs', () => {
  const leaves = leavesUpTo(64);
  const roots = Array.from({ length: 65 }, (_, n) => rootFromLeafHashes(leaves.slice(0, n)));

  it('every inclusion proof in every tree of size 1 to 64 verifies', () => {
    for (let n = 1; n <= 64; n++) {
      for (let i = 0; i < n; i++) {
        expect(verifyInclusion(i, n, leaves[i]!, inclusionProof(i, n, leaves), roots[n]!)).toBe(true);
      }
    }
  });

  it('every consistency proof between sizes 1 to 64 verifies', () => {
    for (let n = 1; n <= 64; n++) {
      for (let m = 1; m <= n; m++) {
        expect(verifyConsistency(m, n, consistencyProof(m, n, leaves), roots[m]!, roots[n]!)).toBe(true);
      }
    }
  });

  it('an inclusion proof is rejected for another leaf, another index or another tree size', () => {
    const n = 37;
    for (let i = 0; i < n; i++) {
      const proof = inclusionProof(i, n, leaves);
      const other = (i + 1) % n;
      expect(outcome(() => verifyInclusion(i, n, leaves[other]!, proof, roots[n]!))).toBe('rejected');
      expect(outcome(() => verifyInclusion(other, n, leaves[i]!, proof, roots[n]!))).toBe('rejected');
      expect(outcome(() => verifyInclusion(i, n + 1, leaves[i]!, proof, roots[n + 1]!))).toBe('rejected');
    }
  });

  it('a consistency proof with any single flipped bit is rejected', () => {
    for (const [m, n] of [
      [3, 7],
      [4, 13],
      [21, 64],
      [1, 2],
    ] as const) {
      const proof = consistencyProof(m, n, leaves);
      proof.forEach((_, k) => {
        const tampered = proof.map((h, j) =>
          j === k ? Buffer.from(h.map((byte, b) => (b === 5 ? byte ^ 0x10 : byte))) : h,
        );
        expect(outcome(() => verifyConsistency(m, n, tampered, roots[m]!, roots[n]!))).toBe('rejected');
      });
    }
  });

  it('a rejection names what failed, in details.reason', () => {
    const reasonOf = (check: () => unknown): unknown => {
      try {
        check();
      } catch (err) {
        return isShekaraError(err, 'SHK_AUDIT_PROOF') ? err.details.reason : err;
      }
      return 'accepted';
    };
    const incl = inclusionProof(5, 20, leaves);
    const cons = consistencyProof(6, 20, leaves);
    const extra = leaves[0]!;
    expect(reasonOf(() => verifyInclusion(5, 20, leaves[5]!, [...incl, extra], roots[20]!))).toBe('proof-too-long');
    expect(reasonOf(() => verifyInclusion(5, 20, leaves[5]!, incl.slice(1), roots[20]!))).toBe('proof-too-short');
    expect(reasonOf(() => verifyInclusion(5, 20, leaves[5]!, incl, roots[19]!))).toBe('root-mismatch');
    expect(reasonOf(() => verifyInclusion(20, 20, leaves[5]!, incl, roots[20]!))).toBe('index-out-of-range');
    expect(reasonOf(() => verifyInclusion(5, 20, leaves[5]!.subarray(1), incl, roots[20]!))).toBe('bad-input');
    expect(reasonOf(() => verifyConsistency(6, 20, [...cons, extra], roots[6]!, roots[20]!))).toBe('proof-too-long');
    expect(reasonOf(() => verifyConsistency(6, 20, cons.slice(1), roots[6]!, roots[20]!))).toBe('proof-too-short');
    expect(reasonOf(() => verifyConsistency(6, 20, cons, roots[6]!, roots[19]!))).toBe('root-mismatch');
    expect(reasonOf(() => verifyConsistency(0, 20, [], roots[0]!, roots[20]!))).toBe('bad-sizes');
    expect(reasonOf(() => verifyConsistency(7, 6, [], roots[7]!, roots[6]!))).toBe('bad-sizes');
  });

  it('a proof is read through a LeafHashSource as well as from an array', () => {
    const source = { size: 64, leafHash: (i: number) => leaves[i]! };
    expect(inclusionProof(10, 50, source)).toEqual(inclusionProof(10, 50, leaves));
    expect(consistencyProof(10, 50, source)).toEqual(consistencyProof(10, 50, leaves));
  });

  it('a proof is not generated for sizes the RFC does not define', () => {
    expect(outcome(() => consistencyProof(0, 5, leaves))).toBe('rejected');
    expect(outcome(() => consistencyProof(6, 5, leaves))).toBe('rejected');
    expect(outcome(() => inclusionProof(5, 5, leaves))).toBe('rejected');
    expect(outcome(() => inclusionProof(0, 65, leaves))).toBe('rejected');
  });
});
