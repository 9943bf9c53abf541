/**
 * Records, route points, account data and quarantine in SQLite (the contract: ./types.ts). Each
 * ingest item is written in the caller's transaction (the ingest transaction,
 * ../sqlite/ingest-tx.ts).
 */
import type Database from 'better-sqlite3';
import type { Migration } from '../sqlite/migrate.js';
import type { Sync } from '../sqlite/sync.js';
import type { IngestItem, RecordStore } from './types.js';
import {
  recordValues,
  routePoint,
  toQuarantineItem,
  toStoredRecord,
  type QuarantineDbRow,
  type RecordDbRow,
} from './rows.js';

export const RECORD_MIGRATIONS: Migration[] = [
  {
    id: '0002-records',
    sql: `
  -- Records as received, with the decoded canonical record (minus account data).
  CREATE TABLE records (
    id           TEXT PRIMARY KEY,
    vin          TEXT NOT NULL,
    oem          TEXT NOT NULL,
    channel      TEXT NOT NULL,
    received_at  INTEGER NOT NULL,
    observed_at  INTEGER NOT NULL,
    signals      TEXT NOT NULL,
    unknown_keys TEXT NOT NULL,
    raw          BLOB NOT NULL
  ) STRICT;
  CREATE INDEX records_vin_time ON records (vin, observed_at);

  CREATE TABLE route_points (
    record_id    TEXT PRIMARY KEY REFERENCES records (id) ON DELETE CASCADE,
    vin          TEXT NOT NULL,
    observed_at  INTEGER NOT NULL,
    latitude     REAL NOT NULL,
    longitude    REAL NOT NULL,
    speed        REAL
  ) STRICT;
  CREATE INDEX route_points_vin_time ON route_points (vin, observed_at);

  -- Personal data, kept apart so retention and erasure can treat it on its own.
  CREATE TABLE account_data (
    record_id    TEXT PRIMARY KEY REFERENCES records (id) ON DELETE CASCADE,
    vin          TEXT NOT NULL,
    data         TEXT NOT NULL
  ) STRICT;

  CREATE TABLE quarantine (
    id           TEXT PRIMARY KEY,
    vin          TEXT NOT NULL,
    channel      TEXT NOT NULL,
    received_at  INTEGER NOT NULL,
    reason       TEXT NOT NULL,
    raw          BLOB NOT NULL
  ) STRICT;`,
  },
  {
    // The car's time far from the time of receipt (src/ingest/intake.ts): 'ahead' or 'behind',
    // NULL when plausible. The car's time itself stays in observed_at, as sent.
    id: '0066-records-clock-skew',
    sql: `ALTER TABLE records ADD COLUMN clock_skew TEXT CHECK (clock_skew IN ('ahead', 'behind'));`,
  },
];

export interface RecordWriter {
  /** Writes one ingest item's record side (record, route point, account data, or quarantine row). Inside the caller's transaction. */
  write(item: IngestItem<unknown>): void;
}

export function sqliteRecords(db: Database.Database): Sync<RecordStore> & RecordWriter {
  const insertRecord = db.prepare(
    `INSERT INTO records (id, vin, oem, channel, received_at, observed_at, clock_skew, signals, unknown_keys, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertPoint = db.prepare(
    `INSERT INTO route_points (record_id, vin, observed_at, received_at, latitude, longitude, speed) VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertAccount = db.prepare(`INSERT INTO account_data (record_id, vin, received_at, data) VALUES (?, ?, ?, ?)`);
  const insertQuarantine = db.prepare(
    `INSERT INTO quarantine (id, vin, channel, received_at, reason, raw) VALUES (?, ?, ?, ?, ?, ?)`,
  );
  const getRecord = db.prepare(
    `SELECT r.*, a.data AS account FROM records r LEFT JOIN account_data a ON a.record_id = r.id WHERE r.id = ?`,
  );
  const recordVin = db.prepare(`SELECT vin FROM records WHERE id = ?`).pluck();
  const listQuarantine = db.prepare(`SELECT * FROM quarantine ORDER BY received_at DESC, id DESC LIMIT ?`);

  return {
    write(it) {
      if (it.kind === 'quarantine') {
        const x = it.item;
        insertQuarantine.run(x.id, x.vin, x.channel, x.receivedAt, x.reason, x.raw);
        return;
      }
      const r = it.record;
      insertRecord.run(...recordValues(r, it.raw));
      const p = routePoint(r);
      if (p) insertPoint.run(r.id, r.vin, r.observedAt, r.receivedAt, p.lat, p.lon, p.speed);
      if (Object.keys(r.account).length > 0) insertAccount.run(r.id, r.vin, r.receivedAt, JSON.stringify(r.account));
    },
    getRecord(id) {
      const row = getRecord.get(id) as RecordDbRow | undefined;
      return row ? toStoredRecord(row) : undefined;
    },
    recordVin: (id) => recordVin.get(id) as string | undefined,
    listQuarantine: (limit = 100) => (listQuarantine.all(limit) as QuarantineDbRow[]).map(toQuarantineItem),
  };
}
