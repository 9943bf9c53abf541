/**
 * The config sections of the egress log's Merkle tree, the regulator's reports and incidents (the door: ./schema.ts, which composes `ConfigSchema`).
 */
import { Type } from '@sinclair/typebox';
import { strict } from './common.js';

/** The egress log's Merkle tree and signed checkpoints (src/audit, docs/audit.md). */
export const AuditSchema = Type.Object(
  {
    /** The log's name: first line of every checkpoint and the name of its Ed25519 key. No spaces or '+'. */
    origin: Type.String({ pattern: '^[^\\s+]+$', default: 'shekara.local/egress-log' }),
    /** While the log grows, a checkpoint is signed every this many milliseconds. */
    checkpointIntervalMs: Type.Integer({ minimum: 100, maximum: 3_600_000, default: 5_000 }),
    /**
     * PostgreSQL: settled outcomes are integrated into the log (seq, leaf, tree) in batches every
     * this many milliseconds, by one instance at a time (docs/audit.md "Sequencing"). SQLite
     * integrates each outcome in its own transaction and ignores it.
     */
    integrateIntervalMs: Type.Integer({ minimum: 10, maximum: 60_000, default: 100 }),
  },
  { ...strict, default: {} },
);

/**
 * The regulator's reports (src/reports, docs/regulator.md "Reports"). The cross-border ledger
 * raises an alert when a counter over its period reaches a threshold, per OEM and in total; 0
 * turns a threshold off. The defaults are China's yearly figures for automobile data (Several
 * Provisions on Automobile Data Security Management, 2021): 100,000 persons, 10,000 persons
 * whose sensitive data (location, owner and driver data) crossed.
 */
export const ReportsSchema = Type.Object(
  {
    thresholds: Type.Object(
      {
        persons: Type.Integer({ minimum: 0, default: 100_000 }),
        sensitivePersons: Type.Integer({ minimum: 0, default: 10_000 }),
        vehicles: Type.Integer({ minimum: 0, default: 0 }),
        records: Type.Integer({ minimum: 0, default: 0 }),
        bytes: Type.Integer({ minimum: 0, default: 0 }),
      },
      { ...strict, default: {} },
    ),
  },
  { ...strict, default: {} },
);

/** Kazakhstan's public holidays on fixed dates (Law on holidays, art. 1), as MM-DD; moved days off are added per year. */
export const KZ_FIXED_HOLIDAYS = [
  '01-01',
  '01-02',
  '03-08',
  '03-21',
  '03-22',
  '03-23',
  '05-01',
  '05-07',
  '05-09',
  '07-06',
  '08-30',
  '10-25',
  '12-16',
];

/**
 * Personal-data incidents (src/incidents, docs/regulator.md "Incidents"): the notice to the
 * authorized body is due within `noticeBusinessDays` business days of discovery (Law 44-VIII of
 * 11 Dec 2023; one business day), counted on the working calendar of `timeZone`: Saturdays,
 * Sundays and `holidays` (MM-DD every year, or YYYY-MM-DD once) are not business days.
 */
export const IncidentsSchema = Type.Object(
  {
    timeZone: Type.String({ minLength: 1, default: 'Asia/Almaty' }),
    holidays: Type.Array(Type.String({ pattern: '^(\\d{4}-)?\\d{2}-\\d{2}$' }), { default: KZ_FIXED_HOLIDAYS }),
    noticeBusinessDays: Type.Integer({ minimum: 1, maximum: 30, default: 1 }),
    /** The responsible person's contact, printed on every notice (Order 481/НҚ of 9 Aug 2024). */
    contact: Type.String({ maxLength: 500, default: '' }),
  },
  { ...strict, default: {} },
);
