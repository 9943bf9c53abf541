import type { Projection } from '../record.js';

/** The JSON an OEM receives: only what the policy approved, keyed by the record id. Shared by every store backend. */
export function projectionBody(p: Projection): string {
  return JSON.stringify({
    recordId: p.recordId,
    purpose: p.purpose,
    policyHash: p.policyHash,
    vehicle: p.vehicle,
    observedAt: new Date(p.observedAt).toISOString(),
    signals: p.signals,
  });
}
