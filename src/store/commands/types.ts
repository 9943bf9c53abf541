/**
 * The downlink commands area's contract, shared by both stores (src/store/commands/{sqlite,pg}.ts):
 * what an OEM asked for, the policy's verdict, when it went to the car and what the car answered.
 * Every state change commits with its 'command' leaf in ONE transaction.
 */
import type { AuditEventBody } from '../../audit/events.js';

/** blocked (never sent) | queued (waits for the car) → sent → accepted → done | failed; rejected; expired (ttl passed unsent). */
export type CommandStatus = 'blocked' | 'queued' | 'sent' | 'accepted' | 'rejected' | 'done' | 'failed' | 'expired';
export type CommandAckStatus = 'accepted' | 'rejected' | 'done' | 'failed';

export interface CommandAck {
  readonly status: CommandAckStatus;
  readonly detail: string | null;
  readonly at: number;
}

/** One downlink command an OEM asked for (this folder: sqlite.ts, pg.ts). */
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
