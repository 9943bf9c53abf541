/**
 * The OEM registry on SQLite (the contract: ./types.ts). Config OEMs are seeded here at every gateway start (the config wins for
 * the ids it defines); OEMs registered through the admin API or CLI live only here. Egress and
 * the policy engine are built from this table, so an OEM added at run time needs no restart.
 */
import type Database from 'better-sqlite3';
import type { Migration } from '../sqlite/migrate.js';
import type { Sync } from '../sqlite/sync.js';
import { definitionDiff } from './definition.js';
import { OEM_COLUMNS, oemTaken, toOem, type OemDbRow } from './rows.js';
import type { OemDefinition, OemDefinitionChange, OemRegistryStore, SeedResult } from './types.js';

export const OEM_MIGRATIONS: Migration[] = [
  {
    id: '0013-oem-registry',
    sql: `
  CREATE TABLE oems (
    id                     TEXT PRIMARY KEY,
    name                   TEXT NOT NULL,
    endpoint               TEXT NOT NULL,
    allowed_countries      TEXT NOT NULL,   -- JSON array of ISO 3166-1 alpha-2 codes
    allow_private_networks INTEGER NOT NULL,
    signing_key_file       TEXT,
    mtls                   TEXT,            -- JSON {certFile, keyFile, caFile?} or NULL
    source                 TEXT NOT NULL,   -- 'config' | 'api'
    disabled_at            INTEGER,
    created_at             INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL
  ) STRICT;`,
  },
];

const columns = (o: OemDefinition) => ({
  id: o.id,
  name: o.name,
  endpoint: o.endpoint,
  allowed_countries: JSON.stringify(o.allowedCountries),
  allow_private_networks: o.allowPrivateNetworks ? 1 : 0,
  signing_key_file: o.signingKeyFile,
  mtls: o.mtls === null ? null : JSON.stringify(o.mtls),
});

export function sqliteOems(db: Database.Database): Sync<OemRegistryStore> {
  const get = db.prepare(`SELECT ${OEM_COLUMNS} FROM oems WHERE id = ?`);
  const list = db.prepare(`SELECT ${OEM_COLUMNS} FROM oems ORDER BY id`);
  const insert =
    db.prepare(`INSERT INTO oems (id, name, endpoint, allowed_countries, allow_private_networks, signing_key_file, mtls, source, disabled_at, created_at, updated_at)
    VALUES (@id, @name, @endpoint, @allowed_countries, @allow_private_networks, @signing_key_file, @mtls, @source, NULL, @now, @now)`);
  const update =
    db.prepare(`UPDATE oems SET name = @name, endpoint = @endpoint, allowed_countries = @allowed_countries, allow_private_networks = @allow_private_networks,
    signing_key_file = @signing_key_file, mtls = @mtls, updated_at = @now WHERE id = @id`);
  const seedOne =
    db.prepare(`UPDATE oems SET name = @name, endpoint = @endpoint, allowed_countries = @allowed_countries, allow_private_networks = @allow_private_networks,
    signing_key_file = @signing_key_file, mtls = @mtls, source = 'config', disabled_at = NULL, updated_at = @now WHERE id = @id`);
  const disable = db.prepare(`UPDATE oems SET disabled_at = @disabledAt, updated_at = @now WHERE id = @id`);
  const demote = db.prepare(
    `UPDATE oems SET source = 'api', signing_key_file = NULL, disabled_at = @now, updated_at = @now WHERE id = @id`,
  );

  const read = (id: string) => {
    const r = get.get(id) as OemDbRow | undefined;
    return r && toOem(r);
  };
  const seed = db.transaction((oems: readonly OemDefinition[], now: number): SeedResult => {
    const wanted = new Set(oems.map((o) => o.id));
    const overridden: string[] = [];
    const changed: OemDefinitionChange[] = [];
    for (const o of oems) {
      const old = read(o.id);
      if (!old) insert.run({ ...columns(o), source: 'config', now });
      else {
        // Only a real change moves updated_at: a restart with the same config is not an edit.
        const fields = definitionDiff(old, o);
        if (old.source !== 'config' || old.disabledAt !== null || fields.length > 0)
          seedOne.run({ ...columns(o), now });
        if (old.source === 'api') overridden.push(o.id);
        else if (fields.length > 0) changed.push({ id: o.id, fields });
      }
    }
    const demoted: string[] = [];
    for (const r of list.all() as OemDbRow[]) {
      if (r.source === 'config' && !wanted.has(r.id)) {
        demote.run({ id: r.id, now });
        demoted.push(r.id);
      }
    }
    return { demoted, overridden, changed };
  });

  return {
    insertOem(o) {
      try {
        insert.run({ ...columns(o), source: 'api', now: o.now });
      } catch (cause) {
        if ((cause as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw oemTaken(o.id, cause);
        throw cause;
      }
      return read(o.id)!;
    },
    updateOem(id, patch, now) {
      const old = read(id);
      if (!old) return undefined;
      update.run({ ...columns({ ...old, ...patch, id }), now });
      return read(id);
    },
    setOemDisabled(id, disabledAt, now) {
      return disable.run({ id, disabledAt, now }).changes > 0 ? read(id) : undefined;
    },
    getOem: (id) => read(id),
    listOems: () => (list.all() as OemDbRow[]).map(toOem),
    seedConfigOems: (oems, now) => seed(oems, now),
  };
}
