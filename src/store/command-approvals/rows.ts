/**
 * What both stores share about command approvals: the table's columns, its row and the mapping
 * to a `CommandApprovalRow`. The DDL and the statements stay per dialect (sqlite.ts, pg.ts):
 * PostgreSQL needs a unique index and an upsert where SQLite's one writer reads before it writes.
 */
import type { CommandApprovalRow } from './types.js';

export const APPROVAL_COLUMNS = 'id, vin, oem, type, owner_id, approved_at, revoked_at';

/** The `command_approvals` table's row, as both drivers return it (integers as JS numbers). */
export interface ApprovalDbRow {
  id: number;
  vin: string;
  oem: string;
  type: string;
  owner_id: string;
  approved_at: number;
  revoked_at: number | null;
}

export const toApproval = (r: ApprovalDbRow): CommandApprovalRow => ({
  id: r.id,
  vin: r.vin,
  oem: r.oem,
  type: r.type,
  ownerId: r.owner_id,
  approvedAt: r.approved_at,
  revokedAt: r.revoked_at,
});
