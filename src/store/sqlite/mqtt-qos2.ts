/**
 * Exactly-once MQTT QoS 2 (src/ingest/mqtt/qos2.ts): the packet id of a QoS 2 PUBLISH is
 * written in the same transaction as its record, and deleted at PUBREL, so a duplicate is
 * recognised even after a restart. Rows name the VIN: erasure deletes them with the records.
 */
import type Database from 'better-sqlite3';
import type { Migration } from './migrate.js';
import type { IngestItem, Store } from '../types.js';
import type { Sync } from './sync.js';

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
];

export interface Qos2Writer {
  /** Inside commitIngest's transaction: the item's packet id, when it came as MQTT QoS 2. */
  write(item: IngestItem): void;
  eraseVehicle(vin: string): void;
}

export function sqliteMqttQos2(
  db: Database.Database,
): Sync<Pick<Store, 'pendingMqttQos2' | 'releaseMqttQos2'>> & Qos2Writer {
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
  return {
    write(it) {
      if (it.mqttQos2 === undefined) return;
      if (it.kind === 'record') insert.run(it.record.vin, it.mqttQos2, it.record.id, it.record.receivedAt);
      else insert.run(it.item.vin, it.mqttQos2, it.item.id, it.item.receivedAt);
    },
    pendingMqttQos2: (vin) => pending.all(vin) as number[],
    releaseMqttQos2: (vin, ids) => releaseAll(vin, ids),
    eraseVehicle: (vin) => void erase.run(vin),
  };
}
