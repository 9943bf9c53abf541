/**
 * The regulator's workbench in PostgreSQL, as ./sqlite.ts (the contract: ./types.ts): inventory counts,
 * incidents (row and 'incident' leaf in one transaction) and non-egress leaves read back.
 */
import type { PgMigration } from '../pg/migrate.js';
import type { Db } from '../pg/db.js';
import type { PgTreeWriter } from '../audit/pg.js';
import {
  AUDIT_EVENT_SELECT,
  INCIDENT_COLUMNS,
  INVENTORY_FROM,
  toAuditEvent,
  toIncident,
  type AuditEventDbRow,
  type IncidentDbRow,
} from './rows.js';
import type { AuditEventQueryStore, IncidentStore, InventoryCounts, InventoryStore } from './types.js';

export const WORKBENCH_MIGRATIONS: PgMigration[] = [
  {
    id: '0050-incidents',
    sql: `
  CREATE TABLE incidents (
    id         TEXT PRIMARY KEY,
    opened_at  BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('open', 'notified', 'closed')),
    doc        TEXT NOT NULL
  );
  CREATE INDEX audit_events_kind ON audit_events (kind, id);`,
  },
];

export function pgWorkbench(
  db: Db,
  audit: Pick<PgTreeWriter, 'appendEventIn'>,
): InventoryStore & IncidentStore & AuditEventQueryStore {
  return {
    async inventoryCounts() {
      const entries = await Promise.all(
        Object.entries(INVENTORY_FROM).map(
          async ([k, from]) =>
            [k, (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${from}`))[0]!.n] as const,
        ),
      );
      return Object.fromEntries(entries) as unknown as InventoryCounts;
    },
    saveIncident: (row, leaf) =>
      db.tx(async (t) => {
        await t.query(
          `INSERT INTO incidents (id, opened_at, updated_at, status, doc) VALUES ($1, $2, $3, $4, $5)
          ON CONFLICT (id) DO UPDATE SET updated_at = excluded.updated_at, status = excluded.status, doc = excluded.doc`,
          [row.id, row.openedAt, row.updatedAt, row.status, row.doc],
        );
        return audit.appendEventIn(t, 'incident', row.updatedAt, leaf);
      }),
    async getIncident(id) {
      const [r] = await db.query<IncidentDbRow>(`SELECT ${INCIDENT_COLUMNS} FROM incidents WHERE id = $1`, [id]);
      return r && toIncident(r);
    },
    listIncidents: async () =>
      (await db.query<IncidentDbRow>(`SELECT ${INCIDENT_COLUMNS} FROM incidents ORDER BY opened_at DESC, id DESC`)).map(
        toIncident,
      ),
    listAuditEvents: async (f) =>
      (
        await db.query<AuditEventDbRow>(
          `${AUDIT_EVENT_SELECT}
        WHERE ev.kind = $1 AND l.leaf_index > $2 AND ev.at >= $3 AND ev.at < $4
        ORDER BY l.leaf_index LIMIT $5`,
          [f.kind, f.afterIndex ?? -1, f.from ?? 0, f.to ?? Number.MAX_SAFE_INTEGER, f.limit],
        )
      ).map(toAuditEvent),
  };
}
