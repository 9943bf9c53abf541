/**
 * What both stores share about consent: the row and its mapping, and the 'consent' leaves that
 * the owner API's grants and revocations append. The DDL, the in-force condition and the
 * statements stay per dialect (sqlite.ts, pg.ts): placeholders differ, and PostgreSQL needs a
 * lock where SQLite's one writer is enough.
 */
import { consentLeaf, type AuditEventBody } from '../../audit/events.js';
import type { ConsentRegistryStore, ConsentRow } from './types.js';

export const CONSENT_COLUMNS = 'id, vin, oem, purpose, granted_at, valid_until, revoked_at, ended_by, source';

/** The `consent` table's row, as both drivers return it. */
export interface ConsentDbRow {
  id: number;
  vin: string;
  oem: string;
  purpose: string;
  granted_at: number;
  valid_until: number | null;
  revoked_at: number | null;
  ended_by: string | null;
  source: string;
}

export function toConsent(r: ConsentDbRow): ConsentRow {
  return {
    id: r.id,
    vin: r.vin,
    oem: r.oem,
    purpose: r.purpose,
    grantedAt: r.granted_at,
    validUntil: r.valid_until,
    revokedAt: r.revoked_at,
    endedBy: r.ended_by as ConsentRow['endedBy'],
    source: r.source,
  };
}

type GrantLogged = Parameters<ConsentRegistryStore['grantConsentLogged']>[0];
type RevokeLogged = Parameters<ConsentRegistryStore['revokeConsentLogged']>[0];

/** The grant as the consent writer takes it: the actor's source is where the consent came from. */
export const grantOf = (c: GrantLogged) => ({
  vin: c.vin,
  oem: c.oem,
  purpose: c.purpose,
  atMs: c.atMs,
  validUntil: c.validUntil,
  source: c.actor.source,
});

/** The 'consent' leaf of a logged grant. */
export const grantLeaf = (c: GrantLogged, grant: ConsentRow): AuditEventBody =>
  consentLeaf({
    action: 'grant',
    pseudonym: c.pseudonym,
    oem: c.oem,
    purpose: c.purpose,
    validUntil: grant.validUntil,
    grant: grant.id,
    revoked: 0,
    blockedPending: 0,
    actor: c.actor,
  });

/** The 'consent' leaf of a logged revocation: how many grants it closed, how many queued rows it stopped. */
export const revokeLeaf = (c: RevokeLogged, revoked: number, blockedPending: number): AuditEventBody =>
  consentLeaf({
    action: 'revoke',
    pseudonym: c.pseudonym,
    oem: c.oem,
    purpose: c.purpose,
    validUntil: null,
    grant: null,
    revoked,
    blockedPending,
    actor: c.actor,
  });
