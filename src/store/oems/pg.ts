/**
 * The OEM registry on PostgreSQL (the contract: ./types.ts; the SQLite twin: ./sqlite.ts). Config OEMs are seeded
 * at every gateway start, and with several instances they all seed at once: every write here
 * runs under the registry's advisory lock, so a read-then-write (seeding, a partial update)
 * sees no other instance's write in between and two seeds never race on the same id.
 */
import type { PgMigration } from '../pg/migrate.js';
import type { Db, Sql, Tx } from '../pg/db.js';
import { definitionDiff } from './definition.js';
import { OEM_COLUMNS, oemTaken, toOem, type OemDbRow } from './rows.js';
import type { OemDefinition, OemDefinitionChange, OemRegistryStore, OemSource } from './types.js';

export const OEM_MIGRATIONS: PgMigration[] = [
  {
    id: '0013-oem-registry',
    sql: `
  CREATE TABLE oems (
    id                     TEXT PRIMARY KEY,
    name                   TEXT NOT NULL,
    endpoint               TEXT NOT NULL,
    allowed_countries      JSONB NOT NULL,  -- array of ISO 3166-1 alpha-2 codes
    allow_private_networks BOOLEAN NOT NULL,
    signing_key_file       TEXT,
    mtls                   JSONB,           -- {certFile, keyFile, caFile?} or NULL
    source                 TEXT NOT NULL,   -- 'config' | 'api'
    disabled_at            BIGINT,
    created_at             BIGINT NOT NULL,
    updated_at             BIGINT NOT NULL
  );`,
  },
];

/** $1..$7 of every statement that writes a definition. JSONB parameters go as JSON text (node-pg would send a JS array as a PostgreSQL array). */
const definition = (o: OemDefinition): unknown[] => [
  o.id,
  o.name,
  o.endpoint,
  JSON.stringify(o.allowedCountries),
  o.allowPrivateNetworks,
  o.signingKeyFile,
  o.mtls === null ? null : JSON.stringify(o.mtls),
];

const SET_DEFINITION = `name = $2, endpoint = $3, allowed_countries = $4, allow_private_networks = $5, signing_key_file = $6, mtls = $7`;

export function pgOems(db: Db): OemRegistryStore {
  const read = async (q: Sql, id: string) =>
    (await q.query<OemDbRow>(`SELECT ${OEM_COLUMNS} FROM oems WHERE id = $1`, [id])).map(toOem)[0];
  const list = async (q: Sql) =>
    (await q.query<OemDbRow>(`SELECT ${OEM_COLUMNS} FROM oems ORDER BY id COLLATE "C"`)).map(toOem);
  const insert = (t: Tx, o: OemDefinition, source: OemSource, now: number) =>
    t.query(
      `INSERT INTO oems (${OEM_COLUMNS})
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, $9, $9)`,
      [...definition(o), source, now],
    );
  /** One registry write: serialised with every other instance's (see the file comment). */
  const write = <T>(fn: (t: Tx) => Promise<T>) =>
    db.tx(async (t) => {
      await t.lock('oems');
      return fn(t);
    });

  return {
    insertOem: (o) =>
      write(async (t) => {
        if (await read(t, o.id)) throw oemTaken(o.id);
        await insert(t, o, 'api', o.now);
        return (await read(t, o.id))!;
      }),
    updateOem: (id, patch, now) =>
      write(async (t) => {
        const old = await read(t, id);
        if (!old) return undefined;
        await t.query(`UPDATE oems SET ${SET_DEFINITION}, updated_at = $8 WHERE id = $1`, [
          ...definition({ ...old, ...patch, id }),
          now,
        ]);
        return read(t, id);
      }),
    setOemDisabled: (id, disabledAt, now) =>
      write(async (t) => {
        const changed = await t.query(`UPDATE oems SET disabled_at = $2, updated_at = $3 WHERE id = $1 RETURNING id`, [
          id,
          disabledAt,
          now,
        ]);
        return changed.length > 0 ? read(t, id) : undefined;
      }),
    getOem: (id) => read(db, id),
    listOems: () => list(db),
    seedConfigOems: (oems, now) =>
      write(async (t) => {
        const wanted = new Set(oems.map((o) => o.id));
        const overridden: string[] = [];
        const changed: OemDefinitionChange[] = [];
        for (const o of oems) {
          const old = await read(t, o.id);
          if (!old) await insert(t, o, 'config', now);
          else {
            // Only a real change moves updated_at: a restart with the same config is not an edit.
            const fields = definitionDiff(old, o);
            if (old.source !== 'config' || old.disabledAt !== null || fields.length > 0) {
              await t.query(
                `UPDATE oems SET ${SET_DEFINITION}, source = 'config', disabled_at = NULL, updated_at = $8 WHERE id = $1`,
                [...definition(o), now],
              );
            }
            if (old.source === 'api') overridden.push(o.id);
            else if (fields.length > 0) changed.push({ id: o.id, fields });
          }
        }
        const demoted: string[] = [];
        for (const r of await list(t)) {
          if (r.source === 'config' && !wanted.has(r.id)) {
            await t.query(
              `UPDATE oems SET source = 'api', signing_key_file = NULL, disabled_at = $2, updated_at = $2 WHERE id = $1`,
              [r.id, now],
            );
            demoted.push(r.id);
          }
        }
        return { demoted, overridden, changed };
      }),
  };
}
