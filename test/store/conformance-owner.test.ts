/**
 * The store side of owner rights on every backend: consent validity periods, consent changes with
 * their leaves and their effect on the outbox (also with two instances at once), objections,
 * erasure as CONTRACTS.md states it, and the owner's report.
 */
import { describe, expect, it } from 'vitest';
import { isShekaraError } from '../../src/errors.js';
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite/index.js';
import { PG_MIGRATIONS } from '../../src/store/pg/index.js';
import type { CanonicalRecord } from '../../src/record.js';
import type { IngestItem, OutboxRow, Store } from '../../src/store/types.js';
import { backends, useBackend, record, projection, item, entry, deliver, T0, DAY, VIN1, VIN2 } from './backends.js';

const actor = { source: 'owner-app', apiKey: 'k1', owner: 'o1' };
/** One record with a projection per purpose, for the vehicle's default pseudonym (p-001 / p-002). */
const withPurposes = (r: CanonicalRecord, purposes: string[] = ['speed']): IngestItem =>
  item(
    r,
    purposes.map((purpose) => projection(r, { purpose })),
  );
const statuses = async (s: Store, ids: number[]) =>
  Promise.all(ids.map(async (id) => (await s.outboxState(id))?.status));

describe('owner rights: migrations', () => {
  it('records the owner-rights migrations under the same ids on both backends', () => {
    const ids = (ms: readonly { id: string }[]) =>
      ms
        .map((m) => m.id)
        .filter((id) => /^00(30|31|32)-/.test(id))
        .sort();
    expect(ids(PG_MIGRATIONS)).toEqual(['0030-consent-validity', '0031-objections', '0032-outbox-outlives-erasure']);
    expect(ids(PG_MIGRATIONS)).toEqual(ids(SQLITE_MIGRATIONS));
  });
});

describe.each(backends())('owner rights conformance: $name', (backend) => {
  const { fresh, second, forget } = useBackend(backend);

  describe('consent validity', () => {
    it('a grant is in force from its time until validUntil (exclusive), revoked or not', async () => {
      const store = await fresh();
      const q = { vin: VIN1, oem: 'acme', purpose: 'speed' };
      const g = await store.grantConsent({ ...q, atMs: 100, validUntil: 200, source: 'owner-app' });
      expect(g).toMatchObject({ grantedAt: 100, validUntil: 200, revokedAt: null, endedBy: null, source: 'owner-app' });
      expect(
        await Promise.all([99, 100, 199, 200].map((t) => store.isConsentGranted(VIN1, 'acme', 'speed', t))),
      ).toEqual([false, true, true, false]);
      // A lapsed grant is not revoked: there is nothing in force to close.
      expect(await store.revokeConsent({ ...q, atMs: 250 })).toBe(0);
      expect((await store.listConsents(VIN1))[0]).toMatchObject({ revokedAt: null, endedBy: null });
    });

    it('a renewal supersedes the grant in force; the same period again changes nothing', async () => {
      const store = await fresh();
      const q = { vin: VIN1, oem: 'acme', purpose: 'speed' };
      const a = await store.grantConsent({ ...q, atMs: 100, validUntil: 1_000 });
      expect((await store.grantConsent({ ...q, atMs: 150, validUntil: 1_000 })).id).toBe(a.id);
      const b = await store.grantConsent({ ...q, atMs: 200, validUntil: 400 });
      expect(b.id).not.toBe(a.id);
      expect((await store.listConsents(VIN1)).map((c) => [c.id, c.revokedAt, c.endedBy])).toEqual([
        [b.id, null, null],
        [a.id, 200, 'superseded'],
      ]);
      expect(await store.isConsentGranted(VIN1, 'acme', 'speed', 500)).toBe(false); // the shorter grant rules
      expect(await store.isConsentGranted(VIN1, 'acme', 'speed', 199)).toBe(true); // the history still answers for the past
      expect(await store.revokeConsent({ ...q, atMs: 300 })).toBe(1);
      expect((await store.listConsents(VIN1))[0]).toMatchObject({ id: b.id, revokedAt: 300, endedBy: 'revoked' });
    });

    it("a logged revocation closes the grant, blocks that vehicle's undelivered rows of that purpose only, and appends its leaf", async () => {
      const store = await fresh();
      const [a, b, c, d] = [record(), record(), record(), record({ vin: VIN2 })];
      await store.commitIngest([
        withPurposes(a!, ['speed', 'odometer']),
        withPurposes(b!, ['speed', 'odometer']),
        withPurposes(c!),
        withPurposes(d!),
      ]);
      const rows = await store.leaseUnpublished(T0, 100, 1);
      const ids = Object.fromEntries(rows.map((r) => [`${r.recordId}/${r.purpose}`, r.id]));
      await store.recordDelivery(
        ids[`${a!.id}/speed`]!,
        entry(rows.find((r) => r.recordId === a!.id && r.purpose === 'speed')!),
      );
      await store.markPublished([ids[`${b!.id}/speed`]!]);
      await store.grantConsentLogged({
        vin: VIN1,
        oem: 'acme',
        purpose: 'speed',
        atMs: T0,
        validUntil: T0 + 1_000_000,
        pseudonym: 'p-001',
        actor,
      });
      const size = await store.auditTreeSize();

      const r = await store.revokeConsentLogged({
        vin: VIN1,
        oem: 'acme',
        purpose: 'speed',
        atMs: T0 + 500,
        pseudonym: 'p-001',
        actor,
      });
      expect(r).toEqual({ revoked: 1, blockedPending: 2, leafIndex: size });
      expect(await store.isConsentGranted(VIN1, 'acme', 'speed', T0 + 500)).toBe(false);
      expect((await store.listConsents(VIN1))[0]).toMatchObject({ revokedAt: T0 + 500, endedBy: 'revoked' });
      expect(
        await statuses(
          store,
          [`${a!.id}/speed`, `${b!.id}/speed`, `${c!.id}/speed`, `${a!.id}/odometer`, `${d!.id}/speed`].map(
            (k) => ids[k]!,
          ),
        ),
      ).toEqual(['delivered', 'blocked', 'blocked', 'pending', 'pending']);
      expect(await store.auditTreeSize()).toBe(size + 1);
      expect((await store.exportLeaves(size - 1, size + 1, 1))[0]!.entry).toMatchObject({
        kind: 'consent',
        action: 'revoke',
        pseudonym: 'p-001',
        oem: 'acme',
        purpose: 'speed',
        revoked: 1,
        blockedPending: 2,
        apiKey: 'k1',
        owner: 'o1',
      });
      // A delivery that was already on the wire is logged, but never reopens the blocked row.
      const onTheWire: OutboxRow = {
        id: ids[`${b!.id}/speed`]!,
        recordId: b!.id,
        deliveryId: `d_${b!.id}/acme/speed`,
        oem: 'acme',
        purpose: 'speed',
        policyHash: 'sha256:aa',
        pseudonym: 'p-001',
        fieldsSent: ['Vehicle.Speed'],
        fieldsDropped: [],
        body: '{}',
        attempts: 0,
      };
      await deliver(store, [onTheWire]);
      expect(await store.outboxState(onTheWire.id)).toEqual({ status: 'blocked', attempts: 0 });
      expect((await store.listEgressLog({ recordId: b!.id })).map((e) => e.outcome)).toEqual(['delivered']);
      // Logged even when nothing was in force (after the on-the-wire delivery's leaf).
      expect(
        await store.revokeConsentLogged({
          vin: VIN1,
          oem: 'acme',
          purpose: 'speed',
          atMs: T0 + 600,
          pseudonym: 'p-001',
          actor,
        }),
      ).toEqual({ revoked: 0, blockedPending: 0, leafIndex: size + 2 });
    });

    it('grants once, with one leaf per request, when two instances grant through the owner API at the same time', async () => {
      const store = await fresh();
      const other = await second();
      const size = await store.auditTreeSize();
      const c = {
        vin: VIN1,
        oem: 'acme',
        purpose: 'speed',
        atMs: T0,
        validUntil: T0 + 1_000,
        pseudonym: 'p-001',
        actor,
      };
      const [a, b] = await Promise.all([store.grantConsentLogged(c), other.grantConsentLogged(c)]);
      expect(a.grant.id).toBe(b.grant.id);
      expect([a.leafIndex, b.leafIndex].sort()).toEqual([size, size + 1]);
      expect(await store.listConsents(VIN1)).toHaveLength(1);
      expect((await store.exportLeaves(size - 1, size + 2, 2)).map((l) => l.entry)).toEqual(
        [0, 1].map((i) =>
          expect.objectContaining({
            kind: 'consent',
            index: size + i,
            action: 'grant',
            grant: a.grant.id,
            validUntil: T0 + 1_000,
            revoked: 0,
            blockedPending: 0,
          }),
        ),
      );
    });

    it('once a revocation on one instance returned, another instance leasing and settling that vehicle delivers nothing more of that purpose', async () => {
      const store = await fresh();
      const other = await second();
      const recs = Array.from({ length: 20 }, (_, i) => record({ receivedAt: T0 + i }));
      await store.commitIngest(recs.map((r) => withPurposes(r, ['speed', 'odometer'])));
      await store.grantConsentLogged({
        vin: VIN1,
        oem: 'acme',
        purpose: 'speed',
        atMs: T0,
        validUntil: T0 + 1_000_000,
        pseudonym: 'p-001',
        actor,
      });
      // Every row's id, read by a zero-length relay lease (it leaves every row due).
      const ids = new Map(
        (await store.leaseUnpublished(T0, 1_000, 0)).map((x) => [`${x.recordId}/${x.purpose}`, x.id]),
      );
      const idsOf = (purpose: string) => recs.map((x) => ids.get(`${x.id}/${purpose}`)!);
      expect(ids.size).toBe(40);

      // The other instance works through the vehicle's queue (one head at a time), as its egress worker would.
      let returned = false;
      const leasedAfter: OutboxRow[] = [];
      let started!: () => void;
      const firstSettled = new Promise<void>((resolve) => {
        started = resolve;
      });
      const worker = (async () => {
        for (let i = 0; i < 2_000; i++) {
          const after = returned;
          const rows = await other.leaseDueOutbox(T0 + 1_000, 10, 60_000);
          if (after) leasedAfter.push(...rows);
          if (rows.length === 0) {
            if (after) return;
            await new Promise((resolve) => setTimeout(resolve, 1));
            continue;
          }
          await deliver(other, rows);
          started();
        }
        throw new Error('the queue never drained');
      })();

      await Promise.race([firstSettled, worker]);
      const r = await store.revokeConsentLogged({
        vin: VIN1,
        oem: 'acme',
        purpose: 'speed',
        atMs: T0 + 500,
        pseudonym: 'p-001',
        actor,
      });
      returned = true;
      expect(r.revoked).toBe(1);
      expect(r.blockedPending).toBeGreaterThan(0);
      const atReturn = await statuses(store, idsOf('speed'));

      await worker;
      // What the revocation left: each speed row was delivered before it, or blocked by it — none
      // still on its way; and the other instance's settling afterwards changed none of them.
      expect(atReturn[0]).toBe('delivered');
      expect(atReturn.filter((st) => st !== 'delivered' && st !== 'blocked')).toEqual([]);
      expect(atReturn.filter((st) => st === 'blocked')).toHaveLength(r.blockedPending);
      expect(await statuses(store, idsOf('speed'))).toEqual(atReturn);
      // Nothing of the purpose was leased after the revocation returned, and the rest of the vehicle's queue went on.
      expect(leasedAfter.filter((x) => x.purpose === 'speed')).toEqual([]);
      expect(await statuses(store, idsOf('odometer'))).toEqual(recs.map(() => 'delivered'));
      expect(await store.dueOutboxHeads(T0 + 1_000_000, 100)).toEqual([]);
    });
  });

  describe('objections', () => {
    it('stop processing from receipt while open and for good when upheld; rejected lets it resume', async () => {
      const store = await fresh();
      const open = (purpose: string, at: number, automated = true) =>
        store.openObjection({
          vin: VIN1,
          oem: 'acme',
          purpose,
          pseudonym: 'p-001',
          reason: 'no',
          receivedAt: at,
          dueAt: at + 259_200_000,
          automated,
          actor,
        });
      const x = (await open('score', 100)).objection;
      expect(x).toMatchObject({
        vin: VIN1,
        oem: 'acme',
        purpose: 'score',
        pseudonym: 'p-001',
        reason: 'no',
        status: 'open',
        receivedAt: 100,
        dueAt: 259_200_100,
        answer: null,
        resolvedAt: null,
        resolvedBy: null,
      });
      expect(await store.getObjection(x.id)).toEqual(x);
      expect(await store.getObjection('nope')).toBeUndefined();
      expect(await Promise.all([99, 100].map((t) => store.isProcessingObjected(VIN1, 'acme', 'score', t)))).toEqual([
        false,
        true,
      ]);
      expect(await store.isProcessingObjected(VIN2, 'acme', 'score', 100)).toBe(false);
      expect(await store.isProcessingObjected(VIN1, 'acme', 'other', 100)).toBe(false);

      const r = await store.resolveObjection({
        id: x.id,
        status: 'rejected',
        answer: 'not automated',
        resolvedAt: 200,
        actor: { source: 'operator', apiKey: 'op', owner: null },
      });
      expect(r!.objection).toMatchObject({
        status: 'rejected',
        answer: 'not automated',
        resolvedAt: 200,
        resolvedBy: 'op',
      });
      expect(await store.isProcessingObjected(VIN1, 'acme', 'score', 300)).toBe(false);
      await expect(
        store.resolveObjection({ id: x.id, status: 'upheld', answer: 'x', resolvedAt: 300, actor }),
      ).rejects.toSatisfy((e) => isShekaraError(e, 'SHK_OBJECTION_RESOLVED'));
      expect(
        await store.resolveObjection({ id: 'nope', status: 'upheld', answer: 'x', resolvedAt: 300, actor }),
      ).toBeUndefined();

      const y = (await open('score', 400)).objection;
      await store.resolveObjection({
        id: y.id,
        status: 'upheld',
        answer: 'agreed',
        resolvedAt: 500,
        actor: { source: 'cli', apiKey: null, owner: null },
      });
      expect(await store.getObjection(y.id)).toMatchObject({ status: 'upheld', resolvedBy: 'cli' });
      expect(await store.isProcessingObjected(VIN1, 'acme', 'score', 10_000)).toBe(true);

      const z = (await open('odometer', 600, false)).objection;
      expect((await store.listObjections({ status: 'open' })).map((o) => o.id)).toEqual([z.id]);
      expect((await store.listObjections({ overdueAt: 600 + 259_200_001 })).map((o) => o.id)).toEqual([z.id]);
      expect(await store.listObjections({ overdueAt: 600 + 259_200_000 })).toEqual([]);
      expect((await store.listObjections({ vin: VIN1 })).map((o) => o.id)).toEqual([x.id, y.id, z.id]);
      expect((await store.listObjections({ vin: VIN1, limit: 2 })).map((o) => o.id)).toEqual([x.id, y.id]);
      expect(await store.listObjections({ vin: VIN2 })).toEqual([]);
    });

    it("an objection to an automated purpose blocks that vehicle's queued rows of it; one to another purpose blocks nothing", async () => {
      const store = await fresh();
      const [a, b] = [record(), record({ vin: VIN2 })];
      await store.commitIngest([withPurposes(a!, ['score', 'odometer']), withPurposes(b!, ['score'])]);
      const open = (purpose: string, automated: boolean) =>
        store.openObjection({
          vin: VIN1,
          oem: 'acme',
          purpose,
          pseudonym: 'p-001',
          reason: 'no',
          receivedAt: T0,
          dueAt: T0 + 1,
          automated,
          actor,
        });
      expect(await store.exportLeaves(-1, 1, 1)).toEqual([]);
      const first = await open('odometer', false);
      expect((await store.exportLeaves(first.leafIndex - 1, first.leafIndex + 1, 1))[0]!.entry).toMatchObject({
        kind: 'objection',
        action: 'opened',
        automated: false,
        blockedPending: 0,
      });
      const second_ = await open('score', true);
      expect(second_.leafIndex).toBe(first.leafIndex + 1);
      expect((await store.exportLeaves(second_.leafIndex - 1, second_.leafIndex + 1, 1))[0]!.entry).toMatchObject({
        automated: true,
        blockedPending: 1,
        objection: second_.objection.id,
      });
      expect((await store.counts()).outboxPending).toBe(2);
      expect((await store.dueOutboxHeads(T0, 10)).map((r) => `${r.recordId}/${r.purpose}`).sort()).toEqual(
        [`${a!.id}/odometer`, `${b!.id}/score`].sort(),
      );
    });

    it('resolves an objection once when two instances answer it at the same time', async () => {
      const store = await fresh();
      const other = await second();
      const { objection } = await store.openObjection({
        vin: VIN1,
        oem: 'acme',
        purpose: 'score',
        pseudonym: 'p-001',
        reason: 'no',
        receivedAt: T0,
        dueAt: T0 + 1,
        automated: true,
        actor,
      });
      const size = await store.auditTreeSize();
      const answer = (s: Store, status: 'upheld' | 'rejected') =>
        s.resolveObjection({ id: objection.id, status, answer: status, resolvedAt: T0 + 1, actor }).then(
          (r) => r!.objection.status,
          (e: unknown) => (isShekaraError(e, 'SHK_OBJECTION_RESOLVED') ? 'refused' : e),
        );
      const outcomes = await Promise.all([answer(store, 'upheld'), answer(other, 'rejected')]);
      expect(outcomes.filter((o) => o === 'refused')).toHaveLength(1);
      const won = outcomes.find((o) => o !== 'refused');
      expect(await store.getObjection(objection.id)).toMatchObject({ status: won, answer: won });
      // One resolution, one leaf.
      expect(await store.auditTreeSize()).toBe(size + 1);
      expect((await store.exportLeaves(size - 1, size + 1, 1))[0]!.entry).toMatchObject({
        kind: 'objection',
        action: 'resolved',
        status: won,
      });
    });
  });

  describe('erasure', () => {
    it("removes one vehicle's records, raw payloads, route points, account data and quarantine; blocks what it has not sent; keeps the egress log", async () => {
      const store = await fresh();
      const a1 = record({ lat: 43, account: { 'Account.Owner.Phone': '+77010000000' } });
      const a2 = record({ lat: 44 });
      const a3 = record();
      const b1 = record({ vin: VIN2, lat: 45, account: { 'Account.Owner.Name': 'B' } });
      await store.commitIngest([
        withPurposes(a1),
        withPurposes(a2),
        withPurposes(a3),
        withPurposes(b1),
        {
          kind: 'quarantine',
          item: { id: 'qa', vin: VIN1, channel: 'mqtt', receivedAt: T0, reason: 'x', raw: Buffer.from('x') },
        },
        {
          kind: 'quarantine',
          item: { id: 'qb', vin: VIN2, channel: 'mqtt', receivedAt: T0, reason: 'x', raw: Buffer.from('x') },
        },
      ]);
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
      // A delivery that was in flight during the erasure is logged, but never reopens the row.
      await deliver(store, [rowOf(a2)]);
      expect(await store.outboxState(rowOf(a2).id)).toEqual({ status: 'blocked', attempts: 0 });
      expect(await store.eraseVehicle(VIN1)).toEqual({ records: 0, routePoints: 0, accountData: 0, quarantine: 0 });

      // Reopened: the migrations are not applied twice, and new records of the vehicle are stored as usual.
      await store.close();
      forget(store);
      const again = await second();
      const a4 = record({ lat: 46 });
      await again.commitIngest([withPurposes(a4)]);
      expect((await again.getRecord(a4.id))!.record.vin).toBe(VIN1);
      expect((await again.listEgressLog()).map((e) => e.recordId)).toEqual([a1.id, a2.id]);
      expect((await again.dueOutboxHeads(T0 + 1_000_000, 10)).map((r) => r.recordId).sort()).toEqual(
        [a4.id, b1.id].sort(),
      );
    });

    it("removes the vehicle's route points and account data kept past their records, and no other vehicle's", async () => {
      const store = await fresh();
      const now = T0 + 100 * DAY;
      // Records expire at 30 days, route points and account data at 365: retention leaves a1's and b1's.
      const a1 = record({ lat: 43, account: { 'Account.Owner.Name': 'A' } });
      const b1 = record({ vin: VIN2, lat: 44, account: { 'Account.Owner.Name': 'B' } });
      const a2 = record({ receivedAt: now, lat: 45, account: { 'Account.Owner.Name': 'A' } });
      await store.commitIngest([item(a1), item(b1), item(a2)]);
      expect(
        await store.applyRetention(now, { rawRecordsDays: 30, routePointsDays: 365, accountDataDays: 365 }),
      ).toEqual({ records: 2, routePoints: 0, accountData: 0, quarantine: 0 });

      expect(await store.eraseVehicle(VIN1)).toEqual({ records: 1, routePoints: 2, accountData: 2, quarantine: 0 });
      expect(await store.eraseVehicle(VIN1)).toEqual({ records: 0, routePoints: 0, accountData: 0, quarantine: 0 });
      expect(await store.eraseVehicle(VIN2)).toEqual({ records: 0, routePoints: 1, accountData: 1, quarantine: 0 });
    });
  });

  describe('owner report', () => {
    it('totals the egress log per OEM, purpose, outcome and pseudonym, in byte order, over a search filter', async () => {
      const store = await fresh();
      const recs = [record(), record(), record({ vin: VIN2 })];
      // 'B-2' sorts before 'a-1' in byte order (as SQLite sorts), after it in most locales (a C-collated database sorts bytes anyway).
      await store.commitIngest([
        item(recs[0]!, [
          projection(recs[0]!, { vehicle: 'a-1' }),
          projection(recs[0]!, { vehicle: 'a-1', purpose: 'odometer' }),
        ]),
        item(recs[1]!, [projection(recs[1]!, { vehicle: 'a-1' })]),
        item(recs[2]!, [projection(recs[2]!, { vehicle: 'B-2' })]),
      ]);
      const rows = await store.leaseUnpublished(T0, 100, 60_000);
      const of = (r: CanonicalRecord, purpose = 'speed') =>
        rows.find((x) => x.recordId === r.id && x.purpose === purpose)!;
      const bytes = (...xs: OutboxRow[]) => xs.reduce((n, x) => n + Buffer.byteLength(x.body, 'utf8'), 0);
      await store.settleOutbox([
        {
          kind: 'failed',
          outboxId: of(recs[0]!).id,
          entry: entry(of(recs[0]!), { outcome: 'failed', httpStatus: 503, at: T0 + 1 }),
          nextAttemptAt: T0 + 10,
        },
        { kind: 'delivered', outboxId: of(recs[1]!).id, entry: entry(of(recs[1]!), { at: T0 + 2 }) },
        {
          kind: 'delivered',
          outboxId: of(recs[0]!, 'odometer').id,
          entry: entry(of(recs[0]!, 'odometer'), { at: T0 + 3 }),
        },
        { kind: 'delivered', outboxId: of(recs[2]!).id, entry: entry(of(recs[2]!), { at: T0 + 4 }) },
      ]);
      await store.settleOutbox([
        { kind: 'delivered', outboxId: of(recs[0]!).id, entry: entry(of(recs[0]!), { at: T0 + 11, attempt: 2 }) },
      ]);

      const row = (
        pseudonym: string,
        purpose: string,
        outcome: string,
        entries: number,
        records: number,
        b: number,
      ) => ({ oem: 'acme', purpose, outcome, pseudonym, entries, records, bytes: b });
      expect(await store.egressTotals({})).toEqual([
        row('a-1', 'odometer', 'delivered', 1, 1, bytes(of(recs[0]!, 'odometer'))),
        row('B-2', 'speed', 'delivered', 1, 1, bytes(of(recs[2]!))),
        row('a-1', 'speed', 'delivered', 2, 2, bytes(of(recs[0]!), of(recs[1]!))),
        row('a-1', 'speed', 'failed', 1, 1, bytes(of(recs[0]!))),
      ]);
      expect(await store.egressTotals({ pseudonyms: ['a-1'], outcome: 'delivered', from: T0 + 3 })).toEqual([
        row('a-1', 'odometer', 'delivered', 1, 1, bytes(of(recs[0]!, 'odometer'))),
        row('a-1', 'speed', 'delivered', 1, 1, bytes(of(recs[0]!))),
      ]);
      expect(await store.egressTotals({ oem: 'other' })).toEqual([]);
    });
  });
});
