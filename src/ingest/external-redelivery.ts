/**
 * External-broker mode: a message the broker delivers again is stored once.
 *
 * When a Shekara instance dies (or drops its connection) after committing a message and before
 * its PUBACK reached the broker, the broker still holds that message as in flight on the
 * instance's persistent session. When the session resumes (same client id, clean start off),
 * the broker MUST resend it with the same packet id and DUP = 1 (MQTT 5.0 §4.4, §3.3.1.1); the
 * shared subscription does not move it to another member while the session lives (§4.8.2:
 * "MAY wait for the Client to reconnect"; Mosquitto does). Storing it again would make a second
 * record with its own id, which the OEM cannot tell from a new reading.
 *
 * The identity kept with each record, in the same commit (store `brokerDelivery`):
 *  - the session (the connection's client id) and the broker's packet id: the only identity of
 *    a delivery the broker itself keeps. The car's own client id and packet id never cross the
 *    broker (MQTT 5 forwards neither), and cars need not put a message id in the payload;
 *  - a digest of topic and payload, because a packet id names a message only while it is
 *    unacknowledged: once a PUBACK arrived the broker reuses it. A resend with DUP = 1 whose
 *    digest differs from the stored one is a new message on a reused id, and is stored.
 * Why not a content hash within a time window: two real readings with the same bytes (a car
 * that repeats an unchanged state) would be merged, and a reading acknowledged to the car would
 * be lost; a duplicate record is bad, a lost one is worse.
 * Limits, documented in docs/external-broker.md: a broker that moves an in-flight message to
 * another member of the group (a session that expired; some brokers on a disconnect) sends it
 * on another session with another packet id, and it is stored twice — never lost.
 */
import { createHash } from 'node:crypto';
import type { BrokerDelivery, Store } from '../store/index.js';

/** The identity of one delivery on a connection; undefined for QoS 0 (no packet id, never resent). */
export function brokerDeliveryOf(
  session: string,
  packet: { topic: string; payload: Buffer; qos: number; messageId?: number | undefined },
): BrokerDelivery | undefined {
  if (packet.qos === 0 || packet.messageId === undefined) return undefined;
  // MQTT forbids U+0000 in a topic name, so the separator cannot be forged by a topic.
  const digest = createHash('sha256').update(packet.topic).update('\0').update(packet.payload).digest('base64url');
  return { session, packetId: packet.messageId, digest };
}

/**
 * True when this delivery is a resend of a message already committed: DUP set, and the last
 * message stored under this session and packet id has the same digest. A first delivery
 * (DUP = 0) is always new, even on a packet id seen before.
 */
export async function alreadyStored(
  store: Pick<Store, 'brokerDelivery'>,
  delivery: BrokerDelivery | undefined,
  dup: boolean,
): Promise<boolean> {
  if (!delivery || !dup) return false;
  const prior = await store.brokerDelivery(delivery.session, delivery.packetId);
  return prior !== undefined && prior.digest === delivery.digest;
}
