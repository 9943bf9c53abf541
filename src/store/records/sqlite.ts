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
  {
    // A vehicle's records are found through records_vin, written in batches (VIN_INDEX_EVERY
    // records at a time, in VIN order), not through records_vin_time: an index over every record
    // keyed by VIN dirtied one page per car per commit (~4.3 of ~10.3 KB of WAL per record on a
    // store of 150,000 records, 1,000 cars). records_vin_mark.through is the last rowid indexed;
    // records after it are the tail, which records_of_vin reads by rowid (the records table
    // grows at its right edge), so a lookup never misses a record committed but not yet indexed,
    // after a crash too. Deleting a record deletes its entry, and lowers the mark to the largest
    // rowid left: SQLite gives a new row the largest rowid + 1, which must land in the tail.
    // (Rowids renumbered by a VACUUM or a reload: 0180.)
    id: '0170-records-by-vin-in-batches',
    sql: `
  CREATE TABLE records_vin (
    vin       TEXT NOT NULL,
    record_id TEXT NOT NULL,
    PRIMARY KEY (vin, record_id)
  ) STRICT, WITHOUT ROWID;
  CREATE TABLE records_vin_mark (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    through INTEGER NOT NULL
  ) STRICT;
  INSERT INTO records_vin (vin, record_id) SELECT vin, id FROM records ORDER BY vin, id;
  INSERT INTO records_vin_mark (id, through) VALUES (1, COALESCE((SELECT MAX(rowid) FROM records), 0));
  CREATE TRIGGER records_vin_forget AFTER DELETE ON records BEGIN
    DELETE FROM records_vin WHERE vin = old.vin AND record_id = old.id;
    UPDATE records_vin_mark SET through = (SELECT COALESCE(MAX(rowid), 0) FROM records)
      WHERE through > (SELECT COALESCE(MAX(rowid), 0) FROM records);
  END;
  CREATE VIEW records_of_vin (vin, id) AS
    SELECT vin, record_id FROM records_vin
    UNION ALL
    SELECT vin, id FROM records WHERE rowid > (SELECT through FROM records_vin_mark WHERE id = 1);
  DROP INDEX records_vin_time;`,
  },
  {
    // The mark names its record (through_id) as well as its rowid, so that a renumbering of the
    // rowids is seen: SQLite documents that VACUUM may renumber a table without an INTEGER
    // PRIMARY KEY (the build in use keeps the rowids of a table that has an index, as records
    // has: its primary key), and a dump reloaded into a new file (sqlite3 .dump) does
    // renumber them, closing the gaps retention left. Renumbered, records of the tail could fall
    // below the mark: an erasure would leave them behind. The mark holds while the rowid of
    // through_id is through (0 with no record); when it does not, records_of_vin reads every
    // record by rowid (complete, slower) until the store is opened or the writer commits, and
    // either indexes every record again (markOfVins, below). The trigger moves the mark to the
    // record before its own when that one is deleted, and only while the mark holds: a mark
    // that no longer holds stays broken until repaired. Every record is indexed once here, so a
    // store renumbered before this migration is whole again.
    id: '0180-records-vin-mark-names-its-record',
    sql: `
  ALTER TABLE records_vin_mark ADD COLUMN through_id TEXT;
  ALTER TABLE records_vin_mark ADD COLUMN repairs INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE records_vin_mark ADD COLUMN repaired_at INTEGER;
  INSERT OR IGNORE INTO records_vin (vin, record_id) SELECT vin, id FROM records ORDER BY vin, id;
  UPDATE records_vin_mark SET
    through = COALESCE((SELECT MAX(rowid) FROM records), 0),
    through_id = (SELECT id FROM records ORDER BY rowid DESC LIMIT 1);
  DROP TRIGGER records_vin_forget;
  CREATE TRIGGER records_vin_forget AFTER DELETE ON records BEGIN
    DELETE FROM records_vin WHERE vin = old.vin AND record_id = old.id;
    UPDATE records_vin_mark SET
      through = COALESCE((SELECT MAX(rowid) FROM records WHERE rowid < old.rowid), 0),
      through_id = (SELECT id FROM records WHERE rowid < old.rowid ORDER BY rowid DESC LIMIT 1)
      WHERE through_id = old.id AND through = old.rowid;
  END;
  DROP VIEW records_of_vin;
  CREATE VIEW records_of_vin (vin, id) AS
    SELECT vin, record_id FROM records_vin
    UNION ALL
    SELECT vin, id FROM records WHERE rowid > (
      SELECT CASE WHEN through = COALESCE((SELECT rowid FROM records r WHERE r.id = m.through_id), 0) THEN through ELSE 0 END
      FROM records_vin_mark m WHERE id = 1);`,
  },
];

/**
 * How many records the tail may hold before the writer indexes their VINs (records_vin), in
 * the transaction of the commit that reached it. A batch dirties about one page of records_vin
 * per car in it, so the WAL per record falls as the batch grows; a lookup by VIN reads the tail
 * row by row, so the bound also bounds that read (erasure, revocation, owner pseudonyms).
 */
export const VIN_INDEX_EVERY = 8_192;

/** A vehicle's records' ids, indexed or in the tail (0170): `SELECT id FROM records_of_vin WHERE vin = ?`. */
export const RECORD_IDS_OF_VIN = `SELECT id FROM records_of_vin WHERE vin = ?`;

export interface RecordWriter {
  /** Writes one ingest item's record side (record, route point, account data, or quarantine row). Inside the caller's transaction. */
  write(item: IngestItem<unknown>): void;
  /**
   * Indexes the tail's VINs if it holds VIN_INDEX_EVERY records or more (0170), every record if the rowids were
   * renumbered under the mark (0180). Inside the caller's transaction.
   */
  indexVinsIfDue(): void;
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
  const vinMark = markOfVins(db);
  const indexTail = db.prepare(`INSERT OR IGNORE INTO records_vin (vin, record_id)
    SELECT vin, id FROM records WHERE rowid > (SELECT through FROM records_vin_mark WHERE id = 1) ORDER BY vin, id`);
  /** The rowid of the last record this connection wrote. */
  let lastRowid = 0;

  return {
    write(it) {
      if (it.kind === 'quarantine') {
        const x = it.item;
        insertQuarantine.run(x.id, x.vin, x.channel, x.receivedAt, x.reason, x.raw);
        return;
      }
      const r = it.record;
      lastRowid = Number(insertRecord.run(...recordValues(r, it.raw)).lastInsertRowid);
      const p = routePoint(r);
      if (p) insertPoint.run(r.id, r.vin, r.observedAt, r.receivedAt, p.lat, p.lon, p.speed);
      if (Object.keys(r.account).length > 0) insertAccount.run(r.id, r.vin, r.receivedAt, JSON.stringify(r.account));
    },
    indexVinsIfDue() {
      const through = vinMark.read();
      if (through === undefined) return vinMark.repair();
      if (lastRowid - through < VIN_INDEX_EVERY) return;
      indexTail.run();
      vinMark.advance();
    },
    getRecord(id) {
      const row = getRecord.get(id) as RecordDbRow | undefined;
      return row ? toStoredRecord(row) : undefined;
    },
    recordVin: (id) => recordVin.get(id) as string | undefined,
    listQuarantine: (limit = 100) => (listQuarantine.all(limit) as QuarantineDbRow[]).map(toQuarantineItem),
  };
}

/**
 * The VIN index's mark (0180): where the tail begins, checked against the record it names, and
 * the repair when it no longer holds. Each call runs in the caller's transaction.
 */
export function markOfVins(db: Database.Database): {
  /** The last rowid indexed, or undefined when the rowids were renumbered under the mark. One lookup by primary key. */
  read(): number | undefined;
  /** Moves the mark to the newest record: everything before it is indexed. */
  advance(): void;
  /** Indexes every record again, moves the mark to the newest, and counts the repair in the mark's row. */
  repair(): void;
} {
  const read =
    db.prepare(`SELECT through, through = COALESCE((SELECT rowid FROM records r WHERE r.id = m.through_id), 0) AS holds
    FROM records_vin_mark m WHERE id = 1`);
  const indexAll = db.prepare(
    `INSERT OR IGNORE INTO records_vin (vin, record_id) SELECT vin, id FROM records ORDER BY vin, id`,
  );
  const advance = db.prepare(`UPDATE records_vin_mark SET
    through = COALESCE((SELECT MAX(rowid) FROM records), 0),
    through_id = (SELECT id FROM records ORDER BY rowid DESC LIMIT 1)`);
  const repaired = db.prepare(`UPDATE records_vin_mark SET repairs = repairs + 1, repaired_at = ?`);
  return {
    read() {
      const m = read.get() as { through: number; holds: number };
      return m.holds ? m.through : undefined;
    },
    advance: () => void advance.run(),
    repair() {
      indexAll.run();
      advance.run();
      repaired.run(Date.now());
    },
  };
}
