/**
 * The records area's contract, shared by both stores (src/store/records/{sqlite,pg}.ts): what
 * ingest commits (records with their route points and account data, or quarantined payloads)
 * and how it is read back. The ingest transaction itself is the composed store's
 * (`Store.commitIngest`): it writes these with the outbox rows and MQTT packet ids.
 */
import type { CanonicalRecord, IngestChannel, Projection } from '../../record.js';

export interface QuarantineItem {
  readonly id: string;
  readonly vin: string;
  readonly channel: IngestChannel;
  readonly receivedAt: number;
  readonly reason: string;
  readonly raw: Buffer;
}

/**
 * Which delivery of an external broker carried a message: the broker's packet id on one of
 * Shekara's sessions (its client id), and a digest of topic and payload. The broker resends an
 * unacknowledged message on the resumed session with the same packet id (MQTT 5.0 §4.4).
 */
export interface BrokerDelivery {
  readonly session: string;
  readonly packetId: number;
  readonly digest: string;
}

/**
 * One unit of ingest: a decoded record with its approved projections, or a quarantined payload.
 * `P`: how a projection is carried (to the SQLite writer thread: src/store/outbox/shapes.ts `ShapedProjection`).
 */
export type IngestItem<P = Projection> =
  | {
      readonly kind: 'record';
      readonly record: CanonicalRecord;
      readonly raw: Buffer;
      readonly projections: readonly P[];
      /**
       * W3C traceparent of the commit that writes this record (tracing on; src/telemetry), kept
       * with each of its outbox rows so the delivery continues the record's trace. Never read
       * for any decision: it is telemetry metadata, not data.
       */
      readonly traceParent?: string | null;
      /** The packet id of the MQTT QoS 2 PUBLISH that carried it: kept until PUBREL (exactly-once). */
      readonly mqttQos2?: number;
      /** The external broker's delivery that carried it (external-broker mode). */
      readonly brokerDelivery?: BrokerDelivery;
    }
  | {
      readonly kind: 'quarantine';
      readonly item: QuarantineItem;
      readonly mqttQos2?: number;
      readonly brokerDelivery?: BrokerDelivery;
    };

export interface StoredRecord {
  readonly record: CanonicalRecord;
  readonly raw: Buffer;
}

export interface RecordStore {
  getRecord(id: string): Promise<StoredRecord | undefined>;
  /** Just the VIN of a stored record (cheap: for send-time checks on the hot path). */
  recordVin(id: string): Promise<string | undefined>;
  listQuarantine(limit?: number): Promise<QuarantineItem[]>;
}
