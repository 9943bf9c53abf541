/**
 * Threshold and deadline alerts for the operator's monitoring (issue: "configurable thresholds
 * with alerts when a counter crosses one"; the one-business-day incident clock): two gauges the
 * operator's Prometheus or OTLP collector reads, so an alert rule pages someone without anyone
 * opening the console (docs/operations.md "Alerts"):
 *   - shekara.ledger.threshold.fraction {scope, counter}: the calendar year's cross-border
 *     ledger counter over its threshold (1 = reached), per OEM and overall, for every threshold
 *     that is on; the ledger scans the year's log, so it is computed at most every `ttlMs`;
 *   - shekara.incident.notice.due {incident}: seconds left until an incident's notice is due
 *     (negative once overdue), for each incident whose notice was not exported yet.
 * Values only: no VIN, no person, no free text of an incident.
 */
import type { Config } from '../config/schema.js';
import type { Store } from '../store/index.js';
import { createIncidents } from '../incidents/index.js';
import { ledgerReport } from './ledger.js';
import type { ReportDeps } from './types.js';

export interface GaugeValue {
  readonly value: number;
  readonly attributes: Readonly<Record<string, string>>;
}

export function createAlertGauges(deps: {
  store: Store;
  config: ReportDeps['config'] & Pick<Readonly<Config>, 'incidents'>;
  now: () => number;
  ttlMs?: number;
}) {
  const ttl = deps.ttlMs ?? 300_000;
  let cached: { at: number; values: GaugeValue[] } | undefined;
  const incidents = createIncidents(deps.config, { store: deps.store, now: deps.now });

  async function thresholds(): Promise<GaugeValue[]> {
    const now = deps.now();
    if (cached && now - cached.at < ttl) return cached.values;
    const on = Object.entries(deps.config.reports.thresholds).filter(([, t]) => t > 0);
    if (on.length === 0) return [];
    // Every leaf counts: the figures are live, not a report to be checked against a checkpoint.
    const checkpoint = { size: Number.MAX_SAFE_INTEGER, root: Buffer.alloc(32), signedAt: now, note: '' };
    const ledger = await ledgerReport.run({ store: deps.store, config: deps.config, checkpoint, now }, {});
    const values = ledger.totals.flatMap((t) =>
      on.map(([counter, threshold]) => ({
        value: t[counter as keyof typeof deps.config.reports.thresholds] / threshold,
        attributes: { scope: t.scope, counter },
      })),
    );
    cached = { at: now, values };
    return values;
  }

  async function noticeDue(): Promise<GaugeValue[]> {
    const now = deps.now();
    return (await incidents.list())
      .filter((i) => i.noticeExportedAt === null && i.status !== 'closed')
      .map((i) => ({ value: Math.round((i.dueAt - now) / 1000), attributes: { incident: i.id } }));
  }

  return { thresholds, noticeDue };
}
