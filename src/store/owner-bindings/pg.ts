/** Owner tokens and the vehicles each covers on PostgreSQL (the contract: ./types.ts; the SQLite twin: ./sqlite.ts; the format: ./rows.ts). */
import type { PgMigration } from '../pg/migrate.js';
import type { Db } from '../pg/db.js';
import {
  TOKEN_COLUMNS,
  mintOwnerToken,
  ownerTokenMatches,
  parseOwnerToken,
  toOwnerBinding,
  type TokenDbRow,
} from './rows.js';
import type { OwnerBindingRow, OwnerBindingStore } from './types.js';

export const OWNER_BINDING_MIGRATIONS: PgMigration[] = [
  {
    id: '0011-owner-bindings',
    sql: `
  CREATE TABLE owner_tokens (
    id         TEXT PRIMARY KEY,
    owner_ref  TEXT NOT NULL,
    token_hash BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
  );
  -- One owner token may cover several vehicles (a family's cars); a vehicle may have several owners.
  CREATE TABLE owner_bindings (
    token_id   TEXT NOT NULL REFERENCES owner_tokens (id),
    vin        TEXT NOT NULL,
    bound_at   BIGINT NOT NULL,
    PRIMARY KEY (token_id, vin)
  );
  CREATE INDEX owner_bindings_vin ON owner_bindings (vin);`,
  },
];

/** A token row with the VINs it covers, in VIN byte order (SQLite's ORDER BY vin). */
const SELECT_TOKEN = `SELECT ${TOKEN_COLUMNS},
  ARRAY(SELECT b.vin FROM owner_bindings b WHERE b.token_id = t.id ORDER BY b.vin COLLATE "C") AS vins FROM owner_tokens t`;

const toRow = (r: TokenDbRow & { vins: string[] }): OwnerBindingRow => toOwnerBinding(r, r.vins);

export function pgOwnerBindings(db: Db): OwnerBindingStore {
  return {
    createOwnerToken: ({ ownerRef, vins, now }) =>
      db.tx(async (t) => {
        const k = mintOwnerToken();
        await t.query(`INSERT INTO owner_tokens (id, owner_ref, token_hash, created_at) VALUES ($1, $2, $3, $4)`, [
          k.id,
          ownerRef,
          k.tokenHash,
          now,
        ]);
        // A VIN given twice is bound once (SQLite: INSERT OR IGNORE).
        await t.query(
          `INSERT INTO owner_bindings (token_id, vin, bound_at) SELECT $1, vin, $3 FROM unnest($2::text[]) AS vin ON CONFLICT DO NOTHING`,
          [k.id, vins, now],
        );
        return { id: k.id, token: k.token };
      }),
    async authenticateOwner(token) {
      const parsed = parseOwnerToken(token);
      if (!parsed) return undefined;
      const [row] = await db.query<TokenDbRow & { vins: string[] }>(`${SELECT_TOKEN} WHERE t.id = $1`, [parsed.id]);
      return row && ownerTokenMatches(row, parsed.secret) ? toRow(row) : undefined;
    },
    ownersOfVehicle: async (vin) =>
      (
        await db.query<TokenDbRow & { vins: string[] }>(
          `${SELECT_TOKEN}
      WHERE t.id IN (SELECT token_id FROM owner_bindings WHERE vin = $1) ORDER BY t.created_at, t.id COLLATE "C"`,
          [vin],
        )
      ).map(toRow),
    revokeOwnerToken: async (id, now) =>
      (
        await db.query(`UPDATE owner_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL RETURNING id`, [
          now,
          id,
        ])
      ).length > 0,
  };
}
