/**
 * SQLite backend (better-sqlite3), the embedded default. WAL journal with synchronous=FULL:
 * a commit that returned is on disk, which is what a PUBACK promises the car. Group commit
 * (several records per transaction) is the caller's job; see ingest/committer.ts.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { SQLITE_MIGRATIONS } from './migrations.js';
import type { CanonicalRecord, IngestChannel } from '../record.js';
import type { EgressLogEntry, EgressLogRow, IngestItem, OutboxRow, QuarantineItem, Store, StoredRecord, VehicleRow } from './types.js';
import { ShekaraError } from '../errors.js';

const LAT = 'Vehicle.CurrentLocation.Latitude';
const LON = 'Vehicle.CurrentLocation.Longitude';
const SPEED = 'Vehicle.Speed';

export function openSqliteStore(file: string): Store {
  if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);

  const q = {
    insertVehicle: db.prepare(`INSERT INTO vehicles (vin, oem, secret_hash, secret_salt, created_at) VALUES (?, ?, ?, ?, ?)`),
    replaceVehicle: db.prepare(`INSERT OR REPLACE INTO vehicles (vin, oem, secret_hash, secret_salt, created_at) VALUES (?, ?, ?, ?, ?)`),
    getVehicle: db.prepare(`SELECT * FROM vehicles WHERE vin = ?`),
    listVehicles: db.prepare(`SELECT * FROM vehicles ORDER BY vin`),
    insertRecord: db.prepare(`INSERT INTO records (id, vin, oem, channel, received_at, observed_at, signals, unknown_keys, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    insertPoint: db.prepare(`INSERT INTO route_points (record_id, vin, observed_at, latitude, longitude, speed) VALUES (?, ?, ?, ?, ?, ?)`),
    insertAccount: db.prepare(`INSERT INTO account_data (record_id, vin, data) VALUES (?, ?, ?)`),
    insertQuarantine: db.prepare(`INSERT INTO quarantine (id, vin, channel, received_at, reason, raw) VALUES (?, ?, ?, ?, ?, ?)`),
    insertOutbox: db.prepare(`INSERT INTO egress_outbox (record_id, oem, purpose, policy_hash, pseudonym, fields_sent, fields_dropped, body, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    getRecord: db.prepare(`SELECT r.*, a.data AS account FROM records r LEFT JOIN account_data a ON a.record_id = r.id WHERE r.id = ?`),
    listQuarantine: db.prepare(`SELECT * FROM quarantine ORDER BY received_at DESC LIMIT ?`),
    leaseDue: db.prepare(`UPDATE egress_outbox SET lease_until = @leaseUntil WHERE id IN (
        SELECT id FROM egress_outbox WHERE status = 'pending' AND next_attempt_at <= @now AND lease_until <= @now
        ORDER BY next_attempt_at, id LIMIT @limit)
      RETURNING id, record_id, oem, purpose, policy_hash, pseudonym, fields_sent, fields_dropped, body, attempts`),
    delivered: db.prepare(`UPDATE egress_outbox SET status = 'delivered', attempts = attempts + 1, lease_until = 0 WHERE id = ?`),
    failed: db.prepare(`UPDATE egress_outbox SET attempts = attempts + 1, next_attempt_at = ?, lease_until = 0 WHERE id = ?`),
    dead: db.prepare(`UPDATE egress_outbox SET status = 'dead', attempts = attempts + 1, lease_until = 0 WHERE id = ?`),
    nextDue: db.prepare(`SELECT MIN(MAX(next_attempt_at, lease_until)) AS due FROM egress_outbox WHERE status = 'pending'`),
    insertLog: db.prepare(`INSERT INTO egress_log (at, oem, destination, record_id, pseudonym, purpose, policy_hash, fields_sent, fields_dropped, outcome, attempt, http_status, error)
      VALUES (@at, @oem, @destination, @recordId, @pseudonym, @purpose, @policyHash, @fieldsSent, @fieldsDropped, @outcome, @attempt, @httpStatus, @error)`),
    getSecret: db.prepare(`SELECT value FROM local_secrets WHERE name = ?`),
    putSecret: db.prepare(`INSERT OR IGNORE INTO local_secrets (name, value) VALUES (?, ?)`),
    count: (table: string, where = '') => db.prepare(`SELECT COUNT(*) AS n FROM ${table} ${where}`).pluck(),
  };
  const counters = {
    records: q.count('records'),
    quarantine: q.count('quarantine'),
    outboxPending: q.count('egress_outbox', `WHERE status = 'pending'`),
    outboxDead: q.count('egress_outbox', `WHERE status = 'dead'`),
    egressLog: q.count('egress_log'),
  };

  const commitIngest = db.transaction((items: readonly IngestItem[]) => {
    for (const it of items) {
      if (it.kind === 'quarantine') {
        const x = it.item;
        q.insertQuarantine.run(x.id, x.vin, x.channel, x.receivedAt, x.reason, x.raw);
        continue;
      }
      const r = it.record;
      q.insertRecord.run(r.id, r.vin, r.oem, r.channel, r.receivedAt, r.observedAt, JSON.stringify(r.signals), JSON.stringify(r.unknownKeys), it.raw);
      const lat = r.signals[LAT];
      const lon = r.signals[LON];
      if (typeof lat === 'number' && typeof lon === 'number') {
        const speed = r.signals[SPEED];
        q.insertPoint.run(r.id, r.vin, r.observedAt, lat, lon, typeof speed === 'number' ? speed : null);
      }
      if (Object.keys(r.account).length > 0) q.insertAccount.run(r.id, r.vin, JSON.stringify(r.account));
      for (const p of it.projections) {
        q.insertOutbox.run(p.recordId, p.oem, p.purpose, p.policyHash, p.vehicle, JSON.stringify(p.fieldsSent), JSON.stringify(p.fieldsDropped), projectionBody(p), r.receivedAt);
      }
    }
  });

  const logRow = (e: EgressLogEntry) => ({
    ...e,
    fieldsSent: JSON.stringify(e.fieldsSent),
    fieldsDropped: JSON.stringify(e.fieldsDropped),
  });
  const recordDelivery = db.transaction((id: number, e: EgressLogEntry) => { q.delivered.run(id); q.insertLog.run(logRow(e)); });
  const recordFailedAttempt = db.transaction((id: number, e: EgressLogEntry, next: number) => { q.failed.run(next, id); q.insertLog.run(logRow(e)); });
  const recordDeadLetter = db.transaction((id: number, e: EgressLogEntry) => { q.dead.run(id); q.insertLog.run(logRow(e)); });

  return {
    registerVehicle(v) {
      const args = [v.vin, v.oem, v.secretHash, v.secretSalt, Date.now()] as const;
      try {
        (v.replace ? q.replaceVehicle : q.insertVehicle).run(...args);
      } catch (cause) {
        if ((cause as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
          throw new ShekaraError('SHK_STORE_VEHICLE_EXISTS', `vehicle ${v.vin} is already registered`, { cause });
        }
        throw cause;
      }
    },
    getVehicle: (vin) => toVehicle(q.getVehicle.get(vin)),
    listVehicles: () => q.listVehicles.all().map((r) => toVehicle(r)!),
    commitIngest: (items) => { if (items.length > 0) commitIngest(items); },
    getRecord(id) {
      const row = q.getRecord.get(id) as RecordDbRow | undefined;
      return row ? toStoredRecord(row) : undefined;
    },
    listQuarantine: (limit = 100) => (q.listQuarantine.all(limit) as QuarantineDbRow[]).map((r) => ({
      id: r.id, vin: r.vin, channel: r.channel as IngestChannel, receivedAt: r.received_at, reason: r.reason, raw: r.raw,
    })),
    counts: () => ({
      records: counters.records.get() as number,
      quarantine: counters.quarantine.get() as number,
      outboxPending: counters.outboxPending.get() as number,
      outboxDead: counters.outboxDead.get() as number,
      egressLog: counters.egressLog.get() as number,
    }),
    leaseDueOutbox: (now, limit, leaseMs) =>
      (q.leaseDue.all({ now, limit, leaseUntil: now + leaseMs }) as OutboxDbRow[]).map(toOutbox),
    recordDelivery: (id, e) => recordDelivery(id, e),
    recordFailedAttempt: (id, e, next) => recordFailedAttempt(id, e, next),
    recordDeadLetter: (id, e) => recordDeadLetter(id, e),
    nextDueAt: () => (q.nextDue.get() as { due: number | null }).due ?? undefined,
    listEgressLog(filter = {}) {
      const where: string[] = [];
      const args: unknown[] = [];
      if (filter.recordId) { where.push('record_id = ?'); args.push(filter.recordId); }
      if (filter.oem) { where.push('oem = ?'); args.push(filter.oem); }
      const sql = `SELECT * FROM egress_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq LIMIT ?`;
      return (db.prepare(sql).all(...args, filter.limit ?? 1000) as LogDbRow[]).map(toLogRow);
    },
    getSecret: (name) => (q.getSecret.get(name) as { value: Buffer } | undefined)?.value,
    putSecretIfAbsent(name, value) {
      q.putSecret.run(name, value);
      return (q.getSecret.get(name) as { value: Buffer }).value;
    },
    close: () => db.close(),
  };
}

/** The JSON an OEM receives: only what the policy approved, keyed by the record id. */
function projectionBody(p: { recordId: string; oem: string; purpose: string; policyHash: string; vehicle: string; observedAt: number; signals: unknown }): string {
  return JSON.stringify({
    recordId: p.recordId,
    purpose: p.purpose,
    policyHash: p.policyHash,
    vehicle: p.vehicle,
    observedAt: new Date(p.observedAt).toISOString(),
    signals: p.signals,
  });
}

function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SQLITE_MIGRATIONS.length) {
    throw new Error(`store schema version ${current} is newer than this Shekara (${SQLITE_MIGRATIONS.length}); upgrade Shekara`);
  }
  for (let v = current; v < SQLITE_MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(SQLITE_MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

interface RecordDbRow {
  id: string; vin: string; oem: string; channel: string; received_at: number; observed_at: number;
  signals: string; unknown_keys: string; raw: Buffer; account: string | null;
}
interface QuarantineDbRow { id: string; vin: string; channel: string; received_at: number; reason: string; raw: Buffer }
interface OutboxDbRow {
  id: number; record_id: string; oem: string; purpose: string; policy_hash: string; pseudonym: string;
  fields_sent: string; fields_dropped: string; body: string; attempts: number;
}
interface LogDbRow {
  seq: number; at: number; oem: string; destination: string; record_id: string; pseudonym: string; purpose: string;
  policy_hash: string; fields_sent: string; fields_dropped: string; outcome: string; attempt: number;
  http_status: number | null; error: string | null;
}

function toVehicle(row: unknown): VehicleRow | undefined {
  if (!row) return undefined;
  const r = row as { vin: string; oem: string; secret_hash: Buffer; secret_salt: Buffer; created_at: number };
  return { vin: r.vin, oem: r.oem, secretHash: r.secret_hash, secretSalt: r.secret_salt, createdAt: r.created_at };
}

function toStoredRecord(r: RecordDbRow): StoredRecord {
  const record: CanonicalRecord = {
    id: r.id, vin: r.vin, oem: r.oem, channel: r.channel as IngestChannel,
    receivedAt: r.received_at, observedAt: r.observed_at,
    signals: JSON.parse(r.signals), account: r.account ? JSON.parse(r.account) : {}, unknownKeys: JSON.parse(r.unknown_keys),
  };
  return { record, raw: r.raw };
}

function toOutbox(r: OutboxDbRow): OutboxRow {
  return {
    id: r.id, recordId: r.record_id, oem: r.oem, purpose: r.purpose, policyHash: r.policy_hash, pseudonym: r.pseudonym,
    fieldsSent: JSON.parse(r.fields_sent), fieldsDropped: JSON.parse(r.fields_dropped), body: r.body, attempts: r.attempts,
  };
}

function toLogRow(r: LogDbRow): EgressLogRow {
  return {
    seq: r.seq, at: r.at, oem: r.oem, destination: r.destination, recordId: r.record_id, pseudonym: r.pseudonym,
    purpose: r.purpose, policyHash: r.policy_hash, fieldsSent: JSON.parse(r.fields_sent), fieldsDropped: JSON.parse(r.fields_dropped),
    outcome: r.outcome as EgressLogRow['outcome'], attempt: r.attempt, httpStatus: r.http_status, error: r.error,
  };
}
