/**
 * Erasure of a vehicle's local personal data on its owner's request (CONTRACTS.md): its
 * records with their raw payloads, route points, account data and quarantined payloads are
 * deleted, and its outbox rows not yet delivered are marked blocked, in one transaction.
 *
 * What stays, and why: the egress log and the Merkle tables (append-only; they hold pseudonyms
 * and digests, never the VIN or a payload, and the regulator must still be able to verify
 * them); outbox rows (the approved, pseudonymized projections the log's payload digests refer
 * to); consent and objection history (the proof of what the owner decided, which the law asks
 * the operator to keep); the vehicle's registration and device credentials (the car still
 * connects). New telemetry after the erasure is stored as usual.
 */
import type Database from 'better-sqlite3';
import type { Migration } from '../sqlite/migrate.js';
import type { Sync } from '../sqlite/sync.js';
import type { OutboxWriter } from '../outbox/sqlite.js';
import type { ErasureStore } from './types.js';
import { RECORD_IDS_OF_VIN } from '../records/sqlite.js';

export const ERASURE_MIGRATIONS: Migration[] = [
  {
    // An outbox row outlives its record once the record is erased, so the foreign key to
    // records goes. SQLite cannot drop a constraint: the table is rebuilt as it is, minus the
    // REFERENCES (the insert still only accepts rows of stored records), with every index.
    id: '0032-outbox-outlives-erasure',
    sql: `
  CREATE TABLE egress_outbox_rebuilt (
    id              INTEGER PRIMARY KEY,
    record_id       TEXT NOT NULL,
    oem             TEXT NOT NULL,
    purpose         TEXT NOT NULL,
    policy_hash     TEXT NOT NULL,
    pseudonym       TEXT NOT NULL,
    fields_sent     TEXT NOT NULL,
    fields_dropped  TEXT NOT NULL,
    body            TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_until     INTEGER NOT NULL DEFAULT 0,
    decision        TEXT,
    feed_seq        INTEGER,
    UNIQUE (record_id, oem, purpose)
  ) STRICT;
  INSERT INTO egress_outbox_rebuilt (id, record_id, oem, purpose, policy_hash, pseudonym, fields_sent, fields_dropped, body, status, attempts, next_attempt_at, lease_until, decision, feed_seq)
    SELECT id, record_id, oem, purpose, policy_hash, pseudonym, fields_sent, fields_dropped, body, status, attempts, next_attempt_at, lease_until, decision, feed_seq FROM egress_outbox;
  DROP TABLE egress_outbox;
  ALTER TABLE egress_outbox_rebuilt RENAME TO egress_outbox;
  CREATE INDEX egress_outbox_due ON egress_outbox (next_attempt_at) WHERE status = 'pending';
  CREATE INDEX egress_outbox_vehicle ON egress_outbox (oem, pseudonym, id) WHERE status = 'pending';
  CREATE INDEX egress_outbox_unpublished ON egress_outbox (id) WHERE status = 'pending';
  CREATE UNIQUE INDEX egress_outbox_feed ON egress_outbox (feed_seq) WHERE feed_seq IS NOT NULL;
  CREATE INDEX egress_outbox_oem_feed ON egress_outbox (oem, feed_seq) WHERE feed_seq IS NOT NULL;
  CREATE INDEX IF NOT EXISTS quarantine_vin ON quarantine (vin);
  CREATE INDEX IF NOT EXISTS account_data_vin ON account_data (vin);`,
  },
];

/** Tables of rows made with a record that may outlive it (each has a retention period of its own). */
export type RecordChild = 'account_data' | 'route_points';

/**
 * A vehicle's rows of `table`: through its records (records_of_vin, 0170), then those that outlived
 * their record, the only ones indexed by VIN (0150, 0151: an index over every row keyed by VIN
 * cost the writer a page per car per commit). Each one indexed (test/store/sqlite-car-indexes.test.ts).
 */
export const eraseChildStatements = (table: RecordChild) =>
  ({
    ofRecords: `DELETE FROM ${table} WHERE record_id IN (${RECORD_IDS_OF_VIN})`,
    pastRecord: `DELETE FROM ${table} WHERE vin = ? AND past_record IS NOT NULL`,
  }) as const;

export function sqliteErasure(
  db: Database.Database,
  outbox: Pick<OutboxWriter, 'blockUndelivered'>,
  /** Erases the vehicle's other rows in the same transaction (MQTT QoS 2 packet ids). */
  alsoErase: (vin: string) => void = () => undefined,
): Sync<ErasureStore> {
  // Children first, each counted: the cascade from records would delete them without a count.
  const child = (table: RecordChild) => {
    const st = eraseChildStatements(table);
    const ofRecords = db.prepare(st.ofRecords);
    const pastRecord = db.prepare(st.pastRecord);
    return (vin: string) => ofRecords.run(vin).changes + pastRecord.run(vin).changes;
  };
  const accountData = child('account_data');
  const routePoints = child('route_points');
  const records = db.prepare(`DELETE FROM records WHERE id IN (${RECORD_IDS_OF_VIN})`);
  const quarantine = db.prepare(`DELETE FROM quarantine WHERE vin = ?`);
  const erase = db.transaction((vin: string) => {
    // Blocked before the records go: the outbox finds a vehicle's rows through its records.
    outbox.blockUndelivered(vin);
    alsoErase(vin);
    return {
      accountData: accountData(vin),
      routePoints: routePoints(vin),
      records: records.run(vin).changes,
      quarantine: quarantine.run(vin).changes,
    };
  });
  return {
    eraseVehicle(vin) {
      // Deleted means overwritten: with secure_delete the freed pages are zeroed rather than
      // left readable in the file, and the checkpoint carries the zeroed pages out of the WAL.
      const before = db.pragma('secure_delete', { simple: true }) as number;
      db.pragma('secure_delete = ON');
      try {
        return erase(vin);
      } finally {
        db.pragma(`secure_delete = ${before ? 'ON' : 'OFF'}`);
        try {
          db.pragma('wal_checkpoint(TRUNCATE)');
        } catch {
          /* busy: the next automatic checkpoint does it */
        }
      }
    },
  };
}
