/**
 * The delivery id: the one id an OEM receives for a projection (body `deliveryId`,
 * `Idempotency-Key`, `Shekara-Delivery-Id`). It MUST tell the OEM nothing:
 *
 * - no time: the record id is a UUIDv7 whose first 48 bits are the receipt time to the
 *   millisecond, which would undo a purpose's `timeBucket`; the delivery id is an HMAC output,
 *   indistinguishable from random, so two records 1 ms apart get unrelated ids;
 * - no link between purposes or OEMs: the key is derived per OEM × purpose from the
 *   pseudonymization master key (which never leaves the country), so the deliveries of one
 *   record to two purposes cannot be joined by their ids.
 *
 * Keyed, not random: the same (OEM, purpose, record) always gets the same id, so a projection
 * made again (a redelivery, a replay, a second gateway instance) keeps its idempotency key, and
 * anyone holding the master key can check an id against a record without a table. The id is
 * still stored with the outbox row and the egress-log entry (`delivery_id`), which is how a
 * regulator or an operator maps it back to the record, in the country.
 *
 * 128 bits of HMAC-SHA256, base64url (22 characters), prefixed `d_` so it is never mistaken
 * for a pseudonym.
 */
import { createHmac, randomBytes } from 'node:crypto';

/** Record id → delivery id, for one OEM and purpose. */
export type DeliveryIdOf = (recordId: string) => string;

/** (OEM, purpose) → that pair's delivery-id function. */
export type DeliveryIds = (oem: string, purpose: string) => DeliveryIdOf;

export const DELIVERY_ID_RE = /^d_[A-Za-z0-9_-]{22}$/;

export function deliveryIdKey(masterKey: Buffer, oem: string, purpose: string): Buffer {
  // Length-prefixed fields: ("a\nb", "c") and ("a", "b\nc") cannot derive the same key.
  return createHmac('sha256', masterKey)
    .update(`shekara/delivery-id/v1\n${oem.length}:${oem}\n${purpose.length}:${purpose}`)
    .digest();
}

export function createDeliveryIds(masterKey: Buffer): DeliveryIds {
  const byPair = new Map<string, DeliveryIdOf>();
  return (oem, purpose) => {
    const pair = `${oem.length}:${oem}/${purpose}`;
    let f = byPair.get(pair);
    if (!f) {
      const key = deliveryIdKey(masterKey, oem, purpose);
      f = (recordId) => `d_${createHmac('sha256', key).update(recordId).digest('base64url').slice(0, 22)}`;
      byPair.set(pair, f);
    }
    return f;
  };
}

/** For tools without the gateway's key (dry runs): ids under a key that exists only in this process. */
export const ephemeralDeliveryIds = (): DeliveryIds => createDeliveryIds(randomBytes(32));
