/**
 * Owner bindings: which vehicles an owner (a person in the operator's owner-facing app) may act
 * for. The operator binds an owner to a VIN and hands the owner's app a token, shown once; the
 * app sends it with every /owner/v1 request beside its own owner-app key. Tokens are 256 random
 * bits stored as SHA-256, like API keys (the format: ./rows.ts). The contract: ./types.ts.
 */
import type Database from 'better-sqlite3';
import type { Migration } from '../sqlite/migrate.js';
import type { Sync } from '../sqlite/sync.js';
import {
  TOKEN_COLUMNS,
  mintOwnerToken,
  ownerTokenMatches,
  parseOwnerToken,
  toOwnerBinding,
  type TokenDbRow,
} from './rows.js';
import type { OwnerBindingRow, OwnerBindingStore } from './types.js';

export const OWNER_BINDING_MIGRATIONS: Migration[] = [
  {
    id: '0011-owner-bindings',
    sql: `
  CREATE TABLE owner_tokens (
    id         TEXT PRIMARY KEY,
    owner_ref  TEXT NOT NULL,
    token_hash BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
  ) STRICT;
  -- One owner token may cover several vehicles (a family's cars); a vehicle may have several owners.
  CREATE TABLE owner_bindings (
    token_id   TEXT NOT NULL REFERENCES owner_tokens (id),
    vin        TEXT NOT NULL,
    bound_at   INTEGER NOT NULL,
    PRIMARY KEY (token_id, vin)
  ) STRICT;
  CREATE INDEX owner_bindings_vin ON owner_bindings (vin);`,
  },
];

export function sqliteOwnerBindings(db: Database.Database): Sync<OwnerBindingStore> {
  const insertToken = db.prepare(
    `INSERT INTO owner_tokens (id, owner_ref, token_hash, created_at) VALUES (?, ?, ?, ?)`,
  );
  const getToken = db.prepare(`SELECT ${TOKEN_COLUMNS} FROM owner_tokens t WHERE t.id = ?`);
  const bind = db.prepare(`INSERT OR IGNORE INTO owner_bindings (token_id, vin, bound_at) VALUES (?, ?, ?)`);
  const vinsOf = db.prepare(`SELECT vin FROM owner_bindings WHERE token_id = ? ORDER BY vin`).pluck();
  const byVin = db.prepare(
    `SELECT ${TOKEN_COLUMNS} FROM owner_bindings b JOIN owner_tokens t ON t.id = b.token_id WHERE b.vin = ? ORDER BY t.created_at, t.id`,
  );
  const revoke = db.prepare(`UPDATE owner_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`);
  const create = db.transaction((ownerRef: string, vins: readonly string[], now: number) => {
    const t = mintOwnerToken();
    insertToken.run(t.id, ownerRef, t.tokenHash, now);
    for (const vin of vins) bind.run(t.id, vin, now);
    return { id: t.id, token: t.token };
  });
  const toRow = (r: TokenDbRow): OwnerBindingRow => toOwnerBinding(r, vinsOf.all(r.id) as string[]);
  return {
    createOwnerToken({ ownerRef, vins, now }) {
      return create(ownerRef, vins, now);
    },
    authenticateOwner(token) {
      const parsed = parseOwnerToken(token);
      if (!parsed) return undefined;
      const row = getToken.get(parsed.id) as TokenDbRow | undefined;
      return row && ownerTokenMatches(row, parsed.secret) ? toRow(row) : undefined;
    },
    ownersOfVehicle(vin) {
      return (byVin.all(vin) as TokenDbRow[]).map(toRow);
    },
    revokeOwnerToken(id, now) {
      return revoke.run(now, id).changes > 0;
    },
  };
}
