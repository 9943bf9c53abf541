import type Database from 'better-sqlite3';
import type { Migration } from './migrate.js';
import type { Projection } from '../../record.js';
import type { OutboxRow, OutboxStore } from '../types.js';

export const OUTBOX_MIGRATIONS: Migration[] = [{
  id: '0003-egress-outbox',
  sql: `
  -- Approved projections waiting to cross. status: pending | delivered | dead
  CREATE TABLE egress_outbox (
    id              INTEGER PRIMARY KEY,
    record_id       TEXT NOT NULL REFERENCES records (id),
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
    UNIQUE (record_id, oem, purpose)
  ) STRICT;
  CREATE INDEX egress_outbox_due ON egress_outbox (next_attempt_at) WHERE status = 'pending';`,
}];

export interface OutboxWriter {
  /** Adds one approved projection, due at `dueAt`. Inside the caller's transaction. */
  insert(p: Projection, dueAt: number): void;
  /** Status changes, inside the caller's transaction (with the egress-log row). */
  markDelivered(id: number): void;
  markFailed(id: number, nextAttemptAt: number): void;
  markDead(id: number): void;
}

export function sqliteOutbox(db: Database.Database): OutboxStore & OutboxWriter {
  const insert = db.prepare(`INSERT INTO egress_outbox (record_id, oem, purpose, policy_hash, pseudonym, fields_sent, fields_dropped, body, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const leaseDue = db.prepare(`UPDATE egress_outbox SET lease_until = @leaseUntil WHERE id IN (
      SELECT id FROM egress_outbox WHERE status = 'pending' AND next_attempt_at <= @now AND lease_until <= @now
      ORDER BY next_attempt_at, id LIMIT @limit)
    RETURNING id, record_id, oem, purpose, policy_hash, pseudonym, fields_sent, fields_dropped, body, attempts`);
  const delivered = db.prepare(`UPDATE egress_outbox SET status = 'delivered', attempts = attempts + 1, lease_until = 0 WHERE id = ?`);
  const failed = db.prepare(`UPDATE egress_outbox SET attempts = attempts + 1, next_attempt_at = ?, lease_until = 0 WHERE id = ?`);
  const dead = db.prepare(`UPDATE egress_outbox SET status = 'dead', attempts = attempts + 1, lease_until = 0 WHERE id = ?`);
  const nextDue = db.prepare(`SELECT MIN(MAX(next_attempt_at, lease_until)) FROM egress_outbox WHERE status = 'pending'`).pluck();

  return {
    insert(p, dueAt) {
      insert.run(p.recordId, p.oem, p.purpose, p.policyHash, p.vehicle, JSON.stringify(p.fieldsSent), JSON.stringify(p.fieldsDropped), projectionBody(p), dueAt);
    },
    markDelivered: (id) => void delivered.run(id),
    markFailed: (id, next) => void failed.run(next, id),
    markDead: (id) => void dead.run(id),
    leaseDueOutbox: (now, limit, leaseMs) => (leaseDue.all({ now, limit, leaseUntil: now + leaseMs }) as OutboxDbRow[]).map(toOutbox),
    nextDueAt: () => (nextDue.get() as number | null) ?? undefined,
  };
}

/** The JSON an OEM receives: only what the policy approved, keyed by the record id. */
export function projectionBody(p: Projection): string {
  return JSON.stringify({
    recordId: p.recordId,
    purpose: p.purpose,
    policyHash: p.policyHash,
    vehicle: p.vehicle,
    observedAt: new Date(p.observedAt).toISOString(),
    signals: p.signals,
  });
}

interface OutboxDbRow {
  id: number; record_id: string; oem: string; purpose: string; policy_hash: string; pseudonym: string;
  fields_sent: string; fields_dropped: string; body: string; attempts: number;
}

function toOutbox(r: OutboxDbRow): OutboxRow {
  return {
    id: r.id, recordId: r.record_id, oem: r.oem, purpose: r.purpose, policyHash: r.policy_hash, pseudonym: r.pseudonym,
    fieldsSent: JSON.parse(r.fields_sent), fieldsDropped: JSON.parse(r.fields_dropped), body: r.body, attempts: r.attempts,
  };
}
