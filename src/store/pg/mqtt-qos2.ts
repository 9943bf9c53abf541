/**
 * Exactly-once MQTT QoS 2 (src/ingest/mqtt/qos2.ts): the packet id of a QoS 2 PUBLISH is
 * written in the same transaction as its record, and deleted at PUBREL, so a duplicate is
 * recognised even after a restart. Rows name the VIN: erasure deletes them with the records.
 */
import type { PgMigration } from './migrate.js';
import type { Db, Sql } from './db.js';
import type { IngestItem, Store } from '../types.js';

export const MQTT_QOS2_MIGRATIONS: PgMigration[] = [
  {
    id: '0051-mqtt-qos2',
    sql: `
  CREATE TABLE mqtt_qos2 (
    vin          TEXT NOT NULL,
    packet_id    INTEGER NOT NULL,
    record_id    TEXT NOT NULL,
    received_at  BIGINT NOT NULL,
    PRIMARY KEY (vin, packet_id)
  );`,
  },
];

export interface PgQos2Writer {
  /** Inside commitIngest's transaction: the packet ids of the batch's MQTT QoS 2 items, one statement. */
  write(t: Sql, items: readonly IngestItem[]): Promise<void>;
}

export function pgMqttQos2(db: Db): Pick<Store, 'pendingMqttQos2' | 'releaseMqttQos2'> & PgQos2Writer {
  return {
    async write(t, items) {
      const cols: unknown[][] = [[], [], [], []];
      for (const it of items) {
        if (it.mqttQos2 === undefined) continue;
        const [vin, id, at] =
          it.kind === 'record'
            ? [it.record.vin, it.record.id, it.record.receivedAt]
            : [it.item.vin, it.item.id, it.item.receivedAt];
        cols[0]!.push(vin);
        cols[1]!.push(it.mqttQos2);
        cols[2]!.push(id);
        cols[3]!.push(at);
      }
      if (cols[0]!.length === 0) return;
      // A new message may reuse the id of one whose PUBREL was lost with a restart: the newer wins.
      await t.query(
        `INSERT INTO mqtt_qos2 (vin, packet_id, record_id, received_at)
         SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::bigint[])
         ON CONFLICT (vin, packet_id) DO UPDATE SET record_id = excluded.record_id, received_at = excluded.received_at`,
        cols,
      );
    },
    async pendingMqttQos2(vin) {
      const rows = await db.query<{ packet_id: number }>(
        `SELECT packet_id FROM mqtt_qos2 WHERE vin = $1 ORDER BY packet_id`,
        [vin],
      );
      return rows.map((r) => r.packet_id);
    },
    async releaseMqttQos2(vin, ids) {
      if (ids.length === 0) return;
      await db.query(`DELETE FROM mqtt_qos2 WHERE vin = $1 AND packet_id = ANY($2::int[])`, [vin, [...ids]]);
    },
  };
}
