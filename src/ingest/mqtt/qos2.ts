/**
 * Exactly-once QoS 2 (MQTT 3.1.1 §4.3.3, MQTT 5 §4.3.3, method B: "store the packet identifier,
 * deliver, and only forget it on PUBREL"). The receiver MUST acknowledge any PUBLISH with a
 * packet id it has PUBRECed and not yet seen PUBREL for with a PUBREC, and MUST NOT deliver it
 * again [MQTT-4.3.3-2]. The id is written in the same store transaction as the record, so a
 * duplicate is recognised whether it comes on the same connection, after a reconnect with a
 * persistent session, or after the gateway restarted (then only a PUBLISH with DUP set is
 * matched against the stored ids: the restarted gateway answered Session Present 0, so a car
 * that followed the spec dropped its state and a new message may reuse an old id).
 */

export interface Qos2Store {
  /** The VIN's packet ids the store holds between PUBLISH and PUBREL (read when no session is in memory). */
  pending(vin: string): Promise<number[]>;
  /** PUBREL (one id; the PUBCOMP is sent after this resolves), or a clean session forgetting what an earlier one left [MQTT-3.1.2-6]. */
  release(vin: string, packetIds: readonly number[]): Promise<void>;
}
