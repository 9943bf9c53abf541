/**
 * The command approvals area's contract, shared by both stores
 * (src/store/command-approvals/{sqlite,pg}.ts): owners' approvals of restricting downlink
 * commands, per vehicle, OEM and command type. Deny by default; history is kept.
 */
import type { AuditEventBody } from '../../audit/events.js';

/** An owner's approval of one restricting command type, for one OEM and vehicle. */
export interface CommandApprovalRow {
  readonly id: number;
  readonly vin: string;
  readonly oem: string;
  readonly type: string;
  /** The owner binding (token id) that approved or revoked it. */
  readonly ownerId: string;
  readonly approvedAt: number;
  readonly revokedAt: number | null;
}

/** Owners' approvals of restricting commands (this folder: sqlite.ts, pg.ts). History is kept. */
export interface CommandApprovalStore {
  /** Approves from `now` with its leaf; an approval already in force is returned as it is (no leaf). */
  approveCommand(
    a: { vin: string; oem: string; type: string; ownerId: string; now: number },
    leaf: AuditEventBody,
  ): Promise<{ row: CommandApprovalRow; created: boolean }>;
  /** Revokes the approval in force (with its leaf); false when there was none. */
  revokeCommandApproval(
    a: { vin: string; oem: string; type: string; now: number },
    leaf: AuditEventBody,
  ): Promise<boolean>;
  isCommandApproved(vin: string, oem: string, type: string, atMs: number): Promise<boolean>;
  /** Every approval of a vehicle, newest first. */
  listCommandApprovals(vin: string): Promise<CommandApprovalRow[]>;
}
