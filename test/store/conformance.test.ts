/**
 * One conformance suite for every Store backend: SQLite (a temp file) and PostgreSQL (the
 * machine's server, an empty migrated schema per test, every schema of the run dropped afterwards). A
 * behaviour either backend shows, the other must show too.
 */
import { describe, expect, it } from 'vitest';
import { rootFromLeafHashes } from '../../src/audit/merkle.js';
import { entryLeafHash } from '../../src/audit/leaf.js';
import { isShekaraError } from '../../src/errors.js';
import type { EgressLogEntry, IngestItem, OutboxRow, Store } from '../../src/store/types.js';
import {
  backends,
  useBackend,
  record,
  projection,
  item,
  entry,
  outboxRows,
  deliver,
  sha256,
  T0,
  DAY,
  VIN1,
  VIN2,
} from './backends.js';

// ---- the suite --------------------------------------------------------------------------

describe.each(backends())('store conformance: $name', (backend) => {
  const { fresh, second, opened, track, forget } = useBackend(backend);

  describe('vehicles and secrets', () => {
    it('registers a vehicle once, lists vehicles by VIN, and re-keys only when asked', async () => {
      const store = await fresh();
      const v = { vin: VIN2, oem: 'acme', secretHash: Buffer.alloc(32, 1), secretSalt: Buffer.alloc(16, 2) };
      await store.registerVehicle(v);
      await store.registerVehicle({ ...v, vin: VIN1 });
      expect(await store.getVehicle(VIN2)).toMatchObject({
        vin: VIN2,
        oem: 'acme',
        secretHash: v.secretHash,
        secretSalt: v.secretSalt,
      });
      expect((await store.getVehicle(VIN2))!.createdAt).toBeGreaterThan(0);
      expect(await store.getVehicle('LSHKZ000000000009')).toBeUndefined();
      expect((await store.listVehicles()).map((x) => x.vin)).toEqual([VIN1, VIN2]);
      const dup = await Promise.resolve(store.registerVehicle(v)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isShekaraError(dup, 'SHK_STORE_VEHICLE_EXISTS')).toBe(true);
      await store.registerVehicle({ ...v, secretHash: Buffer.alloc(32, 9), replace: true });
      expect((await store.getVehicle(VIN2))!.secretHash).toEqual(Buffer.alloc(32, 9));
    });

    it('keeps the first value of a secret, whoever puts it', async () => {
      const store = await fresh();
      expect(await store.getSecret('k')).toBeUndefined();
      expect(await store.putSecretIfAbsent('k', Buffer.from('first'))).toEqual(Buffer.from('first'));
      const other = await second();
      expect(await other.putSecretIfAbsent('k', Buffer.from('second'))).toEqual(Buffer.from('first'));
      expect(await store.getSecret('k')).toEqual(Buffer.from('first'));
    });
  });

  describe('ingest', () => {
    it('reads back a committed record exactly, with its account data and raw payload', async () => {
      const store = await fresh();
      const r = record({ lat: 43.2, account: { 'Account.Owner.Name': 'Aigerim' } });
      await store.commitIngest([item(r)]);
      const got = await store.getRecord(r.id);
      expect(got!.record).toEqual(r);
      expect(got!.raw).toEqual(Buffer.from(JSON.stringify({ id: r.id, v: 1 })));
      expect(await store.recordVin(r.id)).toBe(VIN1);
      expect(await store.getRecord('nope')).toBeUndefined();
      expect(await store.recordVin('nope')).toBeUndefined();
    });

    it('commits a batch of records and quarantined payloads, counted', async () => {
      const store = await fresh();
      const [a, b] = [record(), record({ vin: VIN2 })];
      await store.commitIngest([
        item(a, [projection(a)]),
        item(b, [projection(b), projection(b, { purpose: 'other' })]),
        {
          kind: 'quarantine',
          item: {
            id: 'q1',
            vin: VIN1,
            channel: 'https',
            receivedAt: T0,
            reason: 'payload is not valid JSON',
            raw: Buffer.from([0xff, 0x00]),
          },
        },
      ]);
      await store.commitIngest([]);
      expect(await store.counts()).toEqual({
        records: 2,
        quarantine: 1,
        outboxPending: 3,
        outboxDead: 0,
        egressLog: 0,
      });
    });

    it('writes nothing of a batch that fails', async () => {
      const store = await fresh();
      const existing = record();
      await store.commitIngest([item(existing)]);
      const fresh1 = record();
      const failing = await Promise.resolve(
        store.commitIngest([
          item(fresh1, [projection(fresh1)]),
          {
            kind: 'quarantine',
            item: {
              id: 'q-in-failed-batch',
              vin: VIN1,
              channel: 'mqtt',
              receivedAt: T0,
              reason: 'x',
              raw: Buffer.from('x'),
            },
          },
          item(existing), // the same id again: the batch cannot commit
        ]),
      ).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(failing).toBeInstanceOf(Error);
      expect(await store.getRecord(fresh1.id)).toBeUndefined();
      expect(await store.counts()).toEqual({
        records: 1,
        quarantine: 0,
        outboxPending: 0,
        outboxDead: 0,
        egressLog: 0,
      });
    });

    it('lists quarantine newest first, as many as asked', async () => {
      const store = await fresh();
      const q = (id: string, at: number): IngestItem => ({
        kind: 'quarantine',
        item: { id, vin: VIN1, channel: 'mqtt', receivedAt: at, reason: `bad ${id}`, raw: Buffer.from(id) },
      });
      await store.commitIngest([q('qa', T0), q('qc', T0 + 2), q('qb', T0 + 2)]);
      expect((await store.listQuarantine()).map((x) => x.id)).toEqual(['qc', 'qb', 'qa']);
      expect(await store.listQuarantine(1)).toEqual([
        { id: 'qc', vin: VIN1, channel: 'mqtt', receivedAt: T0 + 2, reason: 'bad qc', raw: Buffer.from('qc') },
      ]);
    });

    it('keeps the policy decision with the outbox row, and out of the body the OEM receives', async () => {
      const store = await fresh();
      const r = record();
      const decision = {
        fields: {
          'Vehicle.Speed': { outcome: 'passed' as const, reason: 'listed' },
          'Account.Owner.Name': { outcome: 'dropped' as const, reason: 'dropped: not listed' },
        },
      };
      await store.commitIngest([item(r, [projection(r, { decision })])]);
      expect(await opened().decisionOf(r.id)).toEqual(decision);
      const [row] = await store.dueOutboxHeads(T0, 10);
      expect(row!.body).not.toContain('dropped: not listed');
      // The OEM gets the delivery id, not the record id; no pseudonym when the VIN is not named.
      expect(JSON.parse(row!.body)).toEqual({
        deliveryId: `d_${r.id}/acme/speed`,
        purpose: 'speed',
        policyHash: 'sha256:aa',
        observedAt: new Date(T0).toISOString(),
        signals: { 'Vehicle.Speed': 54 },
      });
      expect(row!.deliveryId).toBe(`d_${r.id}/acme/speed`);
      expect(row!.recordId).toBe(r.id);
    });

    it('skips a late-released projection whose record was never stored, and commits the rest', async () => {
      const store = await fresh();
      const r = record();
      await store.commitIngest([item(r, [projection(record({ id: 'never-stored' })), projection(r)])]);
      expect((await store.dueOutboxHeads(T0, 10)).map((x) => x.recordId)).toEqual([r.id]);
    });
  });

  describe('outbox', () => {
    it('hands out only the head of each vehicle queue, soonest first', async () => {
      const store = await fresh();
      const rows = await outboxRows(store, ['va', 'vb']);
      const r3 = record({ receivedAt: T0 - 10 });
      await store.commitIngest([item(r3, [projection(r3, { vehicle: 'va' })])]); // behind va's first row, though due earlier
      const heads = await store.dueOutboxHeads(T0, 10);
      expect(heads.map((h) => h.id)).toEqual([rows[0]!.id, rows[1]!.id]);
      expect(heads[0]).toMatchObject({
        recordId: rows[0]!.recordId,
        oem: 'acme',
        purpose: 'speed',
        policyHash: 'sha256:aa',
        pseudonym: 'va',
        fieldsSent: ['Vehicle.Speed'],
        fieldsDropped: ['Vehicle.CurrentLocation.Latitude'],
        attempts: 0,
      });
      expect(await store.dueOutboxHeads(T0 - 1, 10)).toEqual([]); // not yet due
      expect(await store.nextDueAt()).toBe(T0 - 10);
      expect(await store.outboxBacklog()).toBe(3);
    });

    it('leases a due row once until its lease ends', async () => {
      const store = await fresh();
      const rows = await outboxRows(store, ['va', 'vb', 'vc']);
      const first = await store.leaseDueOutbox(T0, 2, 1_000);
      expect(first.map((r) => r.id).sort((a, b) => a - b)).toEqual([rows[0]!.id, rows[1]!.id]);
      expect((await store.leaseDueOutbox(T0, 10, 1_000)).map((r) => r.id)).toEqual([rows[2]!.id]);
      expect(await store.leaseDueOutbox(T0 + 999, 10, 1_000)).toEqual([]);
      expect(await store.dueOutboxHeads(T0 + 999, 10)).toEqual([]);
      expect(await store.nextDueAt()).toBe(T0 + 1_000);
      expect(await store.leaseDueOutbox(T0 + 1_000, 10, 1_000)).toHaveLength(3);
    });

    it('hands out a vehicle’s head with the rows right behind it, in order, up to perVehicle', async () => {
      const store = await fresh();
      // va: 5 rows, vb: 2, committed interleaved; va's later rows are not due yet themselves.
      const va: string[] = [];
      const vb: string[] = [];
      for (let i = 0; i < 5; i++) {
        const r = record({ receivedAt: i === 0 ? T0 - 100 : T0 + 30_000 });
        va.push(r.id);
        const items = [item(r, [projection(r, { vehicle: 'va' })])];
        if (i < 2) {
          const s = record({ receivedAt: T0 - 50 });
          vb.push(s.id);
          items.push(item(s, [projection(s, { vehicle: 'vb' })]));
        }
        await store.commitIngest(items);
      }
      const ids = (rows: { recordId: string }[]) => rows.map((r) => r.recordId);
      // Vehicle by vehicle (heads in lease order), each chain in outbox order, capped per vehicle.
      expect(ids(await store.dueOutboxHeads(T0, 10, 3))).toEqual([...va.slice(0, 3), ...vb]);
      expect(ids(await store.dueOutboxHeads(T0, 1, 10))).toEqual(va); // limit counts vehicles
      expect(ids(await store.dueOutboxHeads(T0, 10))).toEqual([va[0], vb[0]]); // default: heads only

      const other = await second();
      const leased = await store.leaseDueOutbox(T0, 1, 60_000, 3);
      expect(ids(leased)).toEqual(va.slice(0, 3));
      // Another instance gets nothing of va (its head is leased; the rest are not heads), only vb.
      expect(ids(await other.leaseDueOutbox(T0, 10, 60_000, 3))).toEqual(vb);
      // Settled (delivered) chain: va's next rows are the head and its chain, for anyone.
      await deliver(store, leased);
      expect(ids(await other.leaseDueOutbox(T0 + 30_000, 10, 60_000, 3))).toEqual(va.slice(3));
    });

    it('ends a chain before a row still leased, so nothing behind it goes first', async () => {
      const store = await fresh();
      const recs = Array.from({ length: 4 }, () => record({ receivedAt: T0 - 10 }));
      await store.commitIngest(recs.map((r) => item(r, [projection(r, { vehicle: 'va' })])));
      // Rows 1 and 2 leased together; row 1 settled failed (due again at once), row 2's lease
      // still running (its settlement lost in a crash): row 1 goes alone, not with rows 3 and 4.
      const [r1, r2] = await store.leaseDueOutbox(T0, 10, 60_000, 2);
      expect([r1!.recordId, r2!.recordId]).toEqual([recs[0]!.id, recs[1]!.id]);
      await store.settleOutbox([
        { kind: 'failed', outboxId: r1!.id, entry: entry(r1!, { outcome: 'failed' }), nextAttemptAt: T0 },
      ]);
      expect((await store.leaseDueOutbox(T0, 10, 60_000, 4)).map((r) => r.recordId)).toEqual([recs[0]!.id]);
    });

    it('never leases one row to two instances leasing at once', async () => {
      const store = await fresh();
      const other = await second();
      const rows = await outboxRows(
        store,
        Array.from({ length: 30 }, (_, i) => `v${i}`),
      );
      const leased = (await Promise.all([store, other, store, other].map((s) => s.leaseDueOutbox(T0, 10, 60_000))))
        .flat()
        .map((r) => r.id);
      expect(leased).toHaveLength(30);
      expect(new Set(leased)).toEqual(new Set(rows.map((r) => r.id)));
    });

    it('records each outcome with its egress-log row, all or nothing', async () => {
      const store = await fresh();
      const [d, f, x, b, z] = await outboxRows(store, ['v1', 'v2', 'v3', 'v4', 'v5']);
      await store.settleOutbox([
        { kind: 'delivered', outboxId: d!.id, entry: entry(d!) },
        {
          kind: 'failed',
          outboxId: f!.id,
          entry: entry(f!, { outcome: 'failed', httpStatus: 503, error: 'HTTP 503' }),
          nextAttemptAt: T0 + 5_000,
        },
        {
          kind: 'dead',
          outboxId: x!.id,
          entry: entry(x!, { outcome: 'dead-lettered', httpStatus: 400, error: 'HTTP 400' }),
        },
        {
          kind: 'blocked',
          outboxId: b!.id,
          entry: entry(b!, { outcome: 'blocked', httpStatus: null, error: 'SHK_EGRESS_CONSENT_REVOKED' }),
        },
        { kind: 'deferred', outboxId: z!.id, until: T0 + 7_000 },
      ]);
      expect(await store.outboxState(d!.id)).toEqual({ status: 'delivered', attempts: 1 });
      expect(await store.outboxState(f!.id)).toEqual({ status: 'pending', attempts: 1 });
      expect(await store.outboxState(x!.id)).toEqual({ status: 'dead', attempts: 1 });
      expect(await store.outboxState(b!.id)).toEqual({ status: 'blocked', attempts: 1 });
      expect(await store.outboxState(z!.id)).toEqual({ status: 'pending', attempts: 0 });
      expect(await store.outboxState(999_999)).toBeUndefined();
      expect(await store.nextDueAt()).toBe(T0 + 5_000);
      expect((await store.listEgressLog()).map((e) => [e.recordId, e.outcome])).toEqual([
        [d!.recordId, 'delivered'],
        [f!.recordId, 'failed'],
        [x!.recordId, 'dead-lettered'],
        [b!.recordId, 'blocked'],
      ]);
      expect(await store.counts()).toMatchObject({ outboxPending: 2, outboxDead: 1, egressLog: 4 });

      // One bad outcome (an attempt that is not an integer cannot be a leaf) and none is kept.
      const [g, h] = await outboxRows(store, ['v6', 'v7']);
      const bad = await Promise.resolve(
        store.settleOutbox([
          { kind: 'delivered', outboxId: g!.id, entry: entry(g!) },
          { kind: 'delivered', outboxId: h!.id, entry: entry(h!, { attempt: 1.5 }) },
        ]),
      ).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(bad).toBeInstanceOf(Error);
      expect(await store.outboxState(g!.id)).toEqual({ status: 'pending', attempts: 0 });
      expect(await store.counts()).toMatchObject({ egressLog: 4 });
      expect(await store.auditTreeSize()).toBe(4);
      await deliver(store, [g!]); // and the tree carries on from where it was
      expect((await store.listEgressLog({ recordId: g!.recordId }))[0]!.seq).toBe(5);
    });

    it('records single outcomes the same way', async () => {
      const store = await fresh();
      const [a, b, c] = await outboxRows(store, ['v1', 'v2', 'v3']);
      await store.recordDelivery(a!.id, entry(a!));
      await store.recordFailedAttempt(b!.id, entry(b!, { outcome: 'failed', error: 'timeout' }), T0 + 100);
      await store.recordDeadLetter(c!.id, entry(c!, { outcome: 'dead-lettered', error: 'HTTP 400' }));
      expect(
        [await store.outboxState(a!.id), await store.outboxState(b!.id), await store.outboxState(c!.id)].map(
          (s) => s!.status,
        ),
      ).toEqual(['delivered', 'pending', 'dead']);
      expect((await store.listEgressLog()).map((e) => e.seq)).toEqual([1, 2, 3]);
    });

    it('relays pending rows in id order, skipping leased ones', async () => {
      const store = await fresh();
      const [a, b] = await outboxRows(store, ['va', 'vb']);
      const va2 = record();
      await store.commitIngest([item(va2, [projection(va2, { vehicle: 'va' })])]);
      const [d] = await outboxRows(store, ['vc']);
      expect((await store.leaseUnpublished(T0, 2, 1_000)).map((r) => r.id)).toEqual([a!.id, b!.id]);
      const second = (await store.leaseUnpublished(T0, 10, 1_000)).map((r) => r.recordId);
      if (backend.name === 'PostgreSQL') {
        // Several relays (one per instance): va2 waits until va's earlier row, leased by another
        // relay, is published, so Kafka sees each vehicle in order. SQLite has one relay, which
        // leases its next batch only after publishing the last.
        expect(second).toEqual([d!.recordId]);
      } else {
        expect(second).toEqual([va2.id, d!.recordId]);
      }
      await store.markPublished([a!.id, b!.id]);
      expect(await store.outboxState(a!.id)).toEqual({ status: 'published', attempts: 0 });
      expect(await store.outboxBacklog()).toBe(2);
      expect((await store.leaseUnpublished(T0 + 1_000, 10, 1_000)).map((r) => r.recordId)).toEqual([
        va2.id,
        d!.recordId,
      ]);
      await store.markPublished([]);
      // A published row is settled like any other.
      await deliver(store, [a!]);
      expect(await store.outboxState(a!.id)).toEqual({ status: 'delivered', attempts: 1 });
    });
  });

  describe('egress log and audit tree', () => {
    it('logs what crossed with the digest of the exact body, filterable', async () => {
      const store = await fresh();
      const rows = await outboxRows(store, ['v1', 'v2']);
      await deliver(store, rows);
      const log = await store.listEgressLog();
      expect(log).toHaveLength(2);
      expect(log[0]).toEqual({ seq: 1, ...entry(rows[0]!), traceId: null });
      expect(await store.listEgressLog({ recordId: rows[1]!.recordId })).toEqual([
        { seq: 2, ...entry(rows[1]!), traceId: null },
      ]);
      expect(await store.listEgressLog({ deliveryId: rows[1]!.deliveryId })).toEqual([
        { seq: 2, ...entry(rows[1]!), traceId: null },
      ]);
      expect(log.map((l) => l.deliveryId)).toEqual(rows.map((r) => r.deliveryId));
      expect(await store.listEgressLog({ oem: 'other' })).toEqual([]);
      expect(await store.listEgressLog({ oem: 'acme' })).toEqual(log);
      expect(await store.listEgressLog({ limit: 1 })).toHaveLength(1);
      // Filters combine, and the limit counts what they select.
      expect((await store.listEgressLog({ oem: 'acme', recordId: rows[1]!.recordId })).map((l) => l.seq)).toEqual([2]);
      expect((await store.listEgressLog({ oem: 'other', recordId: rows[1]!.recordId })).map((l) => l.seq)).toEqual([]);
      expect(
        (await store.listEgressLog({ oem: 'acme', deliveryId: rows[0]!.deliveryId, limit: 1 })).map((l) => l.seq),
      ).toEqual([1]);
      const e = await store.egressEntry(1);
      expect(e).toMatchObject({
        seq: 1,
        leafIndex: 0,
        payloadSha256: sha256(rows[0]!.body),
        payloadBytes: Buffer.byteLength(rows[0]!.body),
      });
    });

    it('keeps a Merkle tree whose leaves, subtrees and root match RFC 9162 over the same entries', async () => {
      const store = await fresh();
      expect(await store.auditTreeSize()).toBe(0);
      expect(await store.auditRoot()).toEqual(rootFromLeafHashes([]));
      await deliver(store, await outboxRows(store, ['v1', 'v2', 'v3']));
      expect(await store.appendAuditEvent('access', T0, { actor: 'regulator', vin: null, pseudonyms: ['p1'] })).toBe(3);
      await deliver(store, await outboxRows(store, ['v5']));
      expect(await store.auditTreeSize()).toBe(5);

      const leaves = await store.exportLeaves(-1, 5, 100);
      expect(leaves.map((l) => [l.index, l.entry.kind])).toEqual([
        [0, 'egress'],
        [1, 'egress'],
        [2, 'egress'],
        [3, 'access'],
        [4, 'egress'],
      ]);
      expect(leaves[3]!.entry).toEqual({
        actor: 'regulator',
        vin: null,
        pseudonyms: ['p1'],
        v: 1,
        kind: 'access',
        index: 3,
        at: T0,
      });
      const hashes = leaves.map((l) => entryLeafHash(l.entry));
      for (const [i, l] of leaves.entries()) {
        expect(l.leafHash).toBe(hashes[i]!.toString('hex'));
        expect(await store.auditLeafHash(i)).toEqual(hashes[i]);
      }
      expect(await store.auditLeafHash(5)).toBeUndefined();
      expect(await store.auditNode(1, 0)).toEqual(rootFromLeafHashes(hashes.slice(0, 2)));
      expect(await store.auditNode(1, 1)).toEqual(rootFromLeafHashes(hashes.slice(2, 4)));
      expect(await store.auditNode(2, 0)).toEqual(rootFromLeafHashes(hashes.slice(0, 4)));
      expect(await store.auditNode(1, 2)).toBeUndefined();
      expect(await store.auditRoot()).toEqual(rootFromLeafHashes(hashes));
      // A second instance, which never cached the tree, sees the same root and carries it on.
      const other = await second();
      expect(await other.auditRoot()).toEqual(rootFromLeafHashes(hashes));
      await deliver(other, await outboxRows(other, ['v6']));
      const all = (await store.exportLeaves(-1, 100, 100)).map((l) => entryLeafHash(l.entry));
      expect(all).toHaveLength(6);
      expect(await store.auditRoot()).toEqual(rootFromLeafHashes(all));
      expect((await store.exportLeaves(1, 4, 100)).map((l) => l.index)).toEqual([2, 3]);
      expect((await store.exportLeaves(-1, 100, 2)).map((l) => l.index)).toEqual([0, 1]);
    });

    it('gives consecutive leaf indexes, without gap or duplicate, to two instances settling at once', async () => {
      const store = await fresh();
      const other = await second();
      const rows = await outboxRows(
        store,
        Array.from({ length: 40 }, (_, i) => `v${i}`),
      );
      // Each instance settles its half in batches of 2, both at once.
      const settleHalf = async (s: Store, half: OutboxRow[]) => {
        for (let i = 0; i < half.length; i += 2) await deliver(s, half.slice(i, i + 2));
      };
      await Promise.all([
        settleHalf(
          store,
          rows.filter((_, i) => i % 2 === 0),
        ),
        settleHalf(
          other,
          rows.filter((_, i) => i % 2 === 1),
        ),
      ]);
      const log = await store.listEgressLog();
      expect(log.map((e) => e.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      const entries = await store.searchEgress({}, 0, 100);
      expect(entries.map((e) => e.leafIndex)).toEqual(Array.from({ length: 40 }, (_, i) => i));
      expect(new Set(entries.map((e) => e.recordId)).size).toBe(40);
      const leaves = await store.exportLeaves(-1, 40, 100);
      expect(leaves.map((l) => l.leafHash)).toEqual(leaves.map((l) => entryLeafHash(l.entry).toString('hex')));
      expect(await other.auditRoot()).toEqual(rootFromLeafHashes(leaves.map((l) => entryLeafHash(l.entry))));
      expect(await store.auditRoot()).toEqual(await other.auditRoot());
    });

    it('stores checkpoints and finds the one covering a size', async () => {
      const store = await fresh();
      const cp = (size: number, root = Buffer.alloc(32, size)) => ({
        size,
        root,
        signedAt: T0 + size,
        note: `note ${size}\n`,
      });
      expect(await store.latestCheckpoint()).toBeUndefined();
      await store.putCheckpoint(cp(2));
      await store.putCheckpoint(cp(5));
      expect(await store.latestCheckpoint()).toEqual(cp(5));
      expect(await store.getCheckpoint(2)).toEqual(cp(2));
      expect(await store.getCheckpoint(3)).toBeUndefined();
      expect(await store.checkpointCovering(3)).toEqual(cp(5));
      expect(await store.checkpointCovering(2)).toEqual(cp(2));
      expect(await store.checkpointCovering(6)).toBeUndefined();
      // The history, newest first, a page at a time.
      await store.putCheckpoint(cp(9));
      expect(await store.listCheckpoints(Number.MAX_SAFE_INTEGER, 2)).toEqual([cp(9), cp(5)]);
      expect(await store.listCheckpoints(5, 2)).toEqual([cp(2)]);
      expect(await store.listCheckpoints(2, 2)).toEqual([]);
      // Two instances signing the same size: the first stays. The same size with another root is a fork.
      await store.putCheckpoint({ ...cp(5), signedAt: T0 + 99, note: 'other signature\n' });
      expect(await store.getCheckpoint(5)).toEqual(cp(5));
      const fork = await Promise.resolve(store.putCheckpoint(cp(5, Buffer.alloc(32, 0xee)))).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(fork).toBeInstanceOf(Error);
    });
  });

  describe('audit queries', () => {
    /** Six crossings over two days, two OEMs, two countries (one unknown), two vehicles. */
    async function history(store: Store) {
      const mk = async (
        vin: string,
        vehicle: string,
        oem: string,
        at: number,
        o: Partial<EgressLogEntry> = {},
        fields = ['Vehicle.Speed'],
      ) => {
        const r = record({ vin, receivedAt: at });
        const p = { ...projection(r, { vehicle, oem }), fieldsSent: fields };
        await store.commitIngest([item(r, [p])]);
        const row = (await store.dueOutboxHeads(at + 1, 100)).find((x) => x.recordId === r.id)!;
        await store.settleOutbox([{ kind: 'delivered', outboxId: row.id, entry: entry(row, { at, ...o }) }]);
        return { id: r.id, body: row.body };
      };
      return [
        await mk(VIN1, 'pa', 'acme', T0, {}, ['Vehicle.Speed', 'Vehicle.TraveledDistance']),
        await mk(VIN1, 'pa', 'acme', T0 + 1_000, { destinationCountry: null }),
        await mk(VIN2, 'pb', 'acme', T0 + 2_000, { outcome: 'failed', httpStatus: 503 }),
        await mk(VIN2, 'pb', 'bolt', T0 + DAY, { destinationCountry: 'KZ', policyHash: 'sha256:bb' }),
        await mk(VIN1, 'pa2', 'acme', T0 + DAY + 1),
        await mk(VIN2, 'pb', 'bolt', T0 + DAY + 2, {}, ['Vehicle.TraveledDistance']),
      ];
    }

    it('searches by every filter, page by page', async () => {
      const store = await fresh();
      const h = await history(store);
      const seqs = async (f: Parameters<Store['searchEgress']>[0], after = 0, limit = 100) =>
        (await store.searchEgress(f, after, limit)).map((e) => e.seq);
      expect(await seqs({})).toEqual([1, 2, 3, 4, 5, 6]);
      expect(await seqs({}, 2, 2)).toEqual([3, 4]);
      expect(await seqs({ oem: 'bolt' })).toEqual([4, 6]);
      expect(await seqs({ pseudonyms: ['pa', 'pa2'] })).toEqual([1, 2, 5]);
      expect(await seqs({ pseudonyms: [] })).toEqual([]);
      expect(await seqs({ from: T0 + 1_000, to: T0 + DAY + 1 })).toEqual([2, 3, 4]);
      expect(await seqs({ field: 'Vehicle.TraveledDistance' })).toEqual([1, 6]);
      expect(await seqs({ country: 'KZ' })).toEqual([4]);
      expect(await seqs({ outcome: 'failed' })).toEqual([3]);
      expect(await seqs({ policyHash: 'sha256:bb' })).toEqual([4]);
      expect(await seqs({ recordId: h[4]!.id })).toEqual([5]);
      expect(await seqs({ deliveryId: `d_${h[3]!.id}/bolt/speed` })).toEqual([4]);
      expect(await seqs({ deliveryId: 'd_none' })).toEqual([]);
      expect(await seqs({ oem: 'acme', field: 'Vehicle.Speed', from: T0 + 1 }, 2)).toEqual([3, 5]);
      const [first] = await store.searchEgress({ recordId: h[0]!.id }, 0, 1);
      expect(first).toMatchObject({
        seq: 1,
        leafIndex: 0,
        recordId: h[0]!.id,
        destinationCountry: 'DE',
        fieldsSent: ['Vehicle.Speed', 'Vehicle.TraveledDistance'],
        payloadSha256: sha256(h[0]!.body),
        payloadBytes: Buffer.byteLength(h[0]!.body),
      });
      expect(await store.egressEntry(6)).toEqual((await store.searchEgress({}, 5, 1))[0]);
      expect(await store.egressEntry(7)).toBeUndefined();
    });

    it('resolves a VIN to the pseudonyms its records crossed under', async () => {
      const store = await fresh();
      await history(store);
      expect(await store.pseudonymsOfVin(VIN1)).toEqual(['pa', 'pa2']);
      expect(await store.pseudonymsOfVin(VIN2)).toEqual(['pb']);
      expect(await store.pseudonymsOfVin('LSHKZ000000000009')).toEqual([]);
    });

    it('summarises delivered records and bytes per day, OEM, country and field', async () => {
      const store = await fresh();
      const h = await history(store);
      const bytes = (...i: number[]) => i.reduce((n, k) => n + Buffer.byteLength(h[k]!.body), 0);
      const day0 = new Date(T0).toISOString().slice(0, 10);
      const day1 = new Date(T0 + DAY).toISOString().slice(0, 10);
      expect(await store.egressSummary({})).toEqual([
        { day: day0, oem: 'acme', destinationCountry: null, field: 'Vehicle.Speed', records: 1, bytes: bytes(1) },
        { day: day0, oem: 'acme', destinationCountry: 'DE', field: 'Vehicle.Speed', records: 1, bytes: bytes(0) },
        {
          day: day0,
          oem: 'acme',
          destinationCountry: 'DE',
          field: 'Vehicle.TraveledDistance',
          records: 1,
          bytes: bytes(0),
        },
        { day: day1, oem: 'acme', destinationCountry: 'DE', field: 'Vehicle.Speed', records: 1, bytes: bytes(4) },
        {
          day: day1,
          oem: 'bolt',
          destinationCountry: 'DE',
          field: 'Vehicle.TraveledDistance',
          records: 1,
          bytes: bytes(5),
        },
        { day: day1, oem: 'bolt', destinationCountry: 'KZ', field: 'Vehicle.Speed', records: 1, bytes: bytes(3) },
      ]);
      expect(await store.egressSummary({ oem: 'bolt', country: 'KZ' })).toHaveLength(1);
    });

    it("applies every search filter to the summary and the owner's totals as the search applies it", async () => {
      const store = await fresh();
      const h = await history(store);
      // One filter per field, each selecting some crossings but not all, and the fields combined.
      const filters: Parameters<Store['searchEgress']>[0][] = [
        { oem: 'bolt' },
        { pseudonyms: ['pa', 'pa2'] },
        { pseudonyms: [] },
        { from: T0 + 1_000 },
        { to: T0 + DAY + 1 },
        { field: 'Vehicle.TraveledDistance' },
        { country: 'KZ' },
        { outcome: 'failed' },
        { policyHash: 'sha256:bb' },
        { recordId: h[4]!.id },
        { deliveryId: `d_${h[5]!.id}/bolt/speed` },
        { oem: 'acme', pseudonyms: ['pa', 'pb'], field: 'Vehicle.Speed', from: T0 + 1, to: T0 + DAY + 2 },
      ];
      const all = await store.searchEgress({}, 0, 100);
      const byKey = <T>(rows: T[]) => rows.map((r) => JSON.stringify(r)).sort();
      for (const f of filters) {
        const found = await store.searchEgress(f, 0, 100);
        expect(found.length, JSON.stringify(f)).toBeLessThan(all.length);
        const totals = new Map<string, { entries: number; records: Set<string>; bytes: number }>();
        for (const e of found) {
          const k = JSON.stringify([e.oem, e.purpose, e.outcome, e.pseudonym]);
          const t = totals.get(k) ?? { entries: 0, records: new Set(), bytes: 0 };
          totals.set(k, {
            entries: t.entries + 1,
            records: t.records.add(e.recordId),
            bytes: t.bytes + e.payloadBytes!,
          });
        }
        expect(byKey(await store.egressTotals(f)), JSON.stringify(f)).toEqual(
          byKey(
            [...totals].map(([k, t]) => {
              const [oem, purpose, outcome, pseudonym] = JSON.parse(k) as string[];
              return { oem, purpose, outcome, pseudonym, entries: t.entries, records: t.records.size, bytes: t.bytes };
            }),
          ),
        );
        // Each crossing here is of a record of its own: a field's records are its delivered crossings.
        const summary = found
          .filter((e) => e.outcome === 'delivered')
          .flatMap((e) =>
            e.fieldsSent.map((field) => ({
              day: new Date(e.at).toISOString().slice(0, 10),
              oem: e.oem,
              destinationCountry: e.destinationCountry,
              field,
              records: 1,
              bytes: e.payloadBytes,
            })),
          );
        expect(byKey(await store.egressSummary(f)), JSON.stringify(f)).toEqual(byKey(summary));
      }
    });
  });

  describe('API keys, consent, policy history', () => {
    it('authenticates a key until it is revoked, and never by its id alone', async () => {
      const store = await fresh();
      const a = await store.createApiKey({ role: 'regulator', label: 'agency', now: T0 });
      const b = await store.createApiKey({ role: 'operator', label: 'ops', now: T0 + 1 });
      const c = await store.createApiKey({ role: 'oem', label: 'acme integration', now: T0 + 2, scope: 'acme' });
      expect(a.key).toMatch(/^shk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
      expect(await store.authenticateApiKey(a.key)).toEqual({
        id: a.id,
        role: 'regulator',
        scope: null,
        label: 'agency',
        createdAt: T0,
        revokedAt: null,
      });
      expect(await store.authenticateApiKey(c.key)).toMatchObject({ id: c.id, role: 'oem', scope: 'acme' });
      expect(await store.authenticateApiKey(`shk_${a.id}_${'A'.repeat(43)}`)).toBeUndefined();
      expect(await store.authenticateApiKey('Bearer nonsense')).toBeUndefined();
      expect((await store.listApiKeys()).map((k) => k.id)).toEqual([a.id, b.id, c.id]);
      expect(await store.revokeApiKey(a.id, T0 + 5)).toBe(true);
      expect(await store.revokeApiKey(a.id, T0 + 6)).toBe(false);
      expect(await store.revokeApiKey('0000000000000000', T0 + 6)).toBe(false);
      expect(await store.authenticateApiKey(a.key)).toBeUndefined();
      expect((await store.listApiKeys())[0]!.revokedAt).toBe(T0 + 5);
    });

    it('keeps a consent grant in force from its time until revoked, and the history', async () => {
      const store = await fresh();
      const q = { vin: VIN1, oem: 'acme', purpose: 'ota' };
      expect(await store.isConsentGranted(VIN1, 'acme', 'ota', 100)).toBe(false);
      const g = await store.grantConsent({ ...q, atMs: 100, source: 'owner-app' });
      expect(g).toMatchObject({ ...q, grantedAt: 100, revokedAt: null, source: 'owner-app' });
      expect((await store.grantConsent({ ...q, atMs: 150 })).id).toBe(g.id); // already in force
      expect(await store.isConsentGranted(VIN1, 'acme', 'ota', 99)).toBe(false);
      expect(await store.isConsentGranted(VIN1, 'acme', 'ota', 100)).toBe(true);
      expect(await store.isConsentGranted(VIN1, 'acme', 'other', 100)).toBe(false);
      expect(await store.isConsentGranted(VIN1, 'other-oem', 'ota', 100)).toBe(false);
      expect(await store.revokeConsent({ ...q, atMs: 200 })).toBe(1);
      expect(await store.revokeConsent({ ...q, atMs: 210 })).toBe(0);
      expect(await store.isConsentGranted(VIN1, 'acme', 'ota', 199)).toBe(true);
      expect(await store.isConsentGranted(VIN1, 'acme', 'ota', 200)).toBe(false);
      await store.grantConsent({ ...q, atMs: 300 });
      expect(await store.isConsentGranted(VIN1, 'acme', 'ota', 250)).toBe(false);
      expect(await store.isConsentGranted(VIN1, 'acme', 'ota', 300)).toBe(true);
      expect((await store.listConsents(VIN1)).map((c) => [c.grantedAt, c.revokedAt])).toEqual([
        [300, null],
        [100, 200],
      ]);
      expect(await store.listConsents(VIN2)).toEqual([]);
    });

    it('grants consent once when two instances grant at the same time', async () => {
      const store = await fresh();
      const other = await second();
      const c = { vin: VIN1, oem: 'acme', purpose: 'ota', atMs: 100 };
      const [a, b] = await Promise.all([store.grantConsent(c), other.grantConsent(c)]);
      expect(a.id).toBe(b.id);
      expect(await store.listConsents(VIN1)).toHaveLength(1);
    });

    it('records a policy version once per change, newest first, with its text', async () => {
      const store = await fresh();
      const a = { oem: 'acme', source: 'p.yaml', content: 'v1' };
      expect(await store.recordPolicyActivation({ ...a, policyHash: 'sha256:1', activatedAt: 1 })).toBe(true);
      expect(await store.recordPolicyActivation({ ...a, policyHash: 'sha256:1', activatedAt: 2 })).toBe(false);
      expect(await store.recordPolicyActivation({ ...a, content: 'v2', policyHash: 'sha256:2', activatedAt: 3 })).toBe(
        true,
      );
      expect(await store.recordPolicyActivation({ ...a, policyHash: 'sha256:1', activatedAt: 4 })).toBe(true); // rolled back: a new activation
      expect(await store.recordPolicyActivation({ ...a, oem: 'other', policyHash: 'sha256:9', activatedAt: 5 })).toBe(
        true,
      );
      expect((await store.listPolicyActivations('acme')).map((x) => [x.policyHash, x.activatedAt])).toEqual([
        ['sha256:1', 4],
        ['sha256:2', 3],
        ['sha256:1', 1],
      ]);
      expect(await store.listPolicyActivations()).toHaveLength(4);
      expect((await store.listPolicyActivations('other'))[0]).toMatchObject({
        oem: 'other',
        policyHash: 'sha256:9',
        source: 'p.yaml',
        content: 'v1',
        activatedAt: 5,
      });
    });
  });

  describe('retention', () => {
    const periods = { rawRecordsDays: 90, routePointsDays: 30, accountDataDays: 365 };

    it('deletes each category once older than its period, and never the egress log', async () => {
      const store = await fresh();
      const now = T0 + 400 * DAY;
      const ancient = record({ receivedAt: T0, lat: 43.2, account: { 'Account.Owner.Name': 'A' } }); // everything expired
      const old = record({ receivedAt: now - 100 * DAY, lat: 43.2, account: { 'Account.Owner.Name': 'B' } }); // record, point expired; account kept
      const recent = record({ receivedAt: now - 40 * DAY, lat: 43.2 }); // only the point expired
      const pendingOld = record({ receivedAt: now - 200 * DAY }); // expired, but still on its way out
      await store.commitIngest([
        item(ancient, [projection(ancient, { vehicle: 'va' })]),
        item(old),
        item(recent),
        item(pendingOld, [projection(pendingOld, { vehicle: 'vb' })]),
        {
          kind: 'quarantine',
          item: {
            id: 'q-old',
            vin: VIN1,
            channel: 'mqtt',
            receivedAt: now - 91 * DAY,
            reason: 'x',
            raw: Buffer.from('x'),
          },
        },
        {
          kind: 'quarantine',
          item: {
            id: 'q-new',
            vin: VIN1,
            channel: 'mqtt',
            receivedAt: now - 89 * DAY,
            reason: 'x',
            raw: Buffer.from('x'),
          },
        },
      ]);
      const [delivered] = (await store.dueOutboxHeads(now, 10)).filter((r) => r.recordId === ancient.id);
      await deliver(store, [delivered!]);
      const rootBefore = await store.auditRoot();

      expect(await store.applyRetention(now, periods)).toEqual({
        records: 2,
        routePoints: 3,
        accountData: 1,
        quarantine: 1,
      });
      expect(await store.getRecord(ancient.id)).toBeUndefined();
      expect(await store.getRecord(old.id)).toBeUndefined();
      expect((await store.getRecord(recent.id))!.record).toEqual(recent);
      expect(await store.getRecord(pendingOld.id)).toBeDefined();
      expect((await store.listQuarantine()).map((q) => q.id)).toEqual(['q-new']);
      // The settled outbox row went with its record; the egress log and its tree did not move.
      expect(await store.outboxState(delivered!.id)).toBeUndefined();
      expect(await store.counts()).toEqual({
        records: 2,
        quarantine: 1,
        outboxPending: 1,
        outboxDead: 0,
        egressLog: 1,
      });
      expect(await store.auditRoot()).toEqual(rootBefore);
      expect(await store.listEgressLog()).toHaveLength(1);
      // A second sweep finds nothing more.
      expect(await store.applyRetention(now, periods)).toEqual({
        records: 0,
        routePoints: 0,
        accountData: 0,
        quarantine: 0,
      });
      // Account data outlives its record until its own period ends.
      expect(await store.applyRetention(now + 300 * DAY, periods)).toMatchObject({ accountData: 1 });
    });

    it("expires route points by when they were received, not by the car's clock, which stays as data", async () => {
      const store = await fresh();
      const now = T0 + 400 * DAY;
      // A car whose clock says 2099 (L7: its point escaped retention), and one whose clock is a year slow.
      const future = record({ receivedAt: now - 40 * DAY, observedAt: Date.UTC(2099, 0, 1), lat: 43.2 });
      const slow = record({ receivedAt: now - DAY, observedAt: now - 366 * DAY, lat: 43.2 });
      await store.commitIngest([item(future), item(slow)]);
      // Received 40 days ago: its point is past the 30 days, whatever the car said.
      expect(await store.applyRetention(now, periods)).toMatchObject({ records: 0, routePoints: 1 });
      // Received yesterday: its point stays until 30 days after that, then goes.
      expect(await store.applyRetention(now + 28 * DAY, periods)).toMatchObject({ routePoints: 0 });
      expect(await store.applyRetention(now + 30 * DAY, periods)).toMatchObject({ routePoints: 1 });
      // The car's own time is kept as data on the record.
      expect((await store.getRecord(future.id))!.record.observedAt).toBe(Date.UTC(2099, 0, 1));
    });

    it('drops route points a whole month at a time where the store partitions them', async () => {
      const store = await fresh();
      const now = Date.now();
      const nextMonth = new Date(now);
      nextMonth.setUTCMonth(nextMonth.getUTCMonth() + 1, 10);
      const recs = [1, 2, 3].map(() => record({ receivedAt: now, observedAt: nextMonth.getTime(), lat: 43 }));
      await store.commitIngest(recs.map((r) => item(r)));
      const before = await opened().partitions();
      const later = nextMonth.getTime() + 120 * DAY;
      expect(
        await store.applyRetention(later, { rawRecordsDays: 1_000, routePointsDays: 60, accountDataDays: 1_000 }),
      ).toEqual({ records: 0, routePoints: 3, accountData: 0, quarantine: 0 });
      const after = await opened().partitions();
      if (backend.name === 'PostgreSQL') {
        const month = `route_points_p${nextMonth.getUTCFullYear()}${String(nextMonth.getUTCMonth() + 1).padStart(2, '0')}`;
        expect(before).toContain(month);
        expect(after).not.toContain(month);
        expect(after).toContain('route_points_default');
        // …and the months ahead of the sweep's time exist, so new points never wait for one.
        const ahead = new Date(later);
        expect(after).toContain(
          `route_points_p${ahead.getUTCFullYear()}${String(ahead.getUTCMonth() + 1).padStart(2, '0')}`,
        );
      } else {
        expect(after).toEqual([]);
      }
    });
  });

  describe('migrations', () => {
    it('applies each migration once, however many instances start at the same moment', async () => {
      const [a, b] = await backend.openPair();
      track(a!, b!);
      await a!.commitIngest([item(record())]);
      expect((await b!.counts()).records).toBe(1);
    });

    it('opens an existing store again without migrating it twice', async () => {
      const store = await fresh();
      await store.commitIngest([item(record())]);
      await store.close();
      forget(store);
      expect((await (await second()).counts()).records).toBe(1);
    });
  });
});
