import type Database from 'better-sqlite3';
import type { Migration } from './migrate.js';
import type { EgressLogEntry, EgressLogRow, EgressLogStore } from '../types.js';
import type { OutboxWriter } from './outbox.js';

export const EGRESS_LOG_MIGRATIONS: Migration[] = [{
  id: '0004-egress-log',
  sql: `
  -- Every delivery, failed attempt and dead letter. Append-only; holds no personal data.
  CREATE TABLE egress_log (
    seq            INTEGER PRIMARY KEY,
    at             INTEGER NOT NULL,
    oem            TEXT NOT NULL,
    destination    TEXT NOT NULL,
    destination_ip TEXT,
    destination_country TEXT,
    record_id      TEXT NOT NULL,
    pseudonym      TEXT NOT NULL,
    purpose        TEXT NOT NULL,
    policy_hash    TEXT NOT NULL,
    fields_sent    TEXT NOT NULL,
    fields_dropped TEXT NOT NULL,
    outcome        TEXT NOT NULL,
    attempt        INTEGER NOT NULL,
    http_status    INTEGER,
    error          TEXT
  ) STRICT;
  CREATE INDEX egress_log_record ON egress_log (record_id);
  CREATE TRIGGER egress_log_no_update BEFORE UPDATE ON egress_log
    BEGIN SELECT RAISE(ABORT, 'egress_log is append-only'); END;
  CREATE TRIGGER egress_log_no_delete BEFORE DELETE ON egress_log
    BEGIN SELECT RAISE(ABORT, 'egress_log is append-only'); END;`,
}];

export function sqliteEgressLog(db: Database.Database, outbox: OutboxWriter): EgressLogStore {
  const insert = db.prepare(`INSERT INTO egress_log (at, oem, destination, destination_ip, destination_country, record_id, pseudonym, purpose, policy_hash, fields_sent, fields_dropped, outcome, attempt, http_status, error)
    VALUES (@at, @oem, @destination, @destinationIp, @destinationCountry, @recordId, @pseudonym, @purpose, @policyHash, @fieldsSent, @fieldsDropped, @outcome, @attempt, @httpStatus, @error)`);
  const append = (e: EgressLogEntry) => insert.run({ ...e, fieldsSent: JSON.stringify(e.fieldsSent), fieldsDropped: JSON.stringify(e.fieldsDropped) });

  const recordDelivery = db.transaction((id: number, e: EgressLogEntry) => { outbox.markDelivered(id); append(e); });
  const recordFailedAttempt = db.transaction((id: number, e: EgressLogEntry, next: number) => { outbox.markFailed(id, next); append(e); });
  const recordDeadLetter = db.transaction((id: number, e: EgressLogEntry) => { outbox.markDead(id); append(e); });

  return {
    recordDelivery: (id, e) => recordDelivery(id, e),
    recordFailedAttempt: (id, e, next) => recordFailedAttempt(id, e, next),
    recordDeadLetter: (id, e) => recordDeadLetter(id, e),
    listEgressLog(filter = {}) {
      const where: string[] = [];
      const args: unknown[] = [];
      if (filter.recordId) { where.push('record_id = ?'); args.push(filter.recordId); }
      if (filter.oem) { where.push('oem = ?'); args.push(filter.oem); }
      const sql = `SELECT * FROM egress_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq LIMIT ?`;
      return (db.prepare(sql).all(...args, filter.limit ?? 1000) as LogDbRow[]).map(toLogRow);
    },
  };
}

interface LogDbRow {
  seq: number; at: number; oem: string; destination: string; destination_ip: string | null; destination_country: string | null; record_id: string; pseudonym: string; purpose: string;
  policy_hash: string; fields_sent: string; fields_dropped: string; outcome: string; attempt: number;
  http_status: number | null; error: string | null;
}

function toLogRow(r: LogDbRow): EgressLogRow {
  return {
    seq: r.seq, at: r.at, oem: r.oem, destination: r.destination, destinationIp: r.destination_ip, destinationCountry: r.destination_country, recordId: r.record_id, pseudonym: r.pseudonym,
    purpose: r.purpose, policyHash: r.policy_hash, fieldsSent: JSON.parse(r.fields_sent), fieldsDropped: JSON.parse(r.fields_dropped),
    outcome: r.outcome as EgressLogRow['outcome'], attempt: r.attempt, httpStatus: r.http_status, error: r.error,
  };
}
