/**
 * The console's in-browser checks (src/console/verify.js), run here on Node's WebCrypto against
 * the gateway's own Merkle code and signer: every inclusion and consistency proof of trees up to
 * 33 leaves verifies, and each with one hash changed, or against another root, does not; a
 * checkpoint signed by the log's key verifies, and one altered or signed by another key does not.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { consistencyProof, inclusionProof, leafHash, rootAt } from '../../src/audit/merkle.js';
import { signCheckpoint } from '../../src/audit/checkpoint.js';
import { generateSigningKey } from '../../src/audit/note.js';
import { canonicalJson as serverCanonical } from '../../src/audit/leaf.js';

type Bytes = Uint8Array;
interface Verify {
  verifyInclusion(i: number, n: number, h: Bytes, p: Bytes[], r: Bytes): Promise<boolean>;
  verifyConsistency(a: number, b: number, p: Bytes[], ra: Bytes, rb: Bytes): Promise<boolean>;
  canonicalJson(v: unknown): string;
  parseVerifierKey(k: string): Promise<{ name: string; id: string; pub: Bytes }>;
  verifyCheckpointNote(note: string, key: unknown): Promise<{ origin: string; size: number; root: Bytes }>;
}
const v = (await import(
  pathToFileURL(path.resolve(import.meta.dirname, '../../src/console/verify.js')).href
)) as Verify;

const leaves = Array.from({ length: 33 }, (_, i) => leafHash(Buffer.from(`leaf ${i}`)));
const flip = (b: Bytes) => {
  const c = Uint8Array.from(b);
  c[0]! ^= 1;
  return c;
};

describe('the console verifier (src/console/verify.js)', () => {
  it('accepts every RFC 9162 inclusion proof and refuses each altered one', async () => {
    for (let n = 1; n <= leaves.length; n++) {
      const root = rootAt(n, leaves);
      for (let i = 0; i < n; i++) {
        const proof = inclusionProof(i, n, leaves);
        expect(await v.verifyInclusion(i, n, leaves[i]!, proof, root), `leaf ${i} of ${n}`).toBe(true);
        if (proof.length > 0) {
          const bad = proof.map((p, k) => (k === proof.length - 1 ? flip(p) : p));
          expect(await v.verifyInclusion(i, n, leaves[i]!, bad, root)).toBe(false);
        }
        expect(await v.verifyInclusion(i, n, leaves[i]!, proof, flip(root))).toBe(false);
        if (n > 1) expect(await v.verifyInclusion((i + 1) % n, n, leaves[i]!, proof, root)).toBe(false);
      }
    }
  });

  it('accepts every RFC 9162 consistency proof and refuses each altered one', async () => {
    for (let b = 1; b <= leaves.length; b++)
      for (let a = 1; a <= b; a++) {
        const proof = consistencyProof(a, b, leaves);
        const [ra, rb] = [rootAt(a, leaves), rootAt(b, leaves)];
        expect(await v.verifyConsistency(a, b, proof, ra, rb), `${a} → ${b}`).toBe(true);
        expect(await v.verifyConsistency(a, b, proof, ra, flip(rb))).toBe(false);
        if (proof.length > 0)
          expect(await v.verifyConsistency(a, b, [flip(proof[0]!), ...proof.slice(1)], ra, rb)).toBe(false);
      }
  });

  it('prints leaves in the same canonical JSON as the gateway', () => {
    const leaf = { v: 1, kind: 'egress', z: 'é\u0001"', a: [1, 'x', null], n: { b: true, a: -5 } };
    expect(v.canonicalJson(leaf)).toBe(serverCanonical(leaf));
  });

  it('checks a checkpoint signature with Ed25519 and the key id', async () => {
    const { signerKey, verifierKey } = generateSigningKey('test.example/log');
    const key = await v.parseVerifierKey(verifierKey);
    const note = signCheckpoint({ origin: 'test.example/log', size: 33, rootHash: rootAt(33, leaves) }, signerKey);
    const cp = await v.verifyCheckpointNote(note, key);
    expect(cp.size).toBe(33);
    expect(Buffer.from(cp.root)).toEqual(rootAt(33, leaves));
    await expect(v.verifyCheckpointNote(note.replace('\n33\n', '\n34\n'), key)).rejects.toThrow('bad-signature');
    const other = await v.parseVerifierKey(generateSigningKey('test.example/log').verifierKey);
    await expect(v.verifyCheckpointNote(note, other)).rejects.toThrow('unknown-key');
    await expect(v.parseVerifierKey(verifierKey.replace(/\+[0-9a-f]{8}\+/, '+00000000+'))).rejects.toThrow(
      'malformed-key',
    );
  });
});
