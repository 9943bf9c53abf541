/** The egress log's Merkle tree in the store: one leaf per outcome, in the same transaction, proofs from stored nodes. */
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { consistencyProof, inclusionProof, rootFromLeafHashes, verifyConsistency, verifyInclusion, rootAt } from '../../src/audit/merkle.js';
import { entryLeafHash } from '../../src/audit/leaf.js';
import { proofSource } from '../../src/audit/index.js';
import { egressOnce, tempStore, type TempStore } from './helpers.js';

const T0 = Date.UTC(2026, 10, 23, 10);
const VIN = 'LTEST000000000001';

describe('egress log › Merkle tree in the store', () => {
  let t: TempStore;
  beforeEach(() => { t = tempStore(); });
  afterEach(() => t.remove());

  const leafHashes = () => t.store.exportLeaves(-1, Number.MAX_SAFE_INTEGER, 1e9).map((l) => entryLeafHash(l.entry));

  it('appends exactly one leaf per delivered, failed, dead-lettered and blocked outcome', () => {
    const outcomes = ['delivered', 'failed', 'dead', 'blocked'] as const;
    outcomes.forEach((outcome, i) => egressOnce(t.store, { vin: `LTEST00000000000${i}`, at: T0 + i, outcome }));
    expect(t.store.counts().egressLog).toBe(4);
    expect(t.store.auditTreeSize()).toBe(4);
    const leaves = t.store.exportLeaves(-1, 4, 100);
    expect(leaves.map((l) => l.entry.outcome)).toEqual(['delivered', 'failed', 'dead-lettered', 'blocked']);
    expect(leaves.map((l) => [l.index, l.entry.seq])).toEqual([[0, 1], [1, 2], [2, 3], [3, 4]]);
    for (const l of leaves) expect(l.leafHash).toBe(entryLeafHash(l.entry).toString('hex'));
  });

  it('keeps the root equal to the RFC 9162 root of the leaves, across a reopen', () => {
    for (let i = 0; i < 21; i++) egressOnce(t.store, { vin: VIN, at: T0 + i });
    expect(t.store.auditRoot().equals(rootFromLeafHashes(leafHashes()))).toBe(true);
    const before = t.store.auditRoot();
    t.reopen();
    expect(t.store.auditTreeSize()).toBe(21);
    expect(t.store.auditRoot().equals(before)).toBe(true);
    egressOnce(t.store, { vin: VIN, at: T0 + 99 });
    expect(t.store.auditRoot().equals(rootFromLeafHashes(leafHashes()))).toBe(true);
  });

  it('never holds the VIN, only the pseudonym and the payload digest', () => {
    egressOnce(t.store, { vin: VIN, at: T0 });
    const [leaf] = t.store.exportLeaves(-1, 1, 1);
    expect(JSON.stringify(leaf)).not.toContain(VIN);
    expect(leaf!.entry).toMatchObject({ v: 1, kind: 'egress', pseudonym: 'p-000001', payloadSha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it('rolls the leaf back with the outcome when the transaction fails, and appends correctly afterwards', () => {
    egressOnce(t.store, { vin: VIN, at: T0 });
    const id = egressOnce(t.store, { vin: VIN, at: T0 + 1, outcome: 'failed' });
    const row = t.store.leaseDueOutbox(T0 + 10_000, 10, 1_000).find((r) => r.recordId === id)!;
    const good = { at: T0 + 2, oem: 'demo-oem', destination: 'd', destinationIp: null, destinationCountry: null, recordId: id, pseudonym: 'p', purpose: row.purpose,
      policyHash: row.policyHash, fieldsSent: [], fieldsDropped: [], outcome: 'delivered' as const, attempt: 2, httpStatus: 200, error: null };
    // The second settlement violates NOT NULL: the whole batch, the first leaf included, is rolled back.
    expect(() => t.store.settleOutbox([
      { kind: 'delivered', outboxId: row.id, entry: good },
      { kind: 'delivered', outboxId: row.id, entry: { ...good, oem: null as unknown as string } },
    ])).toThrow(/NOT NULL/);
    expect(t.store.auditTreeSize()).toBe(2);
    expect(t.store.counts().egressLog).toBe(2);
    t.store.settleOutbox([{ kind: 'delivered', outboxId: row.id, entry: good }]);
    expect(t.store.auditTreeSize()).toBe(3);
    expect(t.store.auditRoot().equals(rootFromLeafHashes(leafHashes()))).toBe(true);
  });

  it('refuses a row update or delete in the log and its tree (append-only)', () => {
    egressOnce(t.store, { vin: VIN, at: T0 });
    egressOnce(t.store, { vin: VIN, at: T0 + 1 });
    expect(() => t.store.putCheckpoint({ size: 2, root: t.store.auditRoot(), signedAt: T0, note: 'n' })).not.toThrow();
    const raw = new Database(t.file);
    try {
      expect(() => raw.prepare(`UPDATE egress_log SET oem = 'x'`).run()).toThrow(/append-only/);
      expect(() => raw.prepare(`DELETE FROM audit_leaves`).run()).toThrow(/append-only/);
      expect(() => raw.prepare(`UPDATE audit_nodes SET hash = x'00'`).run()).toThrow(/append-only/);
      expect(() => raw.prepare(`DELETE FROM audit_checkpoints`).run()).toThrow(/append-only/);
    } finally {
      raw.close();
    }
  });

  it('serves inclusion and consistency proofs from stored subtree roots that equal the proofs from leaf hashes', () => {
    for (let i = 0; i < 37; i++) egressOnce(t.store, { vin: VIN, at: T0 + i });
    const hashes = leafHashes();
    const source = proofSource(t.store);
    for (const size of [1, 2, 3, 7, 8, 16, 31, 32, 33, 37]) {
      const root = rootFromLeafHashes(hashes.slice(0, size));
      expect(rootAt(size, source).equals(root)).toBe(true);
      for (let i = 0; i < size; i++) {
        const proof = inclusionProof(i, size, source);
        expect(proof).toEqual(inclusionProof(i, size, hashes));
        expect(verifyInclusion(i, size, hashes[i]!, proof, root)).toBe(true);
      }
      for (let m = 1; m <= size; m++) {
        const proof = consistencyProof(m, size, source);
        expect(proof).toEqual(consistencyProof(m, size, hashes));
        expect(verifyConsistency(m, size, proof, rootFromLeafHashes(hashes.slice(0, m)), root)).toBe(true);
      }
    }
  });
});
