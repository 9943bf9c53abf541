/**
 * On every store backend: an outcome's payload digest is the one its sender made from the body
 * that crossed, when it came with one; the store reads and hashes the outbox row's stored body
 * only for outcomes that come without it (the pull feed, recordDelivery & co.).
 */
import { describe, expect, it } from 'vitest';
import type { OutboxRow, Store } from '../../src/store/types.js';
import { backends, useBackend, entry, outboxRows, sha256 } from './backends.js';

const digestOf = (body: string) => ({ payloadSha256: sha256(body), payloadBytes: Buffer.byteLength(body) });
const logged = async (store: Store, seq: number) => {
  const e = await store.egressEntry(seq);
  return { payloadSha256: e?.payloadSha256, payloadBytes: e?.payloadBytes };
};

describe.each(backends())('egress log › payload digest: $name', (backend) => {
  const { fresh, opened } = useBackend(backend);
  /** The row's stored body changed behind the store's back, after it was sent. */
  const alterBody = async (row: OutboxRow, body: string) => {
    await opened().sql(`UPDATE egress_outbox SET body = $1 WHERE id = $2`, [body, row.id]);
  };

  it('a settlement with its sender’s digest is logged with that digest, not with the stored body’s', async () => {
    const store = await fresh();
    const [row] = await outboxRows(store, ['v1']);
    const sent = row!.body;
    await alterBody(row!, '{"altered":"after the send, ünïcode"}');

    await store.settleOutbox([
      { kind: 'delivered', outboxId: row!.id, entry: { ...entry(row!), payload: digestOf(sent) } },
    ]);
    expect(await logged(store, 1)).toEqual(digestOf(sent));
  });

  it('each outcome of a batch keeps its own digest, whatever its kind', async () => {
    const store = await fresh();
    const rows = await outboxRows(store, ['v1', 'v2', 'v3']);
    const sent = rows.map((r) => r.body);
    for (const r of rows) await alterBody(r, '{}');

    await store.settleOutbox([
      { kind: 'delivered', outboxId: rows[0]!.id, entry: { ...entry(rows[0]!), payload: digestOf(sent[0]!) } },
      {
        kind: 'failed',
        outboxId: rows[1]!.id,
        entry: { ...entry(rows[1]!, { outcome: 'failed', httpStatus: 503 }), payload: digestOf(sent[1]!) },
        nextAttemptAt: Date.now() + 60_000,
      },
      {
        kind: 'blocked',
        outboxId: rows[2]!.id,
        entry: { ...entry(rows[2]!, { outcome: 'blocked', httpStatus: null }), payload: digestOf(sent[2]!) },
      },
    ]);
    expect([await logged(store, 1), await logged(store, 2), await logged(store, 3)]).toEqual(sent.map(digestOf));
  });

  it('a settlement without a digest is logged with the digest of the row’s body as stored', async () => {
    const store = await fresh();
    const [row] = await outboxRows(store, ['v1']);
    await alterBody(row!, '{"stored":true}');

    await store.settleOutbox([{ kind: 'delivered', outboxId: row!.id, entry: entry(row!) }]);
    expect(await logged(store, 1)).toEqual(digestOf('{"stored":true}'));
  });
});
