/**
 * What the workbench routes (reports, incidents, access log) need, on the regulator and admin
 * surfaces alike. Their typed errors are answered by the one HTTP error handler (src/api/http.ts).
 */
import type { Config } from '../../config/schema.js';
import type { Store, RemovedCounts } from '../../store/index.js';
import type { AuditLog } from '../../audit/index.js';

export interface WorkbenchDeps {
  readonly store: Store;
  readonly config: Readonly<Config>;
  readonly audit: AuditLog;
  readonly now: () => number;
  /** The gateway's last retention sweep (for the inventory), if one ran. */
  readonly lastSweep?: () => { readonly at: number; readonly removed: RemovedCounts } | null;
}
