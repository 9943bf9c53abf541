/**
 * The regulator's workbench in SQLite: inventory counts, incidents (row and 'incident' leaf in
 * one transaction) and non-egress leaves read back in index order.
 */
import type Database from 'better-sqlite3';
import type { Migration } from './migrate.js';
import type { AuditStore, IncidentRow } from '../types.js';
import type { AuditEventQueryStore, IncidentStore, InventoryCounts, InventoryStore } from '../workbench-types.js';
import type { Sync } from './sync.js';
import type { EventLeafKind } from '../../audit/leaf.js';

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

type IncidentDbRow = { id: string; opened_at: number; updated_at: number; status: string; doc: string };
const toIncident = (r: IncidentDbRow): IncidentRow => ({
  id: r.id,
  openedAt: r.opened_at,
  updatedAt: r.updated_at,
  status: r.status as IncidentRow['status'],
  doc: r.doc,
});

export function sqliteWorkbench(
  db: Database.Database,
  audit: Pick<Sync<AuditStore>, 'appendAuditEvent'>,
): Sync<InventoryStore & IncidentStore & AuditEventQueryStore> {
  const n = (sql: string) => db.prepare(sql).pluck();
  const counters = {
    vehicles: n(`SELECT COUNT(*) FROM vehicles`),
    records: n(`SELECT COUNT(*) FROM records`),
    routePoints: n(`SELECT COUNT(*) FROM route_points`),
    accountData: n(`SELECT COUNT(*) FROM account_data`),
    quarantine: n(`SELECT COUNT(*) FROM quarantine`),
    consents: n(`SELECT COUNT(*) FROM consent`),
    ownerBindings: n(`SELECT COUNT(*) FROM owner_bindings`),
    objections: n(`SELECT COUNT(*) FROM objections`),
    outboxQueued: n(`SELECT COUNT(*) FROM egress_outbox WHERE status IN ('pending', 'published', 'pull')`),
    egressLog: n(`SELECT COUNT(*) FROM egress_log`),
    auditLeaves: n(`SELECT COUNT(*) FROM audit_leaves`),
  };
  const upsert = db.prepare(`INSERT INTO incidents (id, opened_at, updated_at, status, doc)
    VALUES (@id, @openedAt, @updatedAt, @status, @doc)
    ON CONFLICT (id) DO UPDATE SET updated_at = excluded.updated_at, status = excluded.status, doc = excluded.doc`);
  const get = db.prepare(`SELECT * FROM incidents WHERE id = ?`);
  const list = db.prepare(`SELECT * FROM incidents ORDER BY opened_at DESC, id DESC`);
  const events = db.prepare(`SELECT l.leaf_index AS idx, ev.at AS at, ev.kind AS kind, ev.body AS body
    FROM audit_events ev JOIN audit_leaves l ON l.kind = ev.kind AND l.ref = ev.id
    WHERE ev.kind = @kind AND l.leaf_index > @after AND ev.at >= @from AND ev.at < @to
    ORDER BY l.leaf_index LIMIT @limit`);
  const save = db.transaction((row: IncidentRow, leaf: Parameters<IncidentStore['saveIncident']>[1]) => {
    upsert.run(row);
    return audit.appendAuditEvent('incident', row.updatedAt, leaf);
  });
  return {
    inventoryCounts: () =>
      Object.fromEntries(
        Object.entries(counters).map(([k, st]) => [k, st.get() as number]),
      ) as unknown as InventoryCounts,
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
        }) as { idx: number; at: number; kind: string; body: string }[]
      ).map((r) => ({
        index: r.idx,
        at: r.at,
        kind: r.kind as EventLeafKind,
        body: JSON.parse(r.body) as Record<string, unknown>,
      })),
  };
}
