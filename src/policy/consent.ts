/**
 * Consent at send time. The egress worker calls this just before a projection crosses: an
 * owner who revoked consent after ingest MUST NOT see the queued data leave.
 */
import type { CompiledPurpose } from './compile.js';
import type { ConsentStore, ObjectionStore } from '../store/types.js';

/**
 * The consent registry as the policy sees it, with the owners' objections to automated
 * processing (without those, no objection stops anything: the registry of them is optional).
 */
export type ConsentLookup = Pick<ConsentStore, 'isConsentGranted'> &
  Partial<Pick<ObjectionStore, 'isProcessingObjected'>>;

/**
 * What the send-time checks need of an OEM's active policy: each purpose's consent and
 * automated-decisions flags (a compiled policy has them; the egress worker thread gets a copy).
 */
export interface SendTimeRules {
  readonly purposes: readonly Pick<CompiledPurpose, 'id' | 'consentRequired' | 'automatedDecisions'>[];
}

/**
 * True when the projection of `vin` for `oem`/`purpose` may still be sent at `atMs`.
 * A purpose the active policy no longer has is treated as requiring consent (fail safe):
 * the policy that allowed it without consent is no longer in force.
 */
export async function consentStillGiven(
  deps: { readonly consent: ConsentLookup | undefined; policyOf(oem: string): SendTimeRules | undefined },
  q: { readonly vin: string; readonly oem: string; readonly purpose: string },
  atMs: number,
): Promise<boolean> {
  const purpose = deps.policyOf(q.oem)?.purposes.find((p) => p.id === q.purpose);
  if (purpose && !purpose.consentRequired) return true;
  return (await deps.consent?.isConsentGranted(q.vin, q.oem, q.purpose, atMs)) ?? false;
}

/** Why a queued projection may no longer be sent (the blocked leaf's `error`). */
export const SEND_BLOCKED = {
  consent: 'consent revoked',
  objection: 'the owner objects to automated processing',
  erased: 'the record is no longer stored (erased)',
} as const;

/**
 * The send-time verdict for one queued projection: true, or the reason it is blocked. Consent
 * as above; then, for a purpose flagged `automatedDecisions` (or one the active policy no
 * longer has: fail safe), an objection open (or upheld) for the vehicle.
 */
export async function sendTimeVerdict(
  deps: { readonly consent: ConsentLookup | undefined; policyOf(oem: string): SendTimeRules | undefined },
  q: { readonly vin: string | undefined; readonly oem: string; readonly purpose: string },
  atMs: number,
): Promise<true | string> {
  if (q.vin === undefined) return SEND_BLOCKED.erased;
  const vq = { vin: q.vin, oem: q.oem, purpose: q.purpose };
  if (!(await consentStillGiven(deps, vq, atMs))) return SEND_BLOCKED.consent;
  const purpose = deps.policyOf(q.oem)?.purposes.find((p) => p.id === q.purpose);
  if (
    (purpose?.automatedDecisions ?? true) &&
    ((await deps.consent?.isProcessingObjected?.(q.vin, q.oem, q.purpose, atMs)) ?? false)
  )
    return SEND_BLOCKED.objection;
  return true;
}
