/**
 * MQTT packet ids on SQLite (shared rows: ./rows.ts), written in the same transaction as the
 * record they carried, so a message sent again is recognised even after a restart. Rows name
 * the VIN: erasure deletes them with the records.
 *  - Exactly-once QoS 2 (src/ingest/mqtt/qos2.ts): a car's QoS 2 packet id, deleted at PUBREL.
 *  - External-broker redelivery (src/ingest/external-redelivery.ts): the broker's packet id on
 *    one of Shekara's sessions, with a digest of topic and payload; overwritten when the broker
 *    reuses the id, so the table holds at most 65,535 rows per gateway session.
 */
import type Database from 'better-sqlite3';
import type { Migration } from '../sqlite/migrate.js';
import type { Sync } from '../sqlite/sync.js';
import type { IngestItem } from '../types.js';
import { packetIdRows, toBrokerDelivery, type DeliveryDbRow } from './rows.js';
import type { MqttQos2Store } from './types.js';

export const MQTT_QOS2_MIGRATIONS: Migration[] = [
  {
    id: '0051-mqtt-qos2',
    sql: `
  CREATE TABLE mqtt_qos2 (
    vin          TEXT NOT NULL,
    packet_id    INTEGER NOT NULL,
    record_id    TEXT NOT NULL,
    received_at  INTEGER NOT NULL,
    PRIMARY KEY (vin, packet_id)
  ) STRICT;`,
  },
  {
    id: '0090-mqtt-broker-deliveries',
    sql: `
  CREATE TABLE mqtt_broker_deliveries (
    session      TEXT NOT NULL,
    packet_id    INTEGER NOT NULL,
    digest       TEXT NOT NULL,
    record_id    TEXT NOT NULL,
    vin          TEXT NOT NULL,
    received_at  INTEGER NOT NULL,
    PRIMARY KEY (session, packet_id)
  ) STRICT;
  CREATE INDEX mqtt_broker_deliveries_vin ON mqtt_broker_deliveries (vin);`,
  },
];

export interface Qos2Writer {
  /** Inside commitIngest's transaction: the item's packet id, when it came as MQTT QoS 2 or through an external broker. */
  write(item: IngestItem<unknown>): void;
  eraseVehicle(vin: string): void;
}

export function sqliteMqttQos2(db: Database.Database): Sync<MqttQos2Store> & Qos2Writer {
  // A new message may reuse the id of one whose PUBREL was lost with a restart: the newer wins.
  const insert = db.prepare(
    `INSERT OR REPLACE INTO mqtt_qos2 (vin, packet_id, record_id, received_at) VALUES (?, ?, ?, ?)`,
  );
  const pending = db.prepare(`SELECT packet_id FROM mqtt_qos2 WHERE vin = ? ORDER BY packet_id`).pluck();
  const release = db.prepare(`DELETE FROM mqtt_qos2 WHERE vin = ? AND packet_id = ?`);
  const releaseAll = db.transaction((vin: string, ids: readonly number[]) => {
    for (const id of ids) release.run(vin, id);
  });
  const erase = db.prepare(`DELETE FROM mqtt_qos2 WHERE vin = ?`);
  // The broker reuses a packet id once the earlier message was acknowledged: the newer wins.
  const insertDelivery = db.prepare(
    `INSERT OR REPLACE INTO mqtt_broker_deliveries (session, packet_id, digest, record_id, vin, received_at)
     VALUES (?, ?, ?, ?, ?, ?)`,
  );
  const delivery = db.prepare(
    `SELECT record_id, digest FROM mqtt_broker_deliveries WHERE session = ? AND packet_id = ?`,
  );
  const eraseDeliveries = db.prepare(`DELETE FROM mqtt_broker_deliveries WHERE vin = ?`);
  return {
    write(it) {
      const { qos2, delivery: d } = packetIdRows(it);
      if (qos2) insert.run(...qos2);
      if (d) insertDelivery.run(...d);
    },
    brokerDelivery: (session, packetId) =>
      toBrokerDelivery(delivery.get(session, packetId) as DeliveryDbRow | undefined),
    pendingMqttQos2: (vin) => pending.all(vin) as number[],
    releaseMqttQos2: (vin, ids) => releaseAll(vin, ids),
    eraseVehicle: (vin) => {
      erase.run(vin);
      eraseDeliveries.run(vin);
    },
  };
}
