/**
 * The store's interface for the regulator's workbench: inventory counts (the localization
 * statement), incidents (each change with its 'incident' leaf) and the non-egress leaves read
 * back (the access log, incident history), shared by both stores (src/store/workbench/{sqlite,pg}.ts).
 * Re-exported from ../types.ts; the composed `Store` extends these. Asynchronous like every store
 * method.
 */
import type { AuditEventBody } from '../../audit/events.js';
import type { EventLeafKind } from '../../audit/leaf.js';

/** How many rows of each category of local data the store holds now. */
export interface InventoryCounts {
  readonly vehicles: number;
  readonly records: number;
  readonly routePoints: number;
  readonly accountData: number;
  readonly quarantine: number;
  readonly consents: number;
  readonly ownerBindings: number;
  readonly objections: number;
  readonly outboxQueued: number;
  readonly egressLog: number;
  readonly auditLeaves: number;
}

export interface InventoryStore {
  inventoryCounts(): Promise<InventoryCounts>;
}

export type IncidentStatus = 'open' | 'notified' | 'closed';

/** One incident: its state as a JSON document (src/incidents owns the shape), kept in the country. */
export interface IncidentRow {
  readonly id: string;
  readonly openedAt: number;
  readonly updatedAt: number;
  readonly status: IncidentStatus;
  /** JSON text of the incident's details; may name vehicles, so it never enters a leaf. */
  readonly doc: string;
}

/** Incidents (./sqlite.ts, ./pg.ts): every change writes the row and its leaf in ONE transaction. */
export interface IncidentStore {
  /**
   * Inserts the incident (or replaces its row, same id) and appends an 'incident' leaf with
   * `leaf` as its body, in one transaction; resolves to the leaf index. `leaf` MUST NOT hold
   * personal data (docs/audit.md).
   */
  saveIncident(row: IncidentRow, leaf: AuditEventBody): Promise<number>;
  getIncident(id: string): Promise<IncidentRow | undefined>;
  /** Newest first. */
  listIncidents(): Promise<IncidentRow[]>;
}

/** One non-egress leaf as stored: its index, kind, time and the leaf object (canonical JSON parsed). */
export interface AuditEventRow {
  readonly index: number;
  readonly kind: EventLeafKind;
  readonly at: number;
  readonly body: Readonly<Record<string, unknown>>;
}

export interface AuditEventQueryStore {
  /** Leaves of `kind` with index > afterIndex and `at` in [from, to), oldest first, at most `limit`. */
  listAuditEvents(f: {
    kind: EventLeafKind;
    afterIndex?: number;
    from?: number;
    to?: number;
    limit: number;
  }): Promise<AuditEventRow[]>;
}
