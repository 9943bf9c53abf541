/**
 * The OEM side on every store backend: the pull feed (and the 'parked' settlement
 * that fills it), webhook signing keys, downlink commands with their audit leaves, and owners'
 * approvals of restricting commands. What GET /oem/v1/feed, the signing keyring and the
 * downlink (test/api/api-oem.test.ts, test/api/commands.test.ts) rely on.
 */
import { describe, expect, it } from 'vitest';
import type { AuditEventBody } from '../../src/audit/events.js';
import type { CommandRow, EgressSettlement, OutboxRow, Store } from '../../src/store/types.js';
import { backends, useBackend, record, projection, item, entry, T0, VIN1, VIN2 } from './backends.js';

/** Commits one record per vehicle for `oem`; returns its outbox rows (due heads), in record order. */
async function rowsOf(store: Store, oem: string, vehicles: string[]): Promise<OutboxRow[]> {
  const recs = vehicles.map(() => record());
  await store.commitIngest(recs.map((r, i) => item(r, [projection(r, { oem, vehicle: vehicles[i] })])));
  const heads = await store.dueOutboxHeads(T0 + 1, 10_000);
  return recs.map((r) => heads.find((h) => h.recordId === r.id && h.oem === oem)!);
}
const park = (store: Store, rows: OutboxRow[]) =>
  store.settleOutbox(rows.map((r): EgressSettlement => ({ kind: 'parked', outboxId: r.id })));
/** What GET /oem/v1/feed settles for an item it served (a delivered crossing, destination the requester). */
const served = (store: Store, rows: OutboxRow[], kind: 'delivered' | 'blocked' = 'delivered') =>
  store.settleOutbox(
    rows.map((r): EgressSettlement => ({
      kind,
      outboxId: r.id,
      entry: entry(r, {
        destination: 'pull:127.0.0.1',
        outcome: kind,
        ...(kind === 'blocked' ? { httpStatus: null, error: 'consent revoked' } : {}),
      }),
    })),
  );
const vehicles = (n: number, prefix = 'v') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe.each(backends())('OEM feed, signing keys, commands and approvals conformance: $name', (backend) => {
  const { fresh, second } = useBackend(backend);

  describe('pull feed', () => {
    it('parks rows in feed order without logging them, serves them again until acknowledged, and moves the cursors only forward', async () => {
      const store = await fresh();
      const rows = await rowsOf(store, 'acme', vehicles(5));
      await park(store, rows.slice(0, 3));
      await park(store, rows.slice(3));

      const feed = await store.pullFeed('acme', 0, 100);
      expect(feed.map((f) => [f.id, f.feedSeq, f.status, f.attempts])).toEqual(
        rows.map((r, i) => [r.id, i + 1, 'pull', 0]),
      );
      expect(feed[0]).toMatchObject({
        recordId: rows[0]!.recordId,
        pseudonym: 'v0',
        body: rows[0]!.body,
        fieldsSent: rows[0]!.fieldsSent,
      });
      // Parked: out of the push queue, nothing crossed, nothing logged.
      expect(await store.listEgressLog()).toEqual([]);
      expect(await store.auditTreeSize()).toBe(0);
      expect(await store.outboxState(rows[0]!.id)).toEqual({ status: 'pull', attempts: 0 });
      expect(await store.dueOutboxHeads(T0 + 1, 100)).toEqual([]);
      expect((await store.counts()).outboxPending).toBe(0);
      expect(await store.feedPosition('acme')).toEqual({ acked: 0, served: 0 });

      // A pull of two: logged as delivered crossings, the served position raised.
      const page = await store.pullFeed('acme', 0, 2);
      await served(store, rows.slice(0, 2));
      await store.markFeedServed('acme', page.at(-1)!.feedSeq);
      expect(await store.feedPosition('acme')).toEqual({ acked: 0, served: 2 });
      expect((await store.listEgressLog()).map((e) => [e.recordId, e.outcome, e.attempt])).toEqual([
        [rows[0]!.recordId, 'delivered', 1],
        [rows[1]!.recordId, 'delivered', 1],
      ]);

      // Not acknowledged: served again (status 'delivered', one more attempt each time).
      const again = await store.pullFeed('acme', 0, 2);
      expect(again.map((f) => [f.feedSeq, f.status, f.attempts])).toEqual([
        [1, 'delivered', 1],
        [2, 'delivered', 1],
      ]);
      await served(store, again);
      expect((await store.pullFeed('acme', 0, 2)).map((f) => f.attempts)).toEqual([2, 2]);
      expect((await store.listEgressLog()).map((e) => e.attempt)).toEqual([1, 1, 2, 2]);
      await store.markFeedServed('acme', 1);
      expect((await store.feedPosition('acme')).served).toBe(2);

      // The next pull names cursor 2: acknowledged, never served again.
      await store.ackFeed('acme', 2);
      await store.ackFeed('acme', 1);
      expect(await store.feedPosition('acme')).toEqual({ acked: 2, served: 2 });
      expect((await store.pullFeed('acme', 2, 100)).map((f) => f.feedSeq)).toEqual([3, 4, 5]);

      // Blocked at pull time (consent revoked): logged as blocked, never offered again.
      await served(store, rows.slice(2, 3), 'blocked');
      expect((await store.pullFeed('acme', 2, 100)).map((f) => f.feedSeq)).toEqual([4, 5]);
      expect(await store.outboxState(rows[2]!.id)).toEqual({ status: 'blocked', attempts: 1 });
      expect((await store.listEgressLog()).at(-1)).toMatchObject({
        recordId: rows[2]!.recordId,
        outcome: 'blocked',
        error: 'consent revoked',
      });
      expect(await store.auditTreeSize()).toBe(5);
    });

    it('keeps one position per OEM and serves each OEM only its own rows, from one sequence', async () => {
      const store = await fresh();
      const a = await rowsOf(store, 'acme', vehicles(2, 'a'));
      const b = await rowsOf(store, 'bolt', vehicles(2, 'b'));
      await park(store, [a[0]!, b[0]!, a[1]!, b[1]!]);
      expect((await store.pullFeed('acme', 0, 100)).map((f) => [f.id, f.feedSeq])).toEqual([
        [a[0]!.id, 1],
        [a[1]!.id, 3],
      ]);
      expect((await store.pullFeed('bolt', 0, 100)).map((f) => [f.id, f.feedSeq])).toEqual([
        [b[0]!.id, 2],
        [b[1]!.id, 4],
      ]);
      expect((await store.pullFeed('bolt', 2, 1)).map((f) => f.feedSeq)).toEqual([4]);
      await store.markFeedServed('acme', 3);
      await store.ackFeed('acme', 1);
      expect(await store.feedPosition('acme')).toEqual({ acked: 1, served: 3 });
      expect(await store.feedPosition('bolt')).toEqual({ acked: 0, served: 0 });
      expect(await store.pullFeed('nobody', 0, 100)).toEqual([]);
    });

    it('parks a row once: settling it parked again, or after another outcome, takes no position', async () => {
      const store = await fresh();
      const [x, y, z] = await rowsOf(store, 'acme', vehicles(3));
      await park(store, [x!]);
      await park(store, [x!]);
      await store.settleOutbox([
        { kind: 'dead', outboxId: y!.id, entry: entry(y!, { outcome: 'dead-lettered', httpStatus: 500 }) },
      ]);
      await store.settleOutbox([
        { kind: 'parked', outboxId: y!.id },
        { kind: 'parked', outboxId: z!.id },
        { kind: 'parked', outboxId: z!.id },
      ]);
      expect((await store.pullFeed('acme', 0, 100)).map((f) => [f.id, f.feedSeq])).toEqual([
        [x!.id, 1],
        [z!.id, 2],
      ]);
      expect(await store.outboxState(y!.id)).toEqual({ status: 'dead', attempts: 1 });
    });

    it('gives distinct, consecutive feed positions to two instances parking at once, each batch in its order', async () => {
      const store = await fresh();
      const other = await second();
      const rows = await rowsOf(store, 'acme', vehicles(60));
      const batches = Array.from({ length: 20 }, (_, i) => rows.slice(i * 3, i * 3 + 3));
      await Promise.all(
        [store, other].map(async (s, k) => {
          for (const batch of batches.filter((_, i) => i % 2 === k)) await park(s, batch);
        }),
      );
      const feed = await other.pullFeed('acme', 0, 1_000);
      expect(feed.map((f) => f.feedSeq)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
      expect(new Set(feed.map((f) => f.id)).size).toBe(60);
      const seqOf = new Map(feed.map((f) => [f.id, f.feedSeq]));
      for (const batch of batches) {
        const seqs = batch.map((r) => seqOf.get(r.id)!);
        expect(seqs).toEqual([seqs[0]!, seqs[0]! + 1, seqs[0]! + 2]);
      }
    });
  });

  describe('signing keys', () => {
    const seed = Buffer.alloc(32, 7);
    const k1 = Buffer.alloc(32, 1);
    const k2 = Buffer.alloc(32, 2);

    it("keeps the seed as version 0 on the first rotation, retires older keys at the overlap's end, newest first", async () => {
      const store = await fresh();
      expect(await store.listSigningKeys('acme')).toEqual([]);
      const hour = 3_600_000;
      expect(
        await store.rotateSigningKey({ oem: 'acme', key: k1, now: T0, previousRetiresAt: T0 + hour, seed }),
      ).toEqual({ oem: 'acme', version: 1, key: k1, createdAt: T0, retiresAt: null });
      expect(await store.listSigningKeys('acme')).toEqual([
        { oem: 'acme', version: 1, key: k1, createdAt: T0, retiresAt: null },
        { oem: 'acme', version: 0, key: seed, createdAt: T0, retiresAt: T0 + hour },
      ]);
      // A hard switch ten minutes later: both older keys stop now, even the one still in its overlap.
      const t2 = T0 + 600_000;
      expect(
        (
          await store.rotateSigningKey({
            oem: 'acme',
            key: k2,
            now: t2,
            previousRetiresAt: t2,
            seed: Buffer.alloc(32, 9),
          })
        ).version,
      ).toBe(2);
      expect((await store.listSigningKeys('acme')).map((k) => [k.version, k.key, k.retiresAt])).toEqual([
        [2, k2, null],
        [1, k1, t2],
        [0, seed, t2],
      ]);
      // A later, longer overlap never extends a key that already stopped.
      await store.rotateSigningKey({ oem: 'acme', key: k1, now: t2 + 1, previousRetiresAt: t2 + hour, seed });
      expect((await store.listSigningKeys('acme')).map((k) => [k.version, k.retiresAt])).toEqual([
        [3, null],
        [2, t2 + hour],
        [1, t2],
        [0, t2],
      ]);
      expect(await store.listSigningKeys('bolt')).toEqual([]);
    });

    it('rotates twice when two instances rotate one OEM at the same time', async () => {
      const store = await fresh();
      const other = await second();
      const [a, b] = await Promise.all([
        store.rotateSigningKey({ oem: 'acme', key: k1, now: T0, previousRetiresAt: T0 + 1_000, seed }),
        other.rotateSigningKey({ oem: 'acme', key: k2, now: T0, previousRetiresAt: T0 + 1_000, seed }),
      ]);
      expect([a.version, b.version].sort()).toEqual([1, 2]);
      const keys = await store.listSigningKeys('acme');
      expect(keys.map((k) => k.version)).toEqual([2, 1, 0]);
      expect(keys.filter((k) => k.retiresAt === null)).toHaveLength(1);
      expect(keys[2]!.key).toEqual(seed);
    });

    it('lists every secret and key, and overwrites one in place (what sealing an old store does)', async () => {
      const store = await fresh();
      await store.putSecretIfAbsent('b-secret', Buffer.from('b'));
      await store.putSecretIfAbsent('a-secret', Buffer.from('a'));
      expect(await store.listSecretNames()).toEqual(['a-secret', 'b-secret']);
      await store.replaceSecret('a-secret', Buffer.from('A'));
      expect(await store.getSecret('a-secret')).toEqual(Buffer.from('A'));
      await store.rotateSigningKey({ oem: 'acme', key: k1, now: T0, previousRetiresAt: T0, seed });
      expect((await store.listAllSigningKeys()).map((k) => [k.oem, k.version])).toEqual([
        ['acme', 1],
        ['acme', 0],
      ]);
      await store.replaceSigningKey('acme', 0, k2);
      expect((await store.listSigningKeys('acme'))[1]!.key).toEqual(k2);
      await store.purgeFreedPages();
      expect(await store.getSecret('b-secret')).toEqual(Buffer.from('b'));
    });
  });

  describe('downlink commands', () => {
    const command = (
      o: Partial<Parameters<Store['createCommand']>[0]> = {},
    ): Parameters<Store['createCommand']>[0] => ({
      id: `0190c3a0-0000-7000-8000-${String(Math.floor(Math.random() * 1e12)).padStart(12, '0')}`,
      oem: 'acme',
      vin: VIN1,
      pseudonym: 'p-001',
      type: 'lock',
      params: { maxKmh: 90, mode: 'eco' },
      status: 'queued',
      reason: null,
      apiKey: 'k1',
      createdAt: T0,
      expiresAt: T0 + 60_000,
      ...o,
    });
    const leaf = (c: { id: string }, action: string, outcome: string): AuditEventBody => ({
      action,
      commandId: c.id,
      oem: 'acme',
      pseudonym: 'p-001',
      type: 'lock',
      outcome,
      reason: null,
    });
    /** The command leaves of the tree, as an auditor exports them: action and command id. */
    const leaves = async (store: Store) =>
      (await store.exportLeaves(-1, 1_000, 1_000)).map((l) => [
        l.entry.kind,
        l.entry.action,
        l.entry.commandId,
        l.entry.at,
      ]);

    it('records a command with its leaf, and each step (sent, acknowledged) with one more leaf, in order', async () => {
      const store = await fresh();
      const c = command();
      const row = await store.createCommand(c, leaf(c, 'requested', 'allowed'));
      expect(row).toEqual({ ...c, sentAt: null, acks: [] });
      // The parameters as the OEM sent them, in its order: what the car receives.
      expect(Object.keys(row.params)).toEqual(['maxKmh', 'mode']);
      expect(await store.getCommand(c.id)).toEqual(row);
      expect(await store.getCommand('nope')).toBeUndefined();
      expect(await store.auditTreeSize()).toBe(1);
      expect((await store.exportLeaves(-1, 1, 1))[0]!.entry).toEqual({
        ...leaf(c, 'requested', 'allowed'),
        v: 1,
        kind: 'command',
        index: 0,
        at: T0,
      });

      expect((await store.queuedCommands(VIN1)).map((q) => q.id)).toEqual([c.id]);
      expect(await store.markCommandSent(c.id, T0 + 5, leaf(c, 'sent', 'sent'))).toBe(true);
      expect(await store.markCommandSent(c.id, T0 + 6, leaf(c, 'sent', 'sent'))).toBe(false);
      expect(await store.auditTreeSize()).toBe(2);
      expect(await store.getCommand(c.id)).toMatchObject({ status: 'sent', sentAt: T0 + 5 });
      expect(await store.queuedCommands(VIN1)).toEqual([]);

      // Only the car it was sent to can acknowledge it, only while it is open.
      expect(
        await store.recordCommandAck(
          { id: c.id, vin: VIN2, ack: { status: 'done', detail: null, at: T0 + 7 } },
          leaf(c, 'acknowledged', 'done'),
        ),
      ).toBe(false);
      expect(
        await store.recordCommandAck(
          { id: c.id, vin: VIN1, ack: { status: 'accepted', detail: null, at: T0 + 8 } },
          leaf(c, 'acknowledged', 'accepted'),
        ),
      ).toBe(true);
      expect(
        await store.recordCommandAck(
          { id: c.id, vin: VIN1, ack: { status: 'done', detail: 'locked \u0000 ok', at: T0 + 9 } },
          leaf(c, 'acknowledged', 'done'),
        ),
      ).toBe(true);
      expect(
        await store.recordCommandAck(
          { id: c.id, vin: VIN1, ack: { status: 'failed', detail: null, at: T0 + 10 } },
          leaf(c, 'acknowledged', 'failed'),
        ),
      ).toBe(false);
      expect(await store.getCommand(c.id)).toMatchObject({
        status: 'done',
        acks: [
          { status: 'accepted', detail: null, at: T0 + 8 },
          { status: 'done', detail: 'locked \u0000 ok', at: T0 + 9 },
        ],
      });
      expect(await leaves(store)).toEqual([
        ['command', 'requested', c.id, T0],
        ['command', 'sent', c.id, T0 + 5],
        ['command', 'acknowledged', c.id, T0 + 8],
        ['command', 'acknowledged', c.id, T0 + 9],
      ]);
    });

    it('requeues a command whose publish failed, with an unsent leaf, and sends it again', async () => {
      const store = await fresh();
      const c = command();
      await store.createCommand(c, leaf(c, 'requested', 'allowed'));
      // Not sent: nothing changes, nothing is logged.
      expect(await store.requeueCommand(c.id, T0 + 1, leaf(c, 'unsent', 'queued'))).toBe(false);
      expect(await store.getCommand(c.id)).toMatchObject({ status: 'queued', sentAt: null });
      expect(await store.auditTreeSize()).toBe(1);
      await store.markCommandSent(c.id, T0 + 1, leaf(c, 'sent', 'sent'));
      expect(await store.requeueCommand(c.id, T0 + 2, leaf(c, 'unsent', 'queued'))).toBe(true);
      expect(await store.getCommand(c.id)).toMatchObject({ status: 'queued', sentAt: null });
      expect(await store.auditTreeSize()).toBe(3);
      expect(await store.markCommandSent(c.id, T0 + 3, leaf(c, 'sent', 'sent'))).toBe(true);
      expect(await store.auditTreeSize()).toBe(4);
    });

    it('expires queued commands whose ttl passed, oldest first, each with its leaf', async () => {
      const store = await fresh();
      const late = command({ createdAt: T0 + 1, expiresAt: T0 + 300 });
      const early = command({ createdAt: T0 + 2, expiresAt: T0 + 100 });
      const fresh_ = command({ createdAt: T0 + 3, expiresAt: T0 + 10_000 });
      const other = command({ vin: VIN2, createdAt: T0 + 4, expiresAt: T0 + 200 });
      for (const c of [late, early, fresh_, other]) await store.createCommand(c, leaf(c, 'requested', 'allowed'));
      expect((await store.queuedCommands(VIN1)).map((c) => c.id)).toEqual([late.id, early.id, fresh_.id]);
      expect((await store.expiredQueuedCommands(T0 + 1_000, 100)).map((c) => c.id)).toEqual([
        early.id,
        other.id,
        late.id,
      ]);
      expect((await store.expiredQueuedCommands(T0 + 1_000, 2)).map((c) => c.id)).toEqual([early.id, other.id]);
      expect(await store.expiredQueuedCommands(T0 + 100, 100)).toEqual([]);

      expect(await store.expireCommand(early.id, T0 + 1_000, 'ttl passed', leaf(early, 'expired', 'expired'))).toBe(
        true,
      );
      expect(await store.expireCommand(early.id, T0 + 1_001, 'ttl passed', leaf(early, 'expired', 'expired'))).toBe(
        false,
      );
      expect(await store.markCommandSent(early.id, T0 + 1_002, leaf(early, 'sent', 'sent'))).toBe(false);
      expect(await store.getCommand(early.id)).toMatchObject({ status: 'expired', reason: 'ttl passed', sentAt: null });
      expect(await store.auditTreeSize()).toBe(5);
      expect((await store.expiredQueuedCommands(T0 + 1_000, 100)).map((c) => c.id)).toEqual([other.id, late.id]);
    });

    it('counts the times of commands not blocked, per vehicle and type, and writes nothing of a command that fails', async () => {
      const store = await fresh();
      const blocked = command({ status: 'blocked', reason: '"lock" restricts the car', createdAt: T0 + 2 });
      const rows: CommandRow[] = [];
      for (const c of [
        command({ createdAt: T0 }),
        blocked,
        command({ createdAt: T0 + 3 }),
        command({ type: 'horn', createdAt: T0 + 4 }),
        command({ vin: VIN2, createdAt: T0 + 5 }),
      ]) {
        rows.push(await store.createCommand(c, leaf(c, 'requested', c.status === 'blocked' ? 'blocked' : 'allowed')));
      }
      expect(rows[1]).toMatchObject({ status: 'blocked', reason: '"lock" restricts the car' });
      expect(await store.commandTimes(VIN1, 'lock', T0)).toEqual([T0, T0 + 3]);
      expect(await store.commandTimes(VIN1, 'lock', T0 + 1)).toEqual([T0 + 3]);
      expect(await store.queuedCommands(VIN1).then((q) => q.map((c) => c.status))).toEqual([
        'queued',
        'queued',
        'queued',
      ]);
      expect(await store.auditTreeSize()).toBe(5);
      // The same id again: refused, and no leaf for it.
      await expect(
        store.createCommand(command({ id: rows[0]!.id }), leaf(rows[0]!, 'requested', 'allowed')),
      ).rejects.toThrow();
      expect(await store.auditTreeSize()).toBe(5);
    });

    it('sends a command once when two instances send it at the same time', async () => {
      const store = await fresh();
      const other = await second();
      const c = command();
      await store.createCommand(c, leaf(c, 'requested', 'allowed'));
      const sent = await Promise.all(
        [store, other, store, other].map((s, i) => s.markCommandSent(c.id, T0 + i, leaf(c, 'sent', 'sent'))),
      );
      expect(sent.filter(Boolean)).toHaveLength(1);
      expect(await store.auditTreeSize()).toBe(2);
    });
  });

  describe('command approvals', () => {
    const a = { vin: VIN1, oem: 'acme', type: 'immobilize', ownerId: 'owner-1' };
    const leaf = (action: string): AuditEventBody => ({
      action,
      oem: 'acme',
      pseudonym: 'p-001',
      type: 'immobilize',
      outcome: action,
    });

    it('approves from its time until revoked, once at a time, each change with its leaf, and keeps the history', async () => {
      const store = await fresh();
      expect(await store.isCommandApproved(VIN1, 'acme', 'immobilize', T0)).toBe(false);
      const first = await store.approveCommand({ ...a, now: T0 }, leaf('approved'));
      expect(first).toEqual({ created: true, row: { id: first.row.id, ...a, approvedAt: T0, revokedAt: null } });
      expect(await store.auditTreeSize()).toBe(1);
      // Already in force: returned as it is, no leaf.
      expect(await store.approveCommand({ ...a, ownerId: 'owner-2', now: T0 + 5 }, leaf('approved'))).toEqual({
        created: false,
        row: first.row,
      });
      expect(await store.auditTreeSize()).toBe(1);

      expect(await store.isCommandApproved(VIN1, 'acme', 'immobilize', T0 - 1)).toBe(false);
      expect(await store.isCommandApproved(VIN1, 'acme', 'immobilize', T0)).toBe(true);
      expect(await store.isCommandApproved(VIN1, 'acme', 'speed-limit', T0)).toBe(false);
      expect(await store.isCommandApproved(VIN1, 'bolt', 'immobilize', T0)).toBe(false);
      expect(await store.isCommandApproved(VIN2, 'acme', 'immobilize', T0)).toBe(false);

      expect(
        await store.revokeCommandApproval(
          { vin: VIN1, oem: 'acme', type: 'immobilize', now: T0 + 10 },
          leaf('revoked'),
        ),
      ).toBe(true);
      expect(
        await store.revokeCommandApproval(
          { vin: VIN1, oem: 'acme', type: 'immobilize', now: T0 + 11 },
          leaf('revoked'),
        ),
      ).toBe(false);
      expect(await store.auditTreeSize()).toBe(2);
      expect(await store.isCommandApproved(VIN1, 'acme', 'immobilize', T0 + 9)).toBe(true);
      expect(await store.isCommandApproved(VIN1, 'acme', 'immobilize', T0 + 10)).toBe(false);

      const again = await store.approveCommand({ ...a, ownerId: 'owner-2', now: T0 + 20 }, leaf('approved'));
      expect(again.created).toBe(true);
      await store.approveCommand({ ...a, type: 'speed-limit', now: T0 + 20 }, leaf('approved'));
      await store.approveCommand({ ...a, vin: VIN2, now: T0 + 30 }, leaf('approved'));
      expect(await store.auditTreeSize()).toBe(5);
      expect(
        (await store.listCommandApprovals(VIN1)).map((r) => [r.type, r.ownerId, r.approvedAt, r.revokedAt]),
      ).toEqual([
        ['speed-limit', 'owner-1', T0 + 20, null],
        ['immobilize', 'owner-2', T0 + 20, null],
        ['immobilize', 'owner-1', T0, T0 + 10],
      ]);
      expect((await store.listCommandApprovals(VIN2)).map((r) => r.vin)).toEqual([VIN2]);
      expect(await store.listCommandApprovals('LSHKZ000000000009')).toEqual([]);
      expect((await store.exportLeaves(-1, 100, 100)).map((l) => [l.entry.kind, l.entry.action])).toEqual([
        ['command', 'approved'],
        ['command', 'revoked'],
        ['command', 'approved'],
        ['command', 'approved'],
        ['command', 'approved'],
      ]);
    });

    it('approves once when two instances approve at the same time', async () => {
      const store = await fresh();
      const other = await second();
      const results = await Promise.all(
        [store, other, store, other].map((s, i) =>
          s.approveCommand({ ...a, ownerId: `owner-${i}`, now: T0 + i }, leaf('approved')),
        ),
      );
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.row.id)).size).toBe(1);
      expect(await store.listCommandApprovals(VIN1)).toHaveLength(1);
      expect(await store.auditTreeSize()).toBe(1);
    });
  });
});
