/**
 * What both stores share about the workbench: what the inventory counts, the `incidents` row and
 * its mapping, and a non-egress leaf as read back. DDL and statements stay per dialect (sqlite.ts,
 * pg.ts). PostgreSQL may hand BIGINT columns back as text, so the mappers take numbers or text.
 */
import type { EventLeafKind } from '../../audit/leaf.js';
import type { AuditEventRow, IncidentRow, InventoryCounts } from './types.js';

/** What each inventory count counts: the FROM clause of its `SELECT count(*)`. */
export const INVENTORY_FROM: Readonly<Record<keyof InventoryCounts, string>> = {
  vehicles: `vehicles`,
  records: `records`,
  routePoints: `route_points`,
  accountData: `account_data`,
  quarantine: `quarantine`,
  consents: `consent`,
  ownerBindings: `owner_bindings`,
  objections: `objections`,
  outboxQueued: `egress_outbox WHERE status IN ('pending', 'published', 'pull')`,
  egressLog: `egress_log`,
  auditLeaves: `audit_leaves`,
};

export const INCIDENT_COLUMNS = 'id, opened_at, updated_at, status, doc';

/** The `incidents` table's row. */
export interface IncidentDbRow {
  id: string;
  opened_at: string | number;
  updated_at: string | number;
  status: string;
  doc: string;
}

export const toIncident = (r: IncidentDbRow): IncidentRow => ({
  id: r.id,
  openedAt: Number(r.opened_at),
  updatedAt: Number(r.updated_at),
  status: r.status as IncidentRow['status'],
  doc: r.doc,
});

/** The columns the leaf query of `listAuditEvents` selects, in either dialect. */
export const AUDIT_EVENT_SELECT = `SELECT l.leaf_index AS idx, ev.at AS at, ev.kind AS kind, ev.body AS body
    FROM audit_events ev JOIN audit_leaves l ON l.kind = ev.kind AND l.ref = ev.id`;

export interface AuditEventDbRow {
  idx: string | number;
  at: string | number;
  kind: string;
  body: string;
}

export const toAuditEvent = (r: AuditEventDbRow): AuditEventRow => ({
  index: Number(r.idx),
  at: Number(r.at),
  kind: r.kind as EventLeafKind,
  body: JSON.parse(r.body) as Record<string, unknown>,
});
