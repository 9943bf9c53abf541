/**
 * The store's interface for the owner side: consent and its logged changes,
 * objections to automated processing, erasure, the owner's report, and owner tokens. Split from
 * types.ts along that seam; the composed `Store` (types.ts) extends these. Asynchronous like
 * every store method.
 */
import type { EgressSearch, RemovedCounts } from './types.js';

/** One grant of consent by a vehicle's owner, for one OEM purpose; `revokedAt` null while open. */
export interface ConsentRow {
  readonly id: number;
  readonly vin: string;
  readonly oem: string;
  readonly purpose: string;
  readonly grantedAt: number;
  /** When the grant lapses by itself (the purpose's `consentMaxDays` at most); null: no end (grants made before validity periods). */
  readonly validUntil: number | null;
  /** When the grant was ended early: revoked, or superseded by a newer grant. */
  readonly revokedAt: number | null;
  readonly endedBy: 'revoked' | 'superseded' | null;
  /** Where the consent came from (owner app, dealer form…), for the regulator. */
  readonly source: string;
}

/** The consent registry. History is kept: a revocation closes a grant, it never deletes it. */
export interface ConsentStore {
  /**
   * Records a grant from `atMs` until `validUntil` (null/absent: no end). A grant already in
   * force with the same `validUntil` is resolved as it is; any other grant in force is
   * superseded (closed at `atMs`), so exactly one grant is open afterwards.
   */
  grantConsent(c: {
    vin: string;
    oem: string;
    purpose: string;
    atMs: number;
    source?: string;
    validUntil?: number | null;
  }): Promise<ConsentRow>;
  /** Closes every grant in force for that vehicle, OEM and purpose at `atMs`; resolves to how many. */
  revokeConsent(c: { vin: string; oem: string; purpose: string; atMs: number }): Promise<number>;
  /** True when a grant was in force at `atMs`: granted, not revoked and not past its `validUntil`. */
  isConsentGranted(vin: string, oem: string, purpose: string, atMs: number): Promise<boolean>;
  /** Every grant of a vehicle, newest first. */
  listConsents(vin: string): Promise<ConsentRow[]>;
}

/** Who changed something on the owner's behalf, as the leaf names them (ids, never names). */
export interface RightsActor {
  /** `owner-app`, `operator`, `cli`… */
  readonly source: string;
  /** The API key's id (never the key), when the change came through an API. */
  readonly apiKey: string | null;
  /** The owner binding's id (src/api/owner/binding.ts), when an owner acted. */
  readonly owner: string | null;
}

/**
 * Consent changes made through the owner API: each change, its effect on the outbox and its
 * 'consent' leaf (docs/audit.md) commit in ONE transaction (store/sqlite/consent.ts).
 */
export interface ConsentRegistryStore {
  grantConsentLogged(c: {
    vin: string;
    oem: string;
    purpose: string;
    atMs: number;
    validUntil: number;
    pseudonym: string;
    actor: RightsActor;
  }): Promise<{ grant: ConsentRow; leafIndex: number }>;
  /**
   * Revokes, and marks every outbox row of that vehicle, OEM and purpose not yet handed on
   * (pending) as blocked, so nothing of it waits in the local queue. Rows already published to
   * Kafka are stopped by the send-time check. Logged even when nothing was in force.
   */
  revokeConsentLogged(c: {
    vin: string;
    oem: string;
    purpose: string;
    atMs: number;
    pseudonym: string;
    actor: RightsActor;
  }): Promise<{ revoked: number; blockedPending: number; leafIndex: number }>;
}

export type { ObjectionStatus, ObjectionRow, ObjectionStore } from './objections/types.js';

/** Erasure of a vehicle's local personal data on its owner's request (store/sqlite/erasure.ts). */
export interface ErasureStore {
  /**
   * Removes the vehicle's records (raw payloads included), route points, account data and
   * quarantined payloads, and marks its outbox rows not yet delivered as blocked, in ONE
   * transaction. MUST NOT touch the egress log or the Merkle tables.
   */
  eraseVehicle(vin: string): Promise<RemovedCounts>;
}

/** Totals of the egress log per OEM × purpose × outcome × pseudonym (the owner's report). */
export interface EgressTotalRow {
  readonly oem: string;
  readonly purpose: string;
  readonly outcome: string;
  readonly pseudonym: string;
  readonly entries: number;
  /** Distinct records. */
  readonly records: number;
  readonly bytes: number;
}

/** The owner's report (store/sqlite/owner-report.ts): totals over the same filter as searchEgress. */
export interface OwnerReportStore {
  egressTotals(filter: EgressSearch): Promise<EgressTotalRow[]>;
}

/** An owner's token and the vehicles it covers (store/sqlite/owner-bindings.ts). */
export interface OwnerBindingRow {
  readonly id: string;
  /** The operator's own reference for the person (customer number…); never shown to OEMs. */
  readonly ownerRef: string;
  readonly vins: readonly string[];
  readonly createdAt: number;
  readonly revokedAt: number | null;
}

/** Which vehicles an owner may act for in /owner/v1. */
export interface OwnerBindingStore {
  /** Issues a token for `ownerRef` covering `vins`; the returned `token` is the only time it exists in clear. */
  createOwnerToken(b: {
    ownerRef: string;
    vins: readonly string[];
    now: number;
  }): Promise<{ id: string; token: string }>;
  /** The binding when `token` is valid and unrevoked; undefined otherwise. */
  authenticateOwner(token: string): Promise<OwnerBindingRow | undefined>;
  ownersOfVehicle(vin: string): Promise<OwnerBindingRow[]>;
  /** Returns false when no such unrevoked token exists. */
  revokeOwnerToken(id: string, now: number): Promise<boolean>;
}
