/**
 * What every report shares: the store queries it may use, its inputs, and the envelope it is
 * returned in — the checkpoint it was computed against, so a reader can check that the figures
 * come from a log that the gateway signed (docs/regulator.md "Reports").
 */
import type { Config } from '../config/schema.js';
import type { RemovedCounts, Store, StoredCheckpoint } from '../store/index.js';

/** The store queries reports read (never write). */
export type ReportStore = Pick<
  Store,
  | 'searchEgress'
  | 'recordVin'
  | 'getRecord'
  | 'ownersOfVehicle'
  | 'listOems'
  | 'listPolicyActivations'
  | 'inventoryCounts'
  | 'listApiKeys'
  | 'listAuditEvents'
  | 'listIncidents'
>;

export interface ReportDeps {
  readonly store: ReportStore;
  readonly config: Pick<Readonly<Config>, 'store' | 'dataDir' | 'retention' | 'reports' | 'oems' | 'audit' | 'catalog'>;
  /** The checkpoint the report is computed against: only leaves below its size are counted. */
  readonly checkpoint: StoredCheckpoint;
  readonly now: number;
  /** The gateway's last retention sweep, when the report runs inside a gateway. */
  readonly lastSweep?: { readonly at: number; readonly removed: RemovedCounts } | null;
}

export type ReportParams = Readonly<Record<string, string | undefined>>;

/** A table of a report as printed: column headings and rows of cells. */
export interface ReportTable {
  readonly heading: string;
  readonly note?: string;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly (string | number | null)[])[];
}

export interface CheckpointRef {
  readonly origin: string;
  readonly size: number;
  readonly rootHash: string;
  readonly signedAt: string;
  /** The C2SP signed note: save it as a file for `shekara verify`. */
  readonly note: string;
}

export interface ReportEnvelope<D = unknown> {
  readonly report: string;
  readonly title: string;
  readonly generatedAt: string;
  readonly checkpoint: CheckpointRef;
  readonly params: ReportParams;
  readonly data: D;
}

export interface ReportDef<D = unknown> {
  readonly name: string;
  readonly title: string;
  /** The parameters it takes (name → what it means), for --help, the API and validation. */
  readonly params: Readonly<Record<string, string>>;
  run(deps: ReportDeps, params: ReportParams): Promise<D>;
  /** The data as printed tables (the HTML document). */
  tables(data: D): ReportTable[];
}
