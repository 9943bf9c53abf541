import type { Projection } from '../record.js';
import { VIN_PATH } from '../policy/selectors.js';

/**
 * The JSON an OEM receives: only what the policy approved, under the projection's delivery id
 * (never the record id: it is a UUIDv7 carrying the receipt time, and shared by every purpose).
 * `vehicle` (the pseudonym) is in the body only when the purpose names the VIN: otherwise
 * nothing in a delivery identifies the vehicle. Shared by every store backend.
 */
export function projectionBody(p: Projection): string {
  return JSON.stringify({
    deliveryId: p.deliveryId,
    purpose: p.purpose,
    policyHash: p.policyHash,
    ...(VIN_PATH in p.signals ? { vehicle: p.vehicle } : {}),
    observedAt: new Date(p.observedAt).toISOString(),
    signals: p.signals,
  });
}
