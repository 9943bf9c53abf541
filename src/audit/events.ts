/**
 * The bodies of the owner-rights leaves: 'consent', 'objection' and 'erasure' (docs/audit.md).
 * Spelled out here, apart from the store rows, for the reason egressLeaf is (leaf.ts): a leaf is
 * a contract with regulators' verifiers. A body NEVER holds a VIN or personal data — the
 * vehicle's pseudonym for its OEM, ids, counts, times and SHA-256 digests of free text only.
 */
import { createHash } from 'node:crypto';

/**
 * A leaf body for the store's `appendAuditEvent`: pseudonyms, ids, types, outcomes, digests —
 * never a VIN. The store imports it from here: the leaf is audit's contract, not a store row.
 */
export type AuditEventBody = Readonly<Record<string, string | number | boolean | null | readonly string[]>>;

/** Who changed something on the owner's behalf, as the leaf names them (ids, never names). */
export interface RightsActor {
  /** `owner-app`, `operator`, `cli`… */
  readonly source: string;
  /** The API key's id (never the key), when the change came through an API. */
  readonly apiKey: string | null;
  /** The owner binding's id (src/api/owner/binding.ts), when an owner acted. */
  readonly owner: string | null;
}

const actorKeys = (a: RightsActor) => ({ source: a.source, apiKey: a.apiKey, owner: a.owner });

/** SHA-256 (hex) of a text the leaf must not hold (an owner's reason, the operator's answer). */
export const textDigest = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

export function consentLeaf(c: {
  action: 'grant' | 'revoke';
  pseudonym: string;
  oem: string;
  purpose: string;
  validUntil: number | null;
  grant: number | null;
  revoked: number;
  blockedPending: number;
  actor: RightsActor;
}): AuditEventBody {
  return {
    action: c.action,
    pseudonym: c.pseudonym,
    oem: c.oem,
    purpose: c.purpose,
    validUntil: c.validUntil,
    grant: c.grant,
    revoked: c.revoked,
    blockedPending: c.blockedPending,
    ...actorKeys(c.actor),
  };
}

export function objectionLeaf(o: {
  action: 'opened' | 'resolved';
  objection: string;
  pseudonym: string;
  oem: string;
  purpose: string;
  status: string;
  dueAt: number;
  automated: boolean | null;
  blockedPending: number;
  text: string;
  actor: RightsActor;
}): AuditEventBody {
  return {
    action: o.action,
    objection: o.objection,
    pseudonym: o.pseudonym,
    oem: o.oem,
    purpose: o.purpose,
    status: o.status,
    dueAt: o.dueAt,
    automated: o.automated,
    blockedPending: o.blockedPending,
    // The owner's reason when opened, the operator's answer when resolved: digest only.
    textSha256: textDigest(o.text),
    ...actorKeys(o.actor),
  };
}

export function erasureLeaf(e: {
  pseudonym: string;
  oem: string;
  counts: { records: number; routePoints: number; accountData: number; quarantine: number };
  actor: RightsActor;
}): AuditEventBody {
  return {
    pseudonym: e.pseudonym,
    oem: e.oem,
    records: e.counts.records,
    routePoints: e.counts.routePoints,
    accountData: e.counts.accountData,
    quarantine: e.counts.quarantine,
    ...actorKeys(e.actor),
  };
}
