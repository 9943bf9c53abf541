/**
 * What both stores share about records: a new record's values, where its route point comes
 * from, the rows of `records` (with its account data) and `quarantine`, and their mappings. The DDL and the
 * statements stay per dialect (sqlite.ts, pg.ts): SQLite inserts row by row in the caller's
 * transaction, PostgreSQL a batch with one statement per table.
 */
import type { CanonicalRecord, ClockSkew, IngestChannel } from '../../record.js';
import type { QuarantineItem, StoredRecord } from './types.js';
import { jsonColumn } from '../json-column.js';

const LAT = 'Vehicle.CurrentLocation.Latitude';
const LON = 'Vehicle.CurrentLocation.Longitude';
const SPEED = 'Vehicle.Speed';

/** The record's route point (a position, with its speed when sent), or undefined when it has no position. */
export function routePoint(r: CanonicalRecord): { lat: number; lon: number; speed: number | null } | undefined {
  const lat = r.signals[LAT];
  const lon = r.signals[LON];
  if (typeof lat !== 'number' || typeof lon !== 'number') return undefined;
  const speed = r.signals[SPEED];
  return { lat, lon, speed: typeof speed === 'number' ? speed : null };
}

/**
 * A new record's values, in the order both inserts name their columns: id, vin, oem, channel,
 * received_at, observed_at, clock_skew, signals, unknown_keys, raw.
 */
export const recordValues = (r: CanonicalRecord, raw: Buffer): unknown[] => [
  r.id,
  r.vin,
  r.oem,
  r.channel,
  r.receivedAt,
  r.observedAt,
  r.clockSkew ?? null,
  JSON.stringify(r.signals),
  JSON.stringify(r.unknownKeys),
  raw,
];

/**
 * A record's row joined with its account data, as both drivers return it: the JSON columns arrive
 * as their text from SQLite, already parsed from PostgreSQL's JSONB.
 */
export interface RecordDbRow {
  id: string;
  vin: string;
  oem: string;
  channel: string;
  received_at: number;
  observed_at: number;
  clock_skew: ClockSkew | null;
  signals: string | CanonicalRecord['signals'];
  unknown_keys: string | string[];
  raw: Buffer;
  account: string | CanonicalRecord['account'] | null;
}

export function toStoredRecord(r: RecordDbRow): StoredRecord {
  const record: CanonicalRecord = {
    id: r.id,
    vin: r.vin,
    oem: r.oem,
    channel: r.channel as IngestChannel,
    receivedAt: r.received_at,
    observedAt: r.observed_at,
    ...(r.clock_skew && { clockSkew: r.clock_skew }),
    signals: jsonColumn(r.signals),
    account: r.account ? jsonColumn(r.account) : {},
    unknownKeys: jsonColumn(r.unknown_keys),
  };
  return { record, raw: r.raw };
}

/** The `quarantine` table's row. */
export interface QuarantineDbRow {
  id: string;
  vin: string;
  channel: string;
  received_at: number;
  reason: string;
  raw: Buffer;
}

export const toQuarantineItem = (r: QuarantineDbRow): QuarantineItem => ({
  id: r.id,
  vin: r.vin,
  channel: r.channel as IngestChannel,
  receivedAt: r.received_at,
  reason: r.reason,
  raw: r.raw,
});
