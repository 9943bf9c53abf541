/**
 * The regulator's workbench in SQLite: inventory counts, incidents (row and 'incident' leaf in
 * one transaction) and non-egress leaves read back in index order. The contract: ./types.ts.
 */
import type Database from 'better-sqlite3';
import type { Migration } from '../sqlite/migrate.js';
import type { Sync } from '../sqlite/sync.js';
import type { AuditStore } from '../types.js';
import {
  AUDIT_EVENT_SELECT,
  INCIDENT_COLUMNS,
  INVENTORY_FROM,
  toAuditEvent,
  toIncident,
  type AuditEventDbRow,
  type IncidentDbRow,
} from './rows.js';
import type { AuditEventQueryStore, IncidentRow, IncidentStore, InventoryCounts, InventoryStore } from './types.js';

export const WORKBENCH_MIGRATIONS: Migration[] = [
  {
    id: '0050-incidents',
    sql: `
  -- Personal-data incidents (docs/regulator.md "Incidents"); every change is also an 'incident' leaf.
  CREATE TABLE incidents (
    id         TEXT PRIMARY KEY,
    opened_at  INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('open', 'notified', 'closed')),
    doc        TEXT NOT NULL
  ) STRICT;
  CREATE INDEX audit_events_kind ON audit_events (kind, id);`,
  },
];

export function sqliteWorkbench(
  db: Database.Database,
  audit: Pick<Sync<AuditStore>, 'appendAuditEvent'>,
): Sync<InventoryStore & IncidentStore & AuditEventQueryStore> {
  const counters = Object.entries(INVENTORY_FROM).map(
    ([k, from]) => [k, db.prepare(`SELECT COUNT(*) FROM ${from}`).pluck()] as const,
  );
  const upsert = db.prepare(`INSERT INTO incidents (id, opened_at, updated_at, status, doc)
    VALUES (@id, @openedAt, @updatedAt, @status, @doc)
    ON CONFLICT (id) DO UPDATE SET updated_at = excluded.updated_at, status = excluded.status, doc = excluded.doc`);
  const get = db.prepare(`SELECT ${INCIDENT_COLUMNS} FROM incidents WHERE id = ?`);
  const list = db.prepare(`SELECT ${INCIDENT_COLUMNS} FROM incidents ORDER BY opened_at DESC, id DESC`);
  const events = db.prepare(`${AUDIT_EVENT_SELECT}
    WHERE ev.kind = @kind AND l.leaf_index > @after AND ev.at >= @from AND ev.at < @to
    ORDER BY l.leaf_index LIMIT @limit`);
  const save = db.transaction((row: IncidentRow, leaf: Parameters<IncidentStore['saveIncident']>[1]) => {
    upsert.run(row);
    return audit.appendAuditEvent('incident', row.updatedAt, leaf);
  });
  return {
    inventoryCounts: () =>
      Object.fromEntries(counters.map(([k, st]) => [k, st.get() as number])) as unknown as InventoryCounts,
    saveIncident: (row, leaf) => save(row, leaf),
    getIncident: (id) => {
      const r = get.get(id) as IncidentDbRow | undefined;
      return r && toIncident(r);
    },
    listIncidents: () => (list.all() as IncidentDbRow[]).map(toIncident),
    listAuditEvents: (f) =>
      (
        events.all({
          kind: f.kind,
          after: f.afterIndex ?? -1,
          from: f.from ?? 0,
          to: f.to ?? Number.MAX_SAFE_INTEGER,
          limit: f.limit,
        }) as AuditEventDbRow[]
      ).map(toAuditEvent),
  };
}
