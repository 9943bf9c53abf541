/**
 * The objections area's contract, shared by both stores (src/store/objections/{sqlite,pg}.ts).
 * An objection is open from receipt until the operator resolves it — upheld or rejected, with an
 * answer — and is kept afterwards: the regulator may ask whether answers came within the deadline.
 */
import type { RightsActor } from '../../audit/events.js';

export type ObjectionStatus = 'open' | 'upheld' | 'rejected';

/** An owner's objection to automated processing of their vehicle's data for one OEM purpose. */
export interface ObjectionRow {
  readonly id: string;
  readonly vin: string;
  readonly oem: string;
  readonly purpose: string;
  /** The vehicle's pseudonym for the OEM at receipt: the leaves of opening and resolution name it. */
  readonly pseudonym: string;
  /** The owner's words; kept in the country, never in a leaf (only its SHA-256). */
  readonly reason: string;
  readonly receivedAt: number;
  /** The operator answers by then (three calendar days after receipt). */
  readonly dueAt: number;
  readonly status: ObjectionStatus;
  readonly answer: string | null;
  readonly resolvedAt: number | null;
  readonly resolvedBy: string | null;
}

/**
 * Objections to automated processing (this folder: sqlite.ts, pg.ts). Every change is an
 * 'objection' leaf in the same transaction.
 */
export interface ObjectionStore {
  /** Records it; when `automated`, also marks the vehicle's undelivered rows of that OEM purpose blocked (as a revocation does). */
  openObjection(o: {
    vin: string;
    oem: string;
    purpose: string;
    pseudonym: string;
    reason: string;
    receivedAt: number;
    dueAt: number;
    automated: boolean;
    actor: RightsActor;
  }): Promise<{ objection: ObjectionRow; leafIndex: number }>;
  /** undefined when no such objection; throws SHK_OBJECTION_RESOLVED when it is no longer open. */
  resolveObjection(r: {
    id: string;
    status: 'upheld' | 'rejected';
    answer: string;
    resolvedAt: number;
    actor: RightsActor;
  }): Promise<{ objection: ObjectionRow; leafIndex: number } | undefined>;
  getObjection(id: string): Promise<ObjectionRow | undefined>;
  /** Oldest first. `overdueAt`: only open objections whose deadline is before it. */
  listObjections(filter?: {
    vin?: string;
    status?: ObjectionStatus;
    overdueAt?: number;
    limit?: number;
  }): Promise<ObjectionRow[]>;
  /**
   * True when processing of `vin` for `oem`/`purpose` is objected to at `atMs`: an objection
   * received by then is open, or was upheld. Hot path (ingest and send time), like isConsentGranted.
   */
  isProcessingObjected(vin: string, oem: string, purpose: string, atMs: number): Promise<boolean>;
}
