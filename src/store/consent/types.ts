/**
 * The consent area's contract, shared by both stores (src/store/consent/{sqlite,pg}.ts): owners'
 * grants per OEM purpose with validity periods (one open at a time; a newer grant supersedes the
 * one in force), and the owner API's logged changes.
 */
import type { RightsActor } from '../../audit/events.js';

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

/**
 * Consent changes made through the owner API: each change, its effect on the outbox and its
 * 'consent' leaf (docs/audit.md) commit in ONE transaction.
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
