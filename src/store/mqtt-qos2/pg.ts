/**
 * MQTT packet ids on PostgreSQL (shared rows: ./rows.ts), written in the same transaction as the
 * record they carried (the SQLite twin, ./sqlite.ts, says why): a car's QoS 2 packet id until
 * PUBREL, and an external broker's packet id on one of Shekara's sessions with a digest of the
 * message. Rows name the VIN: erasure deletes them with the records.
 */
import type { PgMigration } from '../pg/migrate.js';
import type { Db, Sql } from '../pg/db.js';
import type { IngestItem } from '../types.js';
import { packetIdRows, toBrokerDelivery, type DeliveryDbRow } from './rows.js';
import type { MqttQos2Store } from './types.js';

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
  {
    id: '0090-mqtt-broker-deliveries',
    sql: `
  CREATE TABLE mqtt_broker_deliveries (
    session      TEXT NOT NULL,
    packet_id    INTEGER NOT NULL,
    digest       TEXT NOT NULL,
    record_id    TEXT NOT NULL,
    vin          TEXT NOT NULL,
    received_at  BIGINT NOT NULL,
    PRIMARY KEY (session, packet_id)
  );
  CREATE INDEX mqtt_broker_deliveries_vin ON mqtt_broker_deliveries (vin);`,
  },
];

export interface PgQos2Writer {
  /** Inside commitIngest's transaction: the packet ids of the batch's MQTT QoS 2 and broker-delivered items. */
  write(t: Sql, items: readonly IngestItem[]): Promise<void>;
}

export function pgMqttQos2(db: Db): MqttQos2Store & PgQos2Writer {
  return {
    async write(t, items) {
      const cols: unknown[][] = [[], [], [], []];
      const deliveries: unknown[][] = [[], [], [], [], [], []];
      // Column-wise: one array a column for unnest.
      for (const it of items) {
        const { qos2, delivery } = packetIdRows(it);
        delivery?.forEach((v, i) => deliveries[i]!.push(v));
        qos2?.forEach((v, i) => cols[i]!.push(v));
      }
      // The broker reuses a packet id once the earlier message was acknowledged: the newer wins.
      // (A batch never holds one packet id of one session twice: the broker waits for its PUBACK.)
      if (deliveries[0]!.length > 0)
        await t.query(
          `INSERT INTO mqtt_broker_deliveries (session, packet_id, digest, record_id, vin, received_at)
           SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[], $6::bigint[])
           ON CONFLICT (session, packet_id) DO UPDATE SET digest = excluded.digest,
             record_id = excluded.record_id, vin = excluded.vin, received_at = excluded.received_at`,
          deliveries,
        );
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
    async brokerDelivery(session, packetId) {
      const [row] = await db.query<DeliveryDbRow>(
        `SELECT record_id, digest FROM mqtt_broker_deliveries WHERE session = $1 AND packet_id = $2`,
        [session, packetId],
      );
      return toBrokerDelivery(row);
    },
    async releaseMqttQos2(vin, ids) {
      if (ids.length === 0) return;
      await db.query(`DELETE FROM mqtt_qos2 WHERE vin = $1 AND packet_id = ANY($2::int[])`, [vin, [...ids]]);
    },
  };
}
