/**
 * Retention in SQLite: each category of personal data is deleted once older than its
 * period, in small batches with a turn of the event loop between them, so a sweep over a large
 * backlog never holds the (single) writer or the process for long. The egress log and its
 * Merkle tables are exempt (and append-only).
 */
import type Database from 'better-sqlite3';
import type { Migration } from '../sqlite/migrate.js';
import type { RetentionStore } from './types.js';
import { cutoffs, noneRemoved } from './rows.js';

/** `table` (a record's child) loses its VIN index `dropped` to one over the rows past their record. */
const pastRecord = (id: string, table: 'route_points' | 'account_data', dropped: string): Migration => ({
  id,
  sql: `
  ALTER TABLE ${table} ADD COLUMN past_record INTEGER;
  UPDATE ${table} SET past_record = 1 WHERE NOT EXISTS (SELECT 1 FROM records r WHERE r.id = ${table}.record_id);
  CREATE INDEX ${table}_past_record_vin ON ${table} (vin) WHERE past_record IS NOT NULL;
  DROP INDEX ${dropped};`,
});

export const RETENTION_MIGRATIONS: Migration[] = [
  {
    // Route points and account data each follow their own period and erasure, so they no longer
    // hang off `records` by a foreign key (a record deleted at 90 days must not take a year's
    // account data with it). SQLite cannot drop a foreign key: each table is rebuilt, rows and
    // ids kept. (The outbox lost its foreign key in 0032.) Numbered after every shipped
    // migration: a store written by an earlier build applies it last, as a fresh one does.
    id: '0033-retention',
    sql: `
  CREATE TABLE route_points_v2 (
    record_id    TEXT PRIMARY KEY,
    vin          TEXT NOT NULL,
    observed_at  INTEGER NOT NULL,
    latitude     REAL NOT NULL,
    longitude    REAL NOT NULL,
    speed        REAL
  ) STRICT;
  INSERT INTO route_points_v2 SELECT record_id, vin, observed_at, latitude, longitude, speed FROM route_points;
  DROP TABLE route_points;
  ALTER TABLE route_points_v2 RENAME TO route_points;
  CREATE INDEX route_points_vin_time ON route_points (vin, observed_at);
  CREATE INDEX route_points_time ON route_points (observed_at);

  -- Account data gets its record's arrival time: its retention clock.
  CREATE TABLE account_data_v2 (
    record_id    TEXT PRIMARY KEY,
    vin          TEXT NOT NULL,
    received_at  INTEGER NOT NULL,
    data         TEXT NOT NULL
  ) STRICT;
  INSERT INTO account_data_v2 SELECT a.record_id, a.vin, r.received_at, a.data FROM account_data a JOIN records r ON r.id = a.record_id;
  DROP TABLE account_data;
  ALTER TABLE account_data_v2 RENAME TO account_data;
  CREATE INDEX account_data_received ON account_data (received_at);
  CREATE INDEX account_data_vin ON account_data (vin);

  -- Retention finds expired rows by time, erasure finds a vehicle's rows by VIN.
  CREATE INDEX records_received ON records (received_at);
  CREATE INDEX quarantine_received ON quarantine (received_at);
  CREATE INDEX IF NOT EXISTS quarantine_vin ON quarantine (vin);`,
  },
  {
    // Route points expire by the time the gateway received them, not the car's own clock: a car
    // that says 2099 must not keep its location past the retention period. The car's time stays
    // as data (observed_at). Rows from before: their record's arrival, else their car time.
    id: '0065-route-points-received',
    sql: `
  ALTER TABLE route_points ADD COLUMN received_at INTEGER;
  UPDATE route_points SET received_at = COALESCE((SELECT r.received_at FROM records r WHERE r.id = route_points.record_id), observed_at);
  CREATE INDEX route_points_received ON route_points (received_at);`,
  },
  // Erasure finds a vehicle's route points and account data through its records
  // (records_of_vin, 0170), not through indexes of their own: a VIN-keyed index over every row
  // dirtied one page per car per commit (~4 KB of WAL per record on a store of 150,000 records).
  // Only a row that outlives its record (routePointsDays or accountDataDays > rawRecordsDays;
  // account data is kept 365 days by default, records 90) needs the VIN: retention marks it when
  // it deletes the record, and only marked rows are indexed by VIN. Rows from before whose record
  // is already gone are marked here.
  pastRecord('0150-route-points-past-record', 'route_points', 'route_points_vin_time'),
  pastRecord('0151-account-data-past-record', 'account_data', 'account_data_vin'),
];

const BATCH = 2_000;
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

export function sqliteRetention(db: Database.Database): RetentionStore {
  const expiredAccount = db.prepare(
    `DELETE FROM account_data WHERE record_id IN (SELECT record_id FROM account_data WHERE received_at < ? LIMIT ?)`,
  );
  const expiredQuarantine = db.prepare(
    `DELETE FROM quarantine WHERE id IN (SELECT id FROM quarantine WHERE received_at < ? LIMIT ?)`,
  );
  const expiredPoints = db.prepare(
    `DELETE FROM route_points WHERE record_id IN (SELECT record_id FROM route_points WHERE received_at < ? LIMIT ?)`,
  );
  // A record still on its way out (pending or published) is kept until it is settled; its
  // settled outbox rows (which hold the body sent) go with it.
  const expiredRecords = db
    .prepare(
      `SELECT r.id FROM records r WHERE r.received_at < ?
      AND NOT EXISTS (SELECT 1 FROM egress_outbox o WHERE o.record_id = r.id AND o.status IN ('pending', 'published')) LIMIT ?`,
    )
    .pluck();
  const deleteOutboxOf = db.prepare(`DELETE FROM egress_outbox WHERE record_id = ?`);
  // A route point or account data kept longer than its record is marked: erasure finds it by
  // VIN from then on (0150, 0151).
  const markPast = ['route_points', 'account_data'].map((t) =>
    db.prepare(`UPDATE ${t} SET past_record = 1 WHERE record_id = ?`),
  );
  const deleteRecord = db.prepare(`DELETE FROM records WHERE id = ?`);
  const deleteRecords = db.transaction((cutoff: number) => {
    const ids = expiredRecords.all(cutoff, BATCH) as string[];
    for (const id of ids) {
      deleteOutboxOf.run(id);
      for (const st of markPast) st.run(id);
      deleteRecord.run(id);
    }
    return ids.length;
  });

  const drain = async (batch: (cutoff: number) => number, cutoff: number) => {
    let total = 0;
    for (;;) {
      const n = batch(cutoff);
      total += n;
      if (n < BATCH) return total;
      await turn();
    }
  };
  const run = (st: Database.Statement) => (cutoff: number) => st.run(cutoff, BATCH).changes;

  return {
    async applyRetention(nowMs, periods) {
      const cut = cutoffs(nowMs, periods);
      const removed = noneRemoved();
      removed.accountData = await drain(run(expiredAccount), cut.accountData);
      removed.quarantine = await drain(run(expiredQuarantine), cut.raw);
      // Expired account data and points first: a row deleted now need not be marked as outliving its record.
      removed.routePoints = await drain(run(expiredPoints), cut.routePoints);
      removed.records = await drain(deleteRecords, cut.raw);
      return removed;
    },
  };
}
