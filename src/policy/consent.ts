/**
 * Consent at send time. The egress worker calls this just before a projection crosses: an
 * owner who revoked consent after ingest MUST NOT see the queued data leave.
 */
import type { CompiledPolicy } from './compile.js';
import type { ConsentStore } from '../store/types.js';

/** The consent registry as the policy sees it. */
export type ConsentLookup = Pick<ConsentStore, 'isConsentGranted'>;

/**
 * True when the projection of `vin` for `oem`/`purpose` may still be sent at `atMs`.
 * A purpose the active policy no longer has is treated as requiring consent (fail safe):
 * the policy that allowed it without consent is no longer in force.
 */
export async function consentStillGiven(
  deps: { readonly consent: ConsentLookup | undefined; policyOf(oem: string): CompiledPolicy | undefined },
  q: { readonly vin: string; readonly oem: string; readonly purpose: string },
  atMs: number,
): Promise<boolean> {
  const purpose = deps.policyOf(q.oem)?.purposes.find((p) => p.id === q.purpose);
  if (purpose && !purpose.consentRequired) return true;
  return (await deps.consent?.isConsentGranted(q.vin, q.oem, q.purpose, atMs)) ?? false;
}
