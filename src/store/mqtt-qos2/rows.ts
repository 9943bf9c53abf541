/**
 * What both stores share about MQTT packet ids: the rows one ingested item adds, in the
 * column order of the tables, and the mapping of a broker-delivery row. DDL and statements stay
 * per dialect (sqlite.ts, pg.ts): SQLite writes row by row inside the ingest transaction,
 * PostgreSQL the whole batch in one unnest statement.
 */
import type { IngestItem } from '../types.js';

/** A `mqtt_qos2` row: vin, packet_id, record_id, received_at. */
export type Qos2Values = readonly [vin: string, packetId: number, recordId: string, receivedAt: number];
/** A `mqtt_broker_deliveries` row: session, packet_id, digest, record_id, vin, received_at. */
export type DeliveryValues = readonly [
  session: string,
  packetId: number,
  digest: string,
  recordId: string,
  vin: string,
  receivedAt: number,
];

/** The packet-id rows of one item: none, either or both (a broker may deliver with QoS 2). */
export function packetIdRows(it: IngestItem<unknown>): { qos2?: Qos2Values; delivery?: DeliveryValues } {
  const [vin, id, at] =
    it.kind === 'record'
      ? [it.record.vin, it.record.id, it.record.receivedAt]
      : [it.item.vin, it.item.id, it.item.receivedAt];
  const d = it.brokerDelivery;
  return {
    qos2: it.mqttQos2 === undefined ? undefined : [vin, it.mqttQos2, id, at],
    delivery: d && [d.session, d.packetId, d.digest, id, vin, at],
  };
}

export interface DeliveryDbRow {
  record_id: string;
  digest: string;
}

export const toBrokerDelivery = (r: DeliveryDbRow | undefined): { recordId: string; digest: string } | undefined =>
  r && { recordId: r.record_id, digest: r.digest };
