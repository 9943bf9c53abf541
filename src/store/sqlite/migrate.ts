/**
 * Named migrations. Each store area (vehicles/sqlite.ts, records/sqlite.ts, …) declares its own, with an id
 * that sorts into place (`0001-…`); the runner applies, in id order, those the file has not
 * seen, and records each in `schema_migrations`. Never edit a shipped migration: add the next.
 */
import type Database from 'better-sqlite3';
import { migrationIds, refuseNewerStore } from '../migrations.js';

export interface Migration {
  readonly id: string;
  readonly sql: string;
}

export function migrate(db: Database.Database, migrations: readonly Migration[]): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT`);
  const applied = new Set(db.prepare('SELECT id FROM schema_migrations').pluck().all() as string[]);
  refuseNewerStore(applied, migrationIds(migrations));
  const record = db.prepare('INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)');
  for (const m of [...migrations].sort((a, b) => a.id.localeCompare(b.id))) {
    if (applied.has(m.id)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      record.run(m.id, Date.now());
    })();
  }
}
