/**
 * Named migrations for PostgreSQL, with the same ids as the SQLite ones (each area's file
 * declares its own). Several instances may start at once: the runner takes a transaction-level
 * advisory lock, creates the schema if missing, and applies every migration not yet recorded
 * in `schema_migrations` in ONE transaction, so a failed start leaves the schema as it was.
 */
import { ident, type Db } from './db.js';
import { migrationIds, refuseNewerStore } from '../migrations.js';

export interface PgMigration {
  readonly id: string;
  readonly sql: string;
}

export async function migratePg(db: Db, migrations: readonly PgMigration[]): Promise<void> {
  const ids = migrationIds(migrations);
  await db.tx(async (t) => {
    await t.lock('migrations');
    await t.query(`CREATE SCHEMA IF NOT EXISTS ${ident(db.schema)}`);
    await t.query(`SET LOCAL search_path TO ${ident(db.schema)}`);
    await t.query(`CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)`);
    const applied = new Set((await t.query<{ id: string }>(`SELECT id FROM schema_migrations`)).map((r) => r.id));
    refuseNewerStore(applied, ids);
    for (const m of [...migrations].sort((a, b) => a.id.localeCompare(b.id))) {
      if (applied.has(m.id)) continue;
      await t.query(m.sql);
      await t.query(`INSERT INTO schema_migrations (id, applied_at) VALUES ($1, $2)`, [m.id, Date.now()]);
    }
  });
}
