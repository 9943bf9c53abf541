/**
 * Consent on SQLite (the contract: ./types.ts). A grant reads what is in force, then closes it
 * and inserts; SQLite's one writer makes that read-then-write safe.
 */
import type Database from 'better-sqlite3';
import type { Migration } from '../sqlite/migrate.js';
import type { AuditStore } from '../types.js';
import type { OutboxWriter } from '../outbox/sqlite.js';
import type { Sync } from '../sqlite/sync.js';
import type { ConsentRegistryStore, ConsentRow, ConsentStore } from './types.js';
import { CONSENT_COLUMNS, grantLeaf, grantOf, revokeLeaf, toConsent, type ConsentDbRow } from './rows.js';

export const CONSENT_MIGRATIONS: Migration[] = [
  {
    id: '0005-consent',
    sql: `
  -- Owners' consent per OEM purpose. A revocation closes a grant (revoked_at); rows are never
  -- deleted, so what was in force at any time can be shown to the regulator.
  CREATE TABLE consent (
    id          INTEGER PRIMARY KEY,
    vin         TEXT NOT NULL,
    oem         TEXT NOT NULL,
    purpose     TEXT NOT NULL,
    granted_at  INTEGER NOT NULL,
    revoked_at  INTEGER,
    source      TEXT NOT NULL DEFAULT ''
  ) STRICT;
  CREATE INDEX consent_lookup ON consent (vin, oem, purpose, granted_at);`,
  },
  {
    // A grant lasts no longer than its purpose needs (the policy's consentMaxDays): it lapses at
    // valid_until by itself. ended_by says why revoked_at was set: the owner revoked, or a newer
    // grant took its place. Grants from before this migration have no end (valid_until NULL).
    id: '0030-consent-validity',
    sql: `
  ALTER TABLE consent ADD COLUMN valid_until INTEGER;
  ALTER TABLE consent ADD COLUMN ended_by TEXT;
  UPDATE consent SET ended_by = 'revoked' WHERE revoked_at IS NOT NULL;`,
  },
];

/** In force at @at: granted by then, not ended by then, not lapsed by then. */
const IN_FORCE = `granted_at <= @at AND (revoked_at IS NULL OR revoked_at > @at) AND (valid_until IS NULL OR valid_until > @at)`;
const KEY = `vin = @vin AND oem = @oem AND purpose = @purpose`;

type GrantInput = Parameters<ConsentStore['grantConsent']>[0];

export function sqliteConsent(db: Database.Database): Sync<ConsentStore> & ConsentWriter {
  const open = db.prepare(
    `SELECT ${CONSENT_COLUMNS} FROM consent WHERE ${KEY} AND revoked_at IS NULL AND ${IN_FORCE} ORDER BY granted_at DESC, id DESC LIMIT 1`,
  );
  const insert = db.prepare(
    `INSERT INTO consent (vin, oem, purpose, granted_at, valid_until, source) VALUES (@vin, @oem, @purpose, @at, @validUntil, @source) RETURNING ${CONSENT_COLUMNS}`,
  );
  const close = db.prepare(
    `UPDATE consent SET revoked_at = @at, ended_by = @endedBy WHERE ${KEY} AND revoked_at IS NULL AND ${IN_FORCE}`,
  );
  const granted = db.prepare(`SELECT 1 FROM consent WHERE ${KEY} AND ${IN_FORCE} LIMIT 1`).pluck();
  const list = db.prepare(`SELECT ${CONSENT_COLUMNS} FROM consent WHERE vin = ? ORDER BY granted_at DESC, id DESC`);
  const grant = db.transaction((c: GrantInput): ConsentRow => {
    const key = { vin: c.vin, oem: c.oem, purpose: c.purpose, at: c.atMs };
    const validUntil = c.validUntil ?? null;
    const existing = open.get(key) as ConsentDbRow | undefined;
    if (existing && existing.valid_until === validUntil) return toConsent(existing);
    // One grant open at a time: a renewal (or a shorter grant) takes the old one's place.
    close.run({ ...key, endedBy: 'superseded' });
    return toConsent(insert.get({ ...key, validUntil, source: c.source ?? '' }) as ConsentDbRow);
  });
  const revoke = (c: { vin: string; oem: string; purpose: string; atMs: number }) =>
    close.run({ vin: c.vin, oem: c.oem, purpose: c.purpose, at: c.atMs, endedBy: 'revoked' }).changes;
  return {
    grant,
    revoke,
    grantConsent: (c) => grant(c),
    revokeConsent: (c) => revoke(c),
    isConsentGranted: (vin, oem, purpose, at) => granted.get({ vin, oem, purpose, at }) !== undefined,
    listConsents: (vin) => (list.all(vin) as ConsentDbRow[]).map(toConsent),
  };
}

/** What the logged changes below build on; inside the caller's transaction. */
export interface ConsentWriter {
  grant(c: GrantInput): ConsentRow;
  revoke(c: { vin: string; oem: string; purpose: string; atMs: number }): number;
}

/**
 * The owner API's consent changes: the change, its effect on the outbox and its 'consent' leaf
 * in ONE transaction, so a revocation that returned has stopped the queue and is in the log.
 */
export function sqliteConsentRegistry(
  db: Database.Database,
  deps: {
    consent: ConsentWriter;
    outbox: Pick<OutboxWriter, 'blockUndelivered'>;
    audit: Pick<Sync<AuditStore>, 'appendAuditEvent'>;
  },
): Sync<ConsentRegistryStore> {
  const grantLogged = db.transaction((c: Parameters<ConsentRegistryStore['grantConsentLogged']>[0]) => {
    const grant = deps.consent.grant(grantOf(c));
    const leafIndex = deps.audit.appendAuditEvent('consent', c.atMs, grantLeaf(c, grant));
    return { grant, leafIndex };
  });
  const revokeLogged = db.transaction((c: Parameters<ConsentRegistryStore['revokeConsentLogged']>[0]) => {
    const revoked = deps.consent.revoke(c);
    const blockedPending = deps.outbox.blockUndelivered(c.vin, { oem: c.oem, purpose: c.purpose });
    const leafIndex = deps.audit.appendAuditEvent('consent', c.atMs, revokeLeaf(c, revoked, blockedPending));
    return { revoked, blockedPending, leafIndex };
  });
  return {
    grantConsentLogged(c) {
      return grantLogged(c);
    },
    revokeConsentLogged(c) {
      return revokeLogged(c);
    },
  };
}
