/**
 * The MQTT packet ids area's contract, shared by both stores (src/store/mqtt-qos2/{sqlite,pg}.ts):
 * packet ids kept with the records they carried, written by `Store.commitIngest` in the ingest
 * transaction and read back here.
 */

export interface MqttQos2Store {
  /**
   * MQTT QoS 2 packet ids of a VIN written by commitIngest (`mqttQos2`) and not yet released:
   * a PUBLISH with one of them is a duplicate [MQTT-4.3.3-2].
   */
  pendingMqttQos2(vin: string): Promise<number[]>;
  /** Forgets these packet ids of the VIN (PUBREL, or a clean session). */
  releaseMqttQos2(vin: string, packetIds: readonly number[]): Promise<void>;
  /**
   * The record (or quarantine row) last committed for this broker packet id on this gateway
   * session (`brokerDelivery` of commitIngest), with its digest; undefined when none.
   */
  brokerDelivery(session: string, packetId: number): Promise<{ recordId: string; digest: string } | undefined>;
}
