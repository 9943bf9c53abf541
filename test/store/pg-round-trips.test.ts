/**
 * PostgreSQL: a lease of due heads and a settlement are each ONE round trip to the server (one
 * message answered by one ReadyForQuery), so no transaction sits "idle in transaction" while the
 * instance's event loop gets to its next statement (docs/store-concurrency.md). Counted on the
 * wire, through a loopback proxy. And what the one statement keeps of the settle's guarantees:
 * a settle that waited for a row another transaction delivered meanwhile logs nothing, and a
 * settle whose staging fails changes no row.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../src/store/pg/index.js';
import type { EgressSettlement, OutboxRow, Store } from '../../src/store/types.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { eventually } from '../helpers/wait.js';
import { PG_URL, T0, entry, item, projection, record } from './backends.js';

const SCHEMA = `shk_trips_${process.pid}_${randomBytes(3).toString('hex')}`;

/** ReadyForQuery messages ('Z') the server sent on one connection's bytes: one per round trip. */
function readyForQuery(bytes: Buffer): number {
  let n = 0;
  // Every message from the server: a type byte, then its length (itself included).
  for (let at = 0; at + 5 <= bytes.length; at += 1 + bytes.readInt32BE(at + 1)) if (bytes[at] === 0x5a) n += 1;
  return n;
}

describe('store › PostgreSQL round trips', () => {
  let proxy: TcpProxy;
  let store: Store;
  /** Writes the rows, off the proxy: what counts is the lease and the settle alone. */
  let writer: Store;
  let admin: pg.Client;
  /** Round trips so far, over every connection the store opened through the proxy. */
  const trips = () => {
    let n = 0;
    for (let c = 0; proxy.toClient(c).length > 0; c++) n += readyForQuery(proxy.toClient(c));
    return n;
  };
  const tripsOf = async <T>(f: () => Promise<T>): Promise<[T, number]> => {
    const before = trips();
    const out = await f();
    return [out, trips() - before];
  };
  const rows = async (vehicles: number, at: number): Promise<void> => {
    const recs = Array.from({ length: vehicles }, () => record({ receivedAt: at }));
    await writer.commitIngest(recs.map((r, i) => item(r, [projection(r, { vehicle: `v${at}-${i}` })])));
  };
  const staged = async () =>
    Number((await admin.query(`SELECT count(*) AS n FROM "${SCHEMA}".egress_log_staged`)).rows[0].n);

  beforeAll(async () => {
    proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
    const url = new URL(PG_URL);
    url.port = String(proxy.port);
    // One connection: what a statement waits for is the server, never the pool.
    store = await openPostgresStore({ url: url.toString(), schema: SCHEMA, poolSize: 1 });
    writer = await openPostgresStore({ url: PG_URL, schema: SCHEMA, poolSize: 1 });
    admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
  });
  afterAll(async () => {
    await store?.close();
    await writer?.close();
    await admin?.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
    await admin?.end();
    await proxy?.close();
  });

  it('a lease of 64 due heads is one round trip, and settling them, with or without their digests, is one', async () => {
    await rows(64, T0);
    const [leased, leaseTrips] = await tripsOf(() => store.leaseDueOutbox(T0 + 1, 64, 60_000));
    expect(leased).toHaveLength(64);
    const settle = (rs: OutboxRow[], digest: boolean) =>
      store.settleOutbox(
        rs.map((r): EgressSettlement => ({
          kind: 'delivered',
          outboxId: r.id,
          entry: digest ? { ...entry(r), payload: { payloadSha256: 'ab'.repeat(32), payloadBytes: 2 } } : entry(r),
        })),
      );
    const [, settleTrips] = await tripsOf(() => settle(leased.slice(0, 32), false));
    const [, digestTrips] = await tripsOf(() => settle(leased.slice(32), true));
    expect({ leaseTrips, settleTrips, digestTrips }).toEqual({ leaseTrips: 1, settleTrips: 1, digestTrips: 1 });
    expect(await staged()).toBe(64);
    expect(await store.counts()).toMatchObject({ outboxPending: 0, egressLog: 64 });
  });

  it('a lease of unpublished rows for the Kafka relay, its lock included, is one round trip', async () => {
    await rows(16, T0 + 5);
    const [leased, trips] = await tripsOf(() => store.leaseUnpublished(T0 + 6, 100, 60_000));
    expect(leased.map((r) => r.recordId)).toHaveLength(16);
    expect(trips).toBe(1);
  });

  it('a settle that waited for a row another transaction delivered meanwhile changes and logs nothing', async () => {
    await rows(1, T0 + 10);
    const [row] = await store.leaseDueOutbox(T0 + 11, 1, 60_000);
    const other = new pg.Client({ connectionString: PG_URL });
    await other.connect();
    try {
      // Another instance's settle, not yet committed: the row delivered, its lock held.
      await other.query('BEGIN');
      await other.query(
        `UPDATE "${SCHEMA}".egress_outbox SET status = 'delivered', attempts = attempts + 1 WHERE id = $1`,
        [row!.id],
      );
      const before = await staged();
      const late = store.settleOutbox([{ kind: 'delivered', outboxId: row!.id, entry: entry(row!) }]);
      // The late settle waits for that row's lock (it read the row as pending in its snapshot).
      const holder = (await other.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      await eventually(
        async () =>
          (
            await admin.query(`SELECT count(*) AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`, [
              holder,
            ])
          ).rows[0].n === '1',
        30_000,
        'the settle waiting for the row lock',
      );
      await other.query('COMMIT');
      await late;
      expect(await staged()).toBe(before);
      expect(await store.outboxState(row!.id)).toEqual({ status: 'delivered', attempts: 1 });
    } finally {
      await other.end();
    }
  });

  it('a settle whose egress-log entry cannot be staged changes no row: the outcome and its entry commit together', async () => {
    await rows(1, T0 + 20);
    const [row] = await store.leaseDueOutbox(T0 + 21, 1, 60_000);
    await admin.query(`CREATE FUNCTION "${SCHEMA}".refuse() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'staging refused'; END $$`);
    await admin.query(
      `CREATE TRIGGER refuse BEFORE INSERT ON "${SCHEMA}".egress_log_staged FOR EACH ROW EXECUTE FUNCTION "${SCHEMA}".refuse()`,
    );
    try {
      await expect(store.settleOutbox([{ kind: 'delivered', outboxId: row!.id, entry: entry(row!) }])).rejects.toThrow(
        /staging refused/,
      );
      expect(await store.outboxState(row!.id)).toEqual({ status: 'pending', attempts: 0 });
    } finally {
      await admin.query(`DROP TRIGGER refuse ON "${SCHEMA}".egress_log_staged`);
    }
  });
});
