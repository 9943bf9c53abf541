/** The egress log's Merkle tree in the store: one leaf per outcome, in the same transaction, proofs from stored nodes. */
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  consistencyProof,
  consistencyProofAsync,
  inclusionProof,
  inclusionProofAsync,
  rootFromLeafHashes,
  verifyConsistency,
  verifyInclusion,
  rootAtAsync,
} from '../../src/audit/merkle.js';
import { entryLeafHash } from '../../src/audit/leaf.js';
import { proofSource } from '../../src/audit/index.js';
import { egressOnce, tempStore, type TempStore } from './helpers.js';

const T0 = Date.UTC(2026, 10, 23, 10);
const VIN = 'LTEST000000000001';

describe('egress log › Merkle tree in the store', () => {
  let t: TempStore;
  beforeEach(() => {
    t = tempStore();
  });
  afterEach(() => t.dispose());

  const leafHashes = async () =>
    (await t.store.exportLeaves(-1, Number.MAX_SAFE_INTEGER, 1e9)).map((l) => entryLeafHash(l.entry));

  it('appends exactly one leaf per delivered, failed, dead-lettered and blocked outcome', async () => {
    const outcomes = ['delivered', 'failed', 'dead', 'blocked'] as const;
    for (const [i, outcome] of outcomes.entries())
      await egressOnce(t.store, { vin: `LTEST00000000000${i}`, at: T0 + i, outcome });
    expect((await t.store.counts()).egressLog).toBe(4);
    expect(await t.store.auditTreeSize()).toBe(4);
    const leaves = await t.store.exportLeaves(-1, 4, 100);
    expect(leaves.map((l) => l.entry.outcome)).toEqual(['delivered', 'failed', 'dead-lettered', 'blocked']);
    expect(leaves.map((l) => [l.index, l.entry.seq])).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
      [3, 4],
    ]);
    for (const l of leaves) expect(l.leafHash).toBe(entryLeafHash(l.entry).toString('hex'));
  });

  it('keeps the root equal to the RFC 9162 root of the leaves, across a reopen', async () => {
    for (let i = 0; i < 21; i++) await egressOnce(t.store, { vin: VIN, at: T0 + i });
    expect((await t.store.auditRoot()).equals(rootFromLeafHashes(await leafHashes()))).toBe(true);
    const before = await t.store.auditRoot();
    await t.reopen();
    expect(await t.store.auditTreeSize()).toBe(21);
    expect((await t.store.auditRoot()).equals(before)).toBe(true);
    await egressOnce(t.store, { vin: VIN, at: T0 + 99 });
    expect((await t.store.auditRoot()).equals(rootFromLeafHashes(await leafHashes()))).toBe(true);
  });

  it('never holds the VIN, only the pseudonym and the payload digest', async () => {
    await egressOnce(t.store, { vin: VIN, at: T0 });
    const [leaf] = await t.store.exportLeaves(-1, 1, 1);
    expect(JSON.stringify(leaf)).not.toContain(VIN);
    expect(leaf!.entry).toMatchObject({
      v: 1,
      kind: 'egress',
      pseudonym: 'p-000001',
      payloadSha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });

  it('rolls the leaf back with the outcome when the transaction fails, and appends correctly afterwards', async () => {
    await egressOnce(t.store, { vin: VIN, at: T0 });
    // Two rows still pending after a failed attempt (two vehicles, so both are due heads).
    const ids = [
      await egressOnce(t.store, { vin: VIN, at: T0 + 1, outcome: 'failed' }),
      await egressOnce(t.store, { vin: 'LTEST000000000002', at: T0 + 2, outcome: 'failed' }),
    ];
    const leased = await t.store.leaseDueOutbox(T0 + 10_000, 10, 1_000);
    const [row, other] = ids.map((id) => leased.find((r) => r.recordId === id)!);
    const good = (r: typeof row) => ({
      at: T0 + 3,
      oem: 'demo-oem',
      destination: 'd',
      destinationIp: null,
      destinationCountry: null,
      recordId: r!.recordId,
      pseudonym: 'p',
      purpose: r!.purpose,
      policyHash: r!.policyHash,
      fieldsSent: [],
      fieldsDropped: [],
      outcome: 'delivered' as const,
      attempt: 2,
      httpStatus: 200,
      error: null,
    });
    // The second settlement violates NOT NULL: the whole batch, the first leaf included, is rolled back.
    await expect(
      t.store.settleOutbox([
        { kind: 'delivered', outboxId: row!.id, entry: good(row) },
        { kind: 'delivered', outboxId: other!.id, entry: { ...good(other), oem: null as unknown as string } },
      ]),
    ).rejects.toThrow(/NOT NULL/);
    expect(await t.store.auditTreeSize()).toBe(3);
    expect((await t.store.counts()).egressLog).toBe(3);
    expect(await t.store.outboxState(row!.id)).toEqual({ status: 'pending', attempts: 1 });
    await t.store.settleOutbox([{ kind: 'delivered', outboxId: row!.id, entry: good(row) }]);
    expect(await t.store.auditTreeSize()).toBe(4);
    expect((await t.store.auditRoot()).equals(rootFromLeafHashes(await leafHashes()))).toBe(true);
  });

  it('refuses a row update or delete in the log and its tree (append-only)', async () => {
    await egressOnce(t.store, { vin: VIN, at: T0 });
    await egressOnce(t.store, { vin: VIN, at: T0 + 1 });
    await expect(
      t.store.putCheckpoint({ size: 2, root: await t.store.auditRoot(), signedAt: T0, note: 'n' }),
    ).resolves.toBeUndefined();
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

  it('serves inclusion and consistency proofs from stored subtree roots that equal the proofs from leaf hashes', async () => {
    for (let i = 0; i < 37; i++) await egressOnce(t.store, { vin: VIN, at: T0 + i });
    const hashes = await leafHashes();
    const source = await proofSource(t.store);
    for (const size of [1, 2, 3, 7, 8, 16, 31, 32, 33, 37]) {
      const root = rootFromLeafHashes(hashes.slice(0, size));
      expect((await rootAtAsync(size, source)).equals(root)).toBe(true);
      for (let i = 0; i < size; i++) {
        const proof = await inclusionProofAsync(i, size, source);
        expect(proof).toEqual(inclusionProof(i, size, hashes));
        expect(verifyInclusion(i, size, hashes[i]!, proof, root)).toBe(true);
      }
      for (let m = 1; m <= size; m++) {
        const proof = await consistencyProofAsync(m, size, source);
        expect(proof).toEqual(consistencyProof(m, size, hashes));
        expect(verifyConsistency(m, size, proof, rootFromLeafHashes(hashes.slice(0, m)), root)).toBe(true);
      }
    }
  });
});
