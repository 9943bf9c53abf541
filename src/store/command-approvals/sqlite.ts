/**
 * Owners' approvals of restricting downlink commands (immobilize, speed-limit, …): per vehicle,
 * OEM and command type. Deny by default: without an approval in force such a command is blocked.
 * History is kept (a revocation closes an approval, never deletes it); each grant and revocation
 * commits with its 'command' leaf.
 */
import type Database from 'better-sqlite3';
import type { Migration } from '../sqlite/migrate.js';
import type { AuditEventBody } from '../../audit/events.js';
import type { Sync } from '../sqlite/sync.js';
import type { AppendEvent } from '../commands/sqlite.js';
import type { CommandApprovalStore } from './types.js';
import { APPROVAL_COLUMNS, toApproval, type ApprovalDbRow } from './rows.js';

export const COMMAND_APPROVAL_MIGRATIONS: Migration[] = [
  {
    id: '0023-command-approvals',
    sql: `
  CREATE TABLE command_approvals (
    id          INTEGER PRIMARY KEY,
    vin         TEXT NOT NULL,
    oem         TEXT NOT NULL,
    type        TEXT NOT NULL,
    owner_id    TEXT NOT NULL,
    approved_at INTEGER NOT NULL,
    revoked_at  INTEGER
  ) STRICT;
  CREATE INDEX command_approvals_vin ON command_approvals (vin, oem, type);`,
  },
];

export function sqliteCommandApprovals(db: Database.Database, appendEvent: AppendEvent): Sync<CommandApprovalStore> {
  const inForce = db.prepare(
    `SELECT ${APPROVAL_COLUMNS} FROM command_approvals WHERE vin = ? AND oem = ? AND type = ? AND revoked_at IS NULL ORDER BY id DESC LIMIT 1`,
  );
  const insert = db.prepare(
    `INSERT INTO command_approvals (vin, oem, type, owner_id, approved_at) VALUES (?, ?, ?, ?, ?)`,
  );
  const byId = db.prepare(`SELECT ${APPROVAL_COLUMNS} FROM command_approvals WHERE id = ?`);
  const revoke = db.prepare(
    `UPDATE command_approvals SET revoked_at = ? WHERE vin = ? AND oem = ? AND type = ? AND revoked_at IS NULL`,
  );
  const approvedAt = db
    .prepare(
      `SELECT 1 FROM command_approvals WHERE vin = ? AND oem = ? AND type = ? AND approved_at <= ? AND (revoked_at IS NULL OR revoked_at > ?) LIMIT 1`,
    )
    .pluck();
  const list = db.prepare(
    `SELECT ${APPROVAL_COLUMNS} FROM command_approvals WHERE vin = ? ORDER BY approved_at DESC, id DESC`,
  );

  const approve = db.transaction((a: Parameters<CommandApprovalStore['approveCommand']>[0], leaf: AuditEventBody) => {
    const existing = inForce.get(a.vin, a.oem, a.type) as ApprovalDbRow | undefined;
    if (existing) return { row: toApproval(existing), created: false };
    const id = Number(insert.run(a.vin, a.oem, a.type, a.ownerId, a.now).lastInsertRowid);
    appendEvent('command', a.now, leaf);
    return { row: toApproval(byId.get(id) as ApprovalDbRow), created: true };
  });
  const revokeTx = db.transaction(
    (a: Parameters<CommandApprovalStore['revokeCommandApproval']>[0], leaf: AuditEventBody) => {
      if (revoke.run(a.now, a.vin, a.oem, a.type).changes === 0) return false;
      appendEvent('command', a.now, leaf);
      return true;
    },
  );
  return {
    approveCommand(a, leaf) {
      return approve(a, leaf);
    },
    revokeCommandApproval(a, leaf) {
      return revokeTx(a, leaf);
    },
    isCommandApproved(vin, oem, type, atMs) {
      return approvedAt.get(vin, oem, type, atMs, atMs) !== undefined;
    },
    listCommandApprovals(vin) {
      return (list.all(vin) as ApprovalDbRow[]).map(toApproval);
    },
  };
}
