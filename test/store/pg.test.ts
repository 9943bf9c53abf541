/**
 * What only the PostgreSQL backend has: a server that may be unreachable, month partitions with
 * a default one, and triggers that also refuse TRUNCATE. Everything the two backends share is in
 * conformance.test.ts.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../src/store/pg/index.js';
import { createStore } from '../../src/store/index.js';
import { isShekaraError, type ShekaraError } from '../../src/errors.js';
import { freePort } from '../helpers/net.js';
import { createLogger } from '../../src/log.js';
import { Writable } from 'node:stream';

const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';
const run = `shk_pg_${process.pid}_${randomBytes(3).toString('hex')}`;
const schemas: string[] = [];
const schema = () => {
  const s = `${run}_${schemas.length}`;
  schemas.push(s);
  return s;
};
const sql = async <T = Record<string, unknown>>(text: string, values: unknown[] = []): Promise<T[]> => {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    return (await c.query(text, values)).rows as T[];
  } finally {
    await c.end();
  }
};
afterAll(async () => {
  for (const s of schemas) await sql(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
});

const failure = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('opened');
    },
    (e: unknown) => e as ShekaraError,
  );

describe('PostgreSQL store', () => {
  it('names host:port and the reason when the server refuses the connection, never the password', async () => {
    const port = await freePort();
    const err = await failure(
      createStore(
        { kind: 'postgres', url: `postgres://shekara:hunter2@127.0.0.1:${port}/shekara`, schema: 'x', poolSize: 1 },
        '/tmp',
      ),
    );
    expect(isShekaraError(err, 'SHK_STORE_UNAVAILABLE')).toBe(true);
    expect(err.message).toBe(`cannot reach PostgreSQL at 127.0.0.1:${port}: connection refused`);
    expect(err.retriable).toBe(true);
    expect(JSON.stringify(err.details)).not.toContain('hunter2');
  });

  it('never logs the URL of a store config, which may hold the password', () => {
    let out = '';
    const log = createLogger(
      'info',
      new Writable({
        write(c, _e, done) {
          out += String(c);
          done();
        },
      }),
    );
    log.info({ store: { kind: 'postgres', url: 'postgres://u:hunter2@db:5432/x' } }, 'config');
    expect(out).toContain('"url":"[redacted]"');
    expect(out).not.toContain('hunter2');
  });

  it('says so when the database does not exist', async () => {
    const err = await failure(
      openPostgresStore({ url: 'postgres://postgres@127.0.0.1:5432/no_such_db_shekara', schema: 'x', poolSize: 1 }),
    );
    expect(isShekaraError(err, 'SHK_STORE_UNAVAILABLE')).toBe(true);
    expect(err.message).toMatch(
      /^cannot reach PostgreSQL at 127\.0\.0\.1:5432: database "no_such_db_shekara" does not exist$/,
    );
  });

  it('refuses to update, delete or truncate the egress log and its tree', async () => {
    const s = schema();
    const store = await openPostgresStore({ url: PG_URL, schema: s, poolSize: 1 });
    await store.appendAuditEvent('access', 1, { actor: 'test' });
    await store.close();
    for (const stmt of [
      `UPDATE "${s}".audit_leaves SET kind = 'x'`,
      `DELETE FROM "${s}".audit_events`,
      `TRUNCATE "${s}".audit_nodes`,
      `TRUNCATE "${s}".egress_log`,
    ]) {
      await expect(sql(stmt)).rejects.toThrow(/is append-only/);
    }
  });

  it('keeps a point no month partition covers in the default partition, and moves it into its month once created', async () => {
    const s = schema();
    const store = await openPostgresStore({ url: PG_URL, schema: s, poolSize: 2 });
    const far = new Date();
    far.setUTCMonth(far.getUTCMonth() + 8, 3);
    const at = far.getTime();
    await store.commitIngest([
      {
        kind: 'record',
        raw: Buffer.from('{}'),
        projections: [],
        record: {
          id: 'r-far',
          vin: 'LSHKZ000000000001',
          oem: 'acme',
          channel: 'mqtt',
          receivedAt: Date.now(),
          observedAt: at,
          signals: { 'Vehicle.CurrentLocation.Latitude': 43.2, 'Vehicle.CurrentLocation.Longitude': 76.9 },
          account: {},
          unknownKeys: [],
        },
      },
    ]);
    const where = async () =>
      (
        await sql<{ p: string }>(
          `SELECT tableoid::regclass::text AS p FROM "${s}".route_points WHERE record_id = 'r-far'`,
        )
      ).map((r) => r.p);
    expect(await where()).toEqual([`${s}.route_points_default`]);
    // The sweep at that month creates its partition (and the months ahead): the point moves in, nothing is deleted.
    expect(
      await store.applyRetention(at, { rawRecordsDays: 1_000, routePointsDays: 1_000, accountDataDays: 1_000 }),
    ).toEqual({ records: 0, routePoints: 0, accountData: 0, quarantine: 0 });
    const month = `route_points_p${far.getUTCFullYear()}${String(far.getUTCMonth() + 1).padStart(2, '0')}`;
    expect(await where()).toEqual([`${s}.${month}`]);
    await store.close();
  });
});
