/**
 * The store's interface for the OEM side: the pull feed (./oem-feed/types.ts) and webhook
 * signing keys (./signing-keys/types.ts), both re-exported here, downlink commands and owners' approvals of them. Split from types.ts along that seam; the
 * composed `Store` (types.ts) extends these. Asynchronous like every store method.
 */
import type { AuditEventBody } from './types.js';

export type { FeedItem, OemFeedStore } from './oem-feed/types.js';
export type { SigningKeyRow, SigningKeyStore } from './signing-keys/types.js';

/** blocked (never sent) | queued (waits for the car) → sent → accepted → done | failed; rejected; expired (ttl passed unsent). */
export type CommandStatus = 'blocked' | 'queued' | 'sent' | 'accepted' | 'rejected' | 'done' | 'failed' | 'expired';
export type CommandAckStatus = 'accepted' | 'rejected' | 'done' | 'failed';

export interface CommandAck {
  readonly status: CommandAckStatus;
  readonly detail: string | null;
  readonly at: number;
}

/** One downlink command an OEM asked for (store/sqlite/commands.ts). */
export interface CommandRow {
  readonly id: string;
  readonly oem: string;
  readonly vin: string;
  /** The pseudonym the OEM named the vehicle by. */
  readonly pseudonym: string;
  readonly type: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly status: CommandStatus;
  /** Why it was blocked or expired. */
  readonly reason: string | null;
  /** The id of the OEM key that sent it. */
  readonly apiKey: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly sentAt: number | null;
  /** The car's acknowledgements, oldest first. */
  readonly acks: readonly CommandAck[];
}

export interface CommandStore {
  /** Records a new command ('queued' or 'blocked') and its leaf in ONE transaction. */
  createCommand(
    c: {
      id: string;
      oem: string;
      vin: string;
      pseudonym: string;
      type: string;
      params: Readonly<Record<string, unknown>>;
      status: 'queued' | 'blocked';
      reason: string | null;
      apiKey: string;
      createdAt: number;
      expiresAt: number;
    },
    leaf: AuditEventBody,
  ): Promise<CommandRow>;
  getCommand(id: string): Promise<CommandRow | undefined>;
  /** A vehicle's queued commands, oldest first. */
  queuedCommands(vin: string): Promise<CommandRow[]>;
  /** Vehicles with a queued command whose ttl has not ended at `now`, at most `limit`. */
  queuedCommandVins(now: number, limit: number): Promise<string[]>;
  /** Queued commands whose ttl ended before `now`, oldest first, at most `limit`. */
  expiredQueuedCommands(now: number, limit: number): Promise<CommandRow[]>;
  /**
   * When commands of this vehicle and type that were not blocked were created, since `since`,
   * oldest first; one blocked after it was sent counts (it may have reached the car).
   */
  commandTimes(vin: string, type: string, since: number): Promise<number[]>;
  /** queued → sent, with its leaf, in one transaction; false (nothing written) when it was no longer queued. */
  markCommandSent(id: string, at: number, leaf: AuditEventBody): Promise<boolean>;
  /**
   * sent → queued again after a failed publish (nothing reached the car), with its leaf, in one
   * transaction, so the log says the 'sent' leaf before it was an attempt that did not arrive;
   * false (nothing written) when it was not sent.
   */
  requeueCommand(id: string, at: number, leaf: AuditEventBody): Promise<boolean>;
  /** queued → expired, with its leaf; false when it was no longer queued. */
  expireCommand(id: string, at: number, reason: string, leaf: AuditEventBody): Promise<boolean>;
  /**
   * queued → blocked at send time (its approval withdrawn, its OEM disabled, its policy or
   * vehicle changed since it was queued), with its leaf; false when it was no longer queued.
   */
  blockQueuedCommand(id: string, at: number, reason: string, leaf: AuditEventBody): Promise<boolean>;
  /**
   * sent → blocked: a command sent and not yet acknowledged by the car, stopped before the
   * embedded broker puts it on the wire again (re-sent from the car's session on reconnect, or
   * released under its Receive Maximum) because the send-time check no longer allows it; with
   * its leaf; false when it was no longer 'sent'.
   */
  blockSentCommand(id: string, at: number, reason: string, leaf: AuditEventBody): Promise<boolean>;
  /**
   * Records the car's acknowledgement of its own command while the command is open (sent or
   * accepted), with its leaf, in one transaction; false (nothing written) otherwise.
   */
  recordCommandAck(a: { id: string; vin: string; ack: CommandAck }, leaf: AuditEventBody): Promise<boolean>;
}

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

/** Owners' approvals of restricting commands (store/sqlite/command-approvals.ts). History is kept. */
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
