/**
 * The one path every payload takes, whatever channel it came by: decode → policy → durable
 * commit of the record, its projections (outbox) or its quarantine row. MQTT and HTTPS ingest
 * differ only in how they authenticate and how they answer the car.
 */
import { uuidv7 } from '../ids.js';
import type { CanonicalRecord, IngestChannel, Projection } from '../record.js';
import type { Committer } from './committer.js';
import { decodeTelemetry, DecodeError } from './decoder.js';
import type { Logger } from '../log.js';

export interface Vehicle { readonly vin: string; readonly oem: string }

export type AcceptResult =
  | { readonly recordId: string; readonly quarantined: false; readonly projections: number }
  | { readonly recordId: string; readonly quarantined: true; readonly reason: string };

export interface IngestCounters {
  accepted: number;
  quarantined: number;
  rejected: Record<string, number>;
}

export interface Intake {
  /**
   * Resolves once the payload is durably stored (as a record or in quarantine).
   * With `quarantineReason`, the payload goes straight to quarantine (it cannot be attributed).
   */
  accept(vehicle: Vehicle, channel: IngestChannel, payload: Buffer, quarantineReason?: string): Promise<AcceptResult>;
  reject(reason: string): void;
  readonly counters: Readonly<IngestCounters>;
}

export function createIntake(deps: {
  committer: Committer;
  project: (record: CanonicalRecord) => Promise<Projection[]>;
  log: Logger;
  now?: () => number;
}): Intake {
  const now = deps.now ?? Date.now;
  const counters: IngestCounters = { accepted: 0, quarantined: 0, rejected: {} };

  return {
    counters,
    reject(reason) {
      counters.rejected[reason] = (counters.rejected[reason] ?? 0) + 1;
    },
    async accept(vehicle, channel, payload, quarantineReason) {
      const receivedAt = now();
      const id = uuidv7(receivedAt);
      const quarantine = async (reason: string): Promise<AcceptResult> => {
        await deps.committer.submit({ kind: 'quarantine', item: { id, vin: vehicle.vin, channel, receivedAt, reason, raw: payload } });
        counters.quarantined += 1;
        deps.log.warn({ vin: vehicle.vin, recordId: id, channel, reason }, 'payload quarantined');
        return { recordId: id, quarantined: true, reason };
      };
      if (quarantineReason !== undefined) return quarantine(quarantineReason);
      let decoded;
      try {
        decoded = decodeTelemetry(payload, vehicle.vin);
      } catch (err) {
        if (!(err instanceof DecodeError)) throw err;
        return quarantine(err.message);
      }
      const record: CanonicalRecord = {
        id, vin: vehicle.vin, oem: vehicle.oem, channel, receivedAt,
        observedAt: decoded.observedAt ?? receivedAt,
        signals: decoded.signals, account: decoded.account, unknownKeys: decoded.unknownKeys,
      };
      let projections: Projection[] = [];
      try {
        projections = await deps.project(record);
      } catch (err) {
        // Safe failure: the record is kept, nothing of it leaves.
        deps.log.error({ err, recordId: id }, 'policy evaluation failed; record stored without egress');
      }
      await deps.committer.submit({ kind: 'record', record, raw: payload, projections });
      counters.accepted += 1;
      return { recordId: id, quarantined: false, projections: projections.length };
    },
  };
}
