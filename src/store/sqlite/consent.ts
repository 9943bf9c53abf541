import type Database from 'better-sqlite3';
import type { Migration } from './migrate.js';
import type { ConsentRow, ConsentStore } from '../types.js';
import type { Sync } from './sync.js';

export const CONSENT_MIGRATIONS: Migration[] = [{
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
}];

export function sqliteConsent(db: Database.Database): Sync<ConsentStore> {
  const open = db.prepare(`SELECT * FROM consent WHERE vin = ? AND oem = ? AND purpose = ? AND revoked_at IS NULL ORDER BY granted_at DESC LIMIT 1`);
  const insert = db.prepare(`INSERT INTO consent (vin, oem, purpose, granted_at, source) VALUES (?, ?, ?, ?, ?) RETURNING *`);
  const revoke = db.prepare(`UPDATE consent SET revoked_at = ? WHERE vin = ? AND oem = ? AND purpose = ? AND revoked_at IS NULL AND granted_at <= ?`);
  const granted = db.prepare(`SELECT 1 FROM consent WHERE vin = ? AND oem = ? AND purpose = ? AND granted_at <= ? AND (revoked_at IS NULL OR revoked_at > ?) LIMIT 1`).pluck();
  const list = db.prepare(`SELECT * FROM consent WHERE vin = ? ORDER BY granted_at DESC, id DESC`);
  const grant = db.transaction((c: { vin: string; oem: string; purpose: string; atMs: number; source?: string }): ConsentRow => {
    const existing = open.get(c.vin, c.oem, c.purpose) as ConsentDbRow | undefined;
    if (existing && existing.granted_at <= c.atMs) return toConsent(existing);
    return toConsent(insert.get(c.vin, c.oem, c.purpose, c.atMs, c.source ?? '') as ConsentDbRow);
  });
  return {
    grantConsent: (c) => grant(c),
    revokeConsent: (c) => revoke.run(c.atMs, c.vin, c.oem, c.purpose, c.atMs).changes,
    isConsentGranted: (vin, oem, purpose, atMs) => granted.get(vin, oem, purpose, atMs, atMs) !== undefined,
    listConsents: (vin) => (list.all(vin) as ConsentDbRow[]).map(toConsent),
  };
}

interface ConsentDbRow { id: number; vin: string; oem: string; purpose: string; granted_at: number; revoked_at: number | null; source: string }

function toConsent(r: ConsentDbRow): ConsentRow {
  return { id: r.id, vin: r.vin, oem: r.oem, purpose: r.purpose, grantedAt: r.granted_at, revokedAt: r.revoked_at, source: r.source };
}
