/**
 * The regulator's workbench in PostgreSQL, as store/sqlite/workbench.ts: inventory counts,
 * incidents (row and 'incident' leaf in one transaction) and non-egress leaves read back.
 */
import type { PgMigration } from './migrate.js';
import type { Db } from './db.js';
import type { PgTreeWriter } from './audit.js';
import type { IncidentRow } from '../types.js';
import type { AuditEventQueryStore, IncidentStore, InventoryCounts, InventoryStore } from '../workbench-types.js';
import type { EventLeafKind } from '../../audit/leaf.js';

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

const COUNTS: Record<keyof InventoryCounts, string> = {
  vehicles: `SELECT count(*)::int AS n FROM vehicles`,
  records: `SELECT count(*)::int AS n FROM records`,
  routePoints: `SELECT count(*)::int AS n FROM route_points`,
  accountData: `SELECT count(*)::int AS n FROM account_data`,
  quarantine: `SELECT count(*)::int AS n FROM quarantine`,
  consents: `SELECT count(*)::int AS n FROM consent`,
  ownerBindings: `SELECT count(*)::int AS n FROM owner_bindings`,
  objections: `SELECT count(*)::int AS n FROM objections`,
  outboxQueued: `SELECT count(*)::int AS n FROM egress_outbox WHERE status IN ('pending', 'published', 'pull')`,
  egressLog: `SELECT count(*)::int AS n FROM egress_log`,
  auditLeaves: `SELECT count(*)::int AS n FROM audit_leaves`,
};

type IncidentDbRow = {
  id: string;
  opened_at: string | number;
  updated_at: string | number;
  status: string;
  doc: string;
};
const toIncident = (r: IncidentDbRow): IncidentRow => ({
  id: r.id,
  openedAt: Number(r.opened_at),
  updatedAt: Number(r.updated_at),
  status: r.status as IncidentRow['status'],
  doc: r.doc,
});

export function pgWorkbench(
  db: Db,
  audit: Pick<PgTreeWriter, 'appendEventIn'>,
): InventoryStore & IncidentStore & AuditEventQueryStore {
  return {
    async inventoryCounts() {
      const entries = await Promise.all(
        Object.entries(COUNTS).map(async ([k, sql]) => [k, (await db.query<{ n: number }>(sql))[0]!.n] as const),
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
      const [r] = await db.query<IncidentDbRow>(`SELECT * FROM incidents WHERE id = $1`, [id]);
      return r && toIncident(r);
    },
    listIncidents: async () =>
      (await db.query<IncidentDbRow>(`SELECT * FROM incidents ORDER BY opened_at DESC, id DESC`)).map(toIncident),
    listAuditEvents: async (f) =>
      (
        await db.query<{ idx: string | number; at: string | number; kind: string; body: string }>(
          `SELECT l.leaf_index AS idx, ev.at AS at, ev.kind AS kind, ev.body AS body
        FROM audit_events ev JOIN audit_leaves l ON l.kind = ev.kind AND l.ref = ev.id
        WHERE ev.kind = $1 AND l.leaf_index > $2 AND ev.at >= $3 AND ev.at < $4
        ORDER BY l.leaf_index LIMIT $5`,
          [f.kind, f.afterIndex ?? -1, f.from ?? 0, f.to ?? Number.MAX_SAFE_INTEGER, f.limit],
        )
      ).map((r) => ({
        index: Number(r.idx),
        at: Number(r.at),
        kind: r.kind as EventLeafKind,
        body: JSON.parse(r.body) as Record<string, unknown>,
      })),
  };
}
