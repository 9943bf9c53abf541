/**
 * Records, route points, account data and quarantine in PostgreSQL. Route points are
 * RANGE-partitioned by the point's own time (monthly, see ../pg/route-partitions.ts) so retention
 * drops a whole month at once; a default partition takes any point no month partition covers,
 * so an insert never fails for want of a partition.
 *
 * No store ever existed before 0010-retention on PostgreSQL, so route points, account data and
 * the outbox are created here in their post-0010 shape: each with its own time and no foreign
 * key to `records`, so each category of data follows its own retention period and erasure.
 */
import type { PgMigration } from '../pg/migrate.js';
import { pgText, type Db, type Sql } from '../pg/db.js';
import type { IngestItem, RecordStore } from './types.js';
import {
  recordValues,
  routePoint,
  toQuarantineItem,
  toStoredRecord,
  type QuarantineDbRow,
  type RecordDbRow,
} from './rows.js';

export const RECORD_MIGRATIONS: PgMigration[] = [
  {
    id: '0002-records',
    sql: `
  -- Records as received, with the decoded canonical record (minus account data).
  CREATE TABLE records (
    id           TEXT PRIMARY KEY,
    vin          TEXT NOT NULL,
    oem          TEXT NOT NULL,
    channel      TEXT NOT NULL,
    received_at  BIGINT NOT NULL,
    observed_at  BIGINT NOT NULL,
    signals      JSONB NOT NULL,
    unknown_keys JSONB NOT NULL,
    raw          BYTEA NOT NULL
  );
  CREATE INDEX records_vin_time ON records (vin, observed_at);

  -- A partitioned table's primary key must hold the partition key; record_id alone is unique.
  CREATE TABLE route_points (
    record_id    TEXT NOT NULL,
    vin          TEXT NOT NULL,
    observed_at  BIGINT NOT NULL,
    latitude     DOUBLE PRECISION NOT NULL,
    longitude    DOUBLE PRECISION NOT NULL,
    speed        DOUBLE PRECISION,
    PRIMARY KEY (record_id, observed_at)
  ) PARTITION BY RANGE (observed_at);
  CREATE TABLE route_points_default PARTITION OF route_points DEFAULT;
  CREATE INDEX route_points_vin_time ON route_points (vin, observed_at);

  -- Personal data, kept apart so retention and erasure can treat it on its own.
  CREATE TABLE account_data (
    record_id    TEXT PRIMARY KEY,
    vin          TEXT NOT NULL,
    received_at  BIGINT NOT NULL,
    data         JSONB NOT NULL
  );

  CREATE TABLE quarantine (
    id           TEXT PRIMARY KEY,
    vin          TEXT NOT NULL,
    channel      TEXT NOT NULL,
    received_at  BIGINT NOT NULL,
    reason       TEXT NOT NULL,
    raw          BYTEA NOT NULL
  );`,
  },
  {
    // The car's time far from the time of receipt (src/ingest/intake.ts): 'ahead' or 'behind',
    // NULL when plausible. The car's time itself stays in observed_at, as sent.
    id: '0066-records-clock-skew',
    sql: `ALTER TABLE records ADD COLUMN clock_skew TEXT CHECK (clock_skew IN ('ahead', 'behind'));`,
  },
  {
    // On SQLite a vehicle's records are found through records_vin, indexed in batches, and
    // records_vin_time goes (one random page per car per commit on the one writer). PostgreSQL
    // keeps records_vin_time: instances share it and write concurrently. The migration exists
    // so both backends record the same ids.
    id: '0170-records-by-vin-in-batches',
    sql: `SELECT 1;`,
  },
  {
    // SQLite's batched VIN index learns to see renumbered rowids; PostgreSQL has no batched
    // index and no rowids to renumber. The migration exists so both backends record the same ids.
    id: '0180-records-vin-mark-names-its-record',
    sql: `SELECT 1;`,
  },
];

export interface PgRecordWriter {
  /** Writes the record side of a batch (records, route points, account data, quarantine) with one statement per table. Inside the caller's transaction. */
  write(t: Sql, items: readonly IngestItem[]): Promise<void>;
}

export function pgRecords(db: Db): RecordStore & PgRecordWriter {
  return {
    async write(t, items) {
      const rec: unknown[][] = [[], [], [], [], [], [], [], [], [], []];
      const pt: unknown[][] = [[], [], [], [], [], [], []];
      const acc: unknown[][] = [[], [], [], []];
      const qua: unknown[][] = [[], [], [], [], [], []];
      const push = (cols: unknown[][], ...v: unknown[]) => v.forEach((x, i) => cols[i]!.push(x));
      for (const it of items) {
        if (it.kind === 'quarantine') {
          const x = it.item;
          push(qua, x.id, x.vin, x.channel, x.receivedAt, pgText(x.reason), x.raw);
          continue;
        }
        const r = it.record;
        push(rec, ...recordValues(r, it.raw));
        const p = routePoint(r);
        if (p) push(pt, r.id, r.vin, r.observedAt, r.receivedAt, p.lat, p.lon, p.speed);
        if (Object.keys(r.account).length > 0) push(acc, r.id, r.vin, r.receivedAt, JSON.stringify(r.account));
      }
      if (rec[0]!.length > 0) {
        await t.query(
          `INSERT INTO records (id, vin, oem, channel, received_at, observed_at, clock_skew, signals, unknown_keys, raw)
          SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::text[], $8::jsonb[], $9::jsonb[], $10::bytea[])`,
          rec,
        );
      }
      if (pt[0]!.length > 0) {
        await t.query(
          `INSERT INTO route_points (record_id, vin, observed_at, received_at, latitude, longitude, speed)
          SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::float8[], $6::float8[], $7::float8[])`,
          pt,
        );
      }
      if (acc[0]!.length > 0) {
        await t.query(
          `INSERT INTO account_data (record_id, vin, received_at, data) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::jsonb[])`,
          acc,
        );
      }
      if (qua[0]!.length > 0) {
        await t.query(
          `INSERT INTO quarantine (id, vin, channel, received_at, reason, raw)
          SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::bytea[])`,
          qua,
        );
      }
    },
    async getRecord(id) {
      const [row] = await db.query<RecordDbRow>(
        `SELECT r.id, r.vin, r.oem, r.channel, r.received_at, r.observed_at, r.clock_skew, r.signals, r.unknown_keys, r.raw, a.data AS account
        FROM records r LEFT JOIN account_data a ON a.record_id = r.id WHERE r.id = $1`,
        [id],
      );
      return row ? toStoredRecord(row) : undefined;
    },
    recordVin: async (id) => (await db.query<{ vin: string }>(`SELECT vin FROM records WHERE id = $1`, [id]))[0]?.vin,
    listQuarantine: async (limit = 100) =>
      (
        await db.query<QuarantineDbRow>(
          `SELECT id, vin, channel, received_at, reason, raw FROM quarantine
        ORDER BY received_at DESC, id COLLATE "C" DESC LIMIT $1`,
          [limit],
        )
      ).map(toQuarantineItem),
  };
}
