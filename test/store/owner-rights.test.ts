/**
 * The store side of owner rights (SQLite): consent validity periods, consent changes with their
 * leaves and their effect on the outbox, objections, and erasure as CONTRACTS.md states it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { EgressLogEntry, IngestItem, OutboxRow, Store } from '../../src/store/types.js';
import type { CanonicalRecord } from '../../src/record.js';
import { isShekaraError } from '../../src/errors.js';

const VIN1 = 'LSHKZ000000000001';
const VIN2 = 'LSHKZ000000000002';
const T0 = 1_800_000_000_000;
const actor = { source: 'owner-app', apiKey: 'k1', owner: 'o1' };
let seq = 0;
let store: Store;
afterEach(async () => { try { await store?.close(); } catch { /* closed */ } });

function record(vin: string, opts: { lat?: number; account?: Record<string, string> } = {}): CanonicalRecord {
  seq += 1;
  const signals: Record<string, number> = { 'Vehicle.Speed': 50 };
  if (opts.lat !== undefined) Object.assign(signals, { 'Vehicle.CurrentLocation.Latitude': opts.lat, 'Vehicle.CurrentLocation.Longitude': 76.9 });
  return { id: `r-${String(seq).padStart(6, '0')}`, vin, oem: 'acme', channel: 'mqtt', receivedAt: T0 + seq, observedAt: T0 + seq, signals, account: opts.account ?? {}, unknownKeys: [] };
}
function item(r: CanonicalRecord, purposes: string[] = ['speed']): IngestItem {
  return {
    kind: 'record', record: r, raw: Buffer.from(`raw of ${r.id}`),
    projections: purposes.map((purpose) => ({ recordId: r.id, oem: 'acme', purpose, policyHash: 'sha256:x', vehicle: `p-${r.vin.slice(-2)}`, observedAt: r.observedAt, signals: { 'Vehicle.Speed': 50 }, fieldsSent: ['Vehicle.Speed'], fieldsDropped: [] })),
  };
}
const entry = (row: OutboxRow, outcome: EgressLogEntry['outcome'] = 'delivered'): EgressLogEntry => ({
  at: T0 + 10_000, oem: row.oem, destination: 'oem.example:443', destinationIp: '203.0.113.7', destinationCountry: 'DE', recordId: row.recordId,
  pseudonym: row.pseudonym, purpose: row.purpose, policyHash: row.policyHash, fieldsSent: row.fieldsSent, fieldsDropped: row.fieldsDropped,
  outcome, attempt: row.attempts + 1, httpStatus: 200, error: null,
});
const allRows = async (s: Store, ids: number[]) => Promise.all(ids.map(async (id) => (await s.outboxState(id))?.status));

describe('consent validity (SQLite)', () => {
  it('a grant is in force from its time until validUntil (exclusive), revoked or not', async () => {
    store = openSqliteStore(':memory:');
    const q = { vin: VIN1, oem: 'acme', purpose: 'speed' };
    const g = await store.grantConsent({ ...q, atMs: 100, validUntil: 200, source: 'owner-app' });
    expect(g).toMatchObject({ grantedAt: 100, validUntil: 200, revokedAt: null, endedBy: null });
    expect(await Promise.all([99, 100, 199, 200].map((t) => store.isConsentGranted(VIN1, 'acme', 'speed', t)))).toEqual([false, true, true, false]);
    // A lapsed grant is not revoked: there is nothing in force to close.
    expect(await store.revokeConsent({ ...q, atMs: 250 })).toBe(0);
    expect((await store.listConsents(VIN1))[0]).toMatchObject({ revokedAt: null, endedBy: null });
  });

  it('a renewal supersedes the grant in force; the same period again changes nothing', async () => {
    store = openSqliteStore(':memory:');
    const q = { vin: VIN1, oem: 'acme', purpose: 'speed' };
    const a = await store.grantConsent({ ...q, atMs: 100, validUntil: 1_000 });
    expect((await store.grantConsent({ ...q, atMs: 150, validUntil: 1_000 })).id).toBe(a.id);
    const b = await store.grantConsent({ ...q, atMs: 200, validUntil: 400 });
    expect(b.id).not.toBe(a.id);
    expect((await store.listConsents(VIN1)).map((c) => [c.id, c.revokedAt, c.endedBy])).toEqual([[b.id, null, null], [a.id, 200, 'superseded']]);
    expect(await store.isConsentGranted(VIN1, 'acme', 'speed', 500)).toBe(false); // the shorter grant rules
    expect(await store.isConsentGranted(VIN1, 'acme', 'speed', 199)).toBe(true); // the history still answers for the past
  });

  it('a logged revocation closes the grant, blocks that vehicle\'s undelivered rows of that purpose only, and appends its leaf', async () => {
    store = openSqliteStore(':memory:');
    const [a, b, c, d] = [record(VIN1), record(VIN1), record(VIN1), record(VIN2)];
    await store.commitIngest([item(a!, ['speed', 'odometer']), item(b!, ['speed', 'odometer']), item(c!, ['speed']), item(d!, ['speed'])]);
    const rows = await store.leaseUnpublished(T0, 100, 1);
    const ids = Object.fromEntries(rows.map((r) => [`${r.recordId}/${r.purpose}`, r.id]));
    await store.recordDelivery(ids[`${a!.id}/speed`]!, entry(rows.find((r) => r.recordId === a!.id && r.purpose === 'speed')!));
    await store.markPublished([ids[`${b!.id}/speed`]!]);
    await store.grantConsentLogged({ vin: VIN1, oem: 'acme', purpose: 'speed', atMs: T0, validUntil: T0 + 1_000_000, pseudonym: 'p-01', actor });
    const size = await store.auditTreeSize();

    const r = await store.revokeConsentLogged({ vin: VIN1, oem: 'acme', purpose: 'speed', atMs: T0 + 500, pseudonym: 'p-01', actor });
    expect(r).toEqual({ revoked: 1, blockedPending: 2, leafIndex: size });
    expect(await store.isConsentGranted(VIN1, 'acme', 'speed', T0 + 500)).toBe(false);
    expect(await allRows(store, [`${a!.id}/speed`, `${b!.id}/speed`, `${c!.id}/speed`, `${a!.id}/odometer`, `${d!.id}/speed`].map((k) => ids[k]!)))
      .toEqual(['delivered', 'blocked', 'blocked', 'pending', 'pending']);
    expect((await store.exportLeaves(size - 1, size + 1, 1))[0]!.entry).toMatchObject({ kind: 'consent', action: 'revoke', pseudonym: 'p-01', revoked: 1, blockedPending: 2 });
    // A delivery that was already on the wire is logged, but never reopens the blocked row.
    const onTheWire = { id: ids[`${b!.id}/speed`]!, recordId: b!.id, oem: 'acme', purpose: 'speed', policyHash: 'sha256:x', pseudonym: 'p-01', fieldsSent: ['Vehicle.Speed'], fieldsDropped: [], body: '{}', attempts: 0 };
    await store.settleOutbox([{ kind: 'delivered', outboxId: onTheWire.id, entry: entry(onTheWire) }]);
    expect(await store.outboxState(onTheWire.id)).toEqual({ status: 'blocked', attempts: 0 });
    expect((await store.listEgressLog({ recordId: b!.id })).map((e) => e.outcome)).toEqual(['delivered']);
  });
});

describe('objections (SQLite)', () => {
  it('stop processing from receipt while open and for good when upheld; rejected lets it resume', async () => {
    store = openSqliteStore(':memory:');
    const open = (purpose: string, at: number, automated = true) => store.openObjection({ vin: VIN1, oem: 'acme', purpose, pseudonym: 'p-01', reason: 'no', receivedAt: at, dueAt: at + 259_200_000, automated, actor });
    const x = (await open('score', 100)).objection;
    expect(x).toMatchObject({ status: 'open', receivedAt: 100, dueAt: 259_200_100, answer: null, resolvedAt: null });
    expect(await Promise.all([99, 100].map((t) => store.isProcessingObjected(VIN1, 'acme', 'score', t)))).toEqual([false, true]);
    expect(await store.isProcessingObjected(VIN2, 'acme', 'score', 100)).toBe(false);
    expect(await store.isProcessingObjected(VIN1, 'acme', 'other', 100)).toBe(false);

    const r = await store.resolveObjection({ id: x.id, status: 'rejected', answer: 'not automated', resolvedAt: 200, actor: { source: 'operator', apiKey: 'op', owner: null } });
    expect(r!.objection).toMatchObject({ status: 'rejected', answer: 'not automated', resolvedAt: 200, resolvedBy: 'op' });
    expect(await store.isProcessingObjected(VIN1, 'acme', 'score', 300)).toBe(false);
    await expect(store.resolveObjection({ id: x.id, status: 'upheld', answer: 'x', resolvedAt: 300, actor })).rejects.toSatisfy((e) => isShekaraError(e, 'SHK_OBJECTION_RESOLVED'));
    expect(await store.resolveObjection({ id: 'nope', status: 'upheld', answer: 'x', resolvedAt: 300, actor })).toBeUndefined();

    const y = (await open('score', 400)).objection;
    await store.resolveObjection({ id: y.id, status: 'upheld', answer: 'agreed', resolvedAt: 500, actor });
    expect(await store.isProcessingObjected(VIN1, 'acme', 'score', 10_000)).toBe(true);

    const z = (await open('odometer', 600, false)).objection;
    expect((await store.listObjections({ status: 'open' })).map((o) => o.id)).toEqual([z.id]);
    expect((await store.listObjections({ overdueAt: 600 + 259_200_001 })).map((o) => o.id)).toEqual([z.id]);
    expect(await store.listObjections({ overdueAt: 600 + 259_200_000 })).toEqual([]);
    expect((await store.listObjections({ vin: VIN1 })).map((o) => o.id)).toEqual([x.id, y.id, z.id]);
    expect(await store.listObjections({ vin: VIN2 })).toEqual([]);
  });

  it('an objection to an automated purpose blocks that vehicle\'s queued rows of it; one to another purpose blocks nothing', async () => {
    store = openSqliteStore(':memory:');
    const [a, b] = [record(VIN1), record(VIN2)];
    await store.commitIngest([item(a!, ['score', 'odometer']), item(b!, ['score'])]);
    const open = (purpose: string, automated: boolean) => store.openObjection({ vin: VIN1, oem: 'acme', purpose, pseudonym: 'p-01', reason: 'no', receivedAt: T0, dueAt: T0 + 1, automated, actor });
    expect(await store.exportLeaves(-1, 1, 1)).toEqual([]);
    const first = await open('odometer', false);
    expect((await store.exportLeaves(first.leafIndex - 1, first.leafIndex + 1, 1))[0]!.entry).toMatchObject({ kind: 'objection', action: 'opened', automated: false, blockedPending: 0 });
    const second = await open('score', true);
    expect((await store.exportLeaves(second.leafIndex - 1, second.leafIndex + 1, 1))[0]!.entry).toMatchObject({ automated: true, blockedPending: 1 });
    expect((await store.counts()).outboxPending).toBe(2);
  });
});

describe('eraseVehicle (SQLite)', () => {
  it('removes one vehicle\'s records, raw payloads, route points, account data and quarantine; blocks what it has not sent; keeps the egress log', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'shekara-erasure-'));
    try {
      store = openSqliteStore(path.join(dir, 'shekara.db'));
      const a1 = record(VIN1, { lat: 43, account: { 'Account.Owner.Phone': '+77010000000' } });
      const a2 = record(VIN1, { lat: 44 });
      const a3 = record(VIN1);
      const b1 = record(VIN2, { lat: 45, account: { 'Account.Owner.Name': 'B' } });
      await store.commitIngest([item(a1), item(a2), item(a3), item(b1),
        { kind: 'quarantine', item: { id: 'qa', vin: VIN1, channel: 'mqtt', receivedAt: T0, reason: 'x', raw: Buffer.from('x') } },
        { kind: 'quarantine', item: { id: 'qb', vin: VIN2, channel: 'mqtt', receivedAt: T0, reason: 'x', raw: Buffer.from('x') } }]);
      const rows = await store.leaseUnpublished(T0, 100, 1);
      const rowOf = (r: CanonicalRecord) => rows.find((x) => x.recordId === r.id)!;
      await store.recordDelivery(rowOf(a1).id, entry(rowOf(a1)));
      await store.markPublished([rowOf(a3).id]);
      const rootBefore = await store.auditRoot();
      const sizeBefore = await store.auditTreeSize();

      expect(await store.eraseVehicle(VIN1)).toEqual({ records: 3, routePoints: 2, accountData: 1, quarantine: 1 });
      for (const r of [a1, a2, a3]) expect(await store.getRecord(r.id)).toBeUndefined();
      expect((await store.getRecord(b1.id))!.record).toEqual(b1);
      expect((await store.listQuarantine()).map((q) => q.id)).toEqual(['qb']);
      expect(await store.outboxState(rowOf(a1).id)).toEqual({ status: 'delivered', attempts: 1 });
      expect(await store.outboxState(rowOf(a2).id)).toEqual({ status: 'blocked', attempts: 0 });
      expect(await store.outboxState(rowOf(a3).id)).toEqual({ status: 'blocked', attempts: 0 });
      expect(await store.outboxState(rowOf(b1).id)).toEqual({ status: 'pending', attempts: 0 });
      expect((await store.dueOutboxHeads(T0 + 1_000_000, 10)).map((r) => r.recordId)).toEqual([b1.id]);
      expect(await store.auditRoot()).toEqual(rootBefore);
      expect(await store.auditTreeSize()).toBe(sizeBefore);
      expect(await store.listEgressLog()).toHaveLength(1);
      expect(await store.pseudonymsOfVin(VIN1)).toEqual([]);
      expect(await store.eraseVehicle(VIN1)).toEqual({ records: 0, routePoints: 0, accountData: 0, quarantine: 0 });

      // Reopened: the migrations are not applied twice, and new records of the vehicle are stored as usual.
      await store.close();
      store = openSqliteStore(path.join(dir, 'shekara.db'));
      const a4 = record(VIN1, { lat: 46 });
      await store.commitIngest([item(a4)]);
      expect((await store.getRecord(a4.id))!.record.vin).toBe(VIN1);
      expect(await store.listEgressLog()).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
