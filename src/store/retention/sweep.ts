/**
 * The retention sweep: every `retention.sweepIntervalMinutes`, and once shortly after
 * start (a gateway that restarts often must still delete), it asks the store to delete what is
 * older than its period and logs how much went. Sweeps never overlap; a failed one is logged and
 * the next interval tries again. With PostgreSQL every instance sweeps: the deletes are
 * idempotent and partition DDL takes an advisory lock, so they do not trip over each other.
 */
import type { RetentionConfig } from '../../config/schema.js';
import type { Logger } from '../../log.js';
import type { RetentionStore, RemovedCounts } from './types.js';

export interface RetentionSweep {
  /** Runs a sweep now (or waits for the one running) and returns what it removed. */
  sweepNow(): Promise<RemovedCounts>;
  /** When the last sweep of this process finished and what it removed; null before the first (the inventory report shows it). */
  lastSweep(): { readonly at: number; readonly removed: RemovedCounts } | null;
  /** Stops the schedule; waits for a sweep in progress. */
  close(): Promise<void>;
}

export function startRetentionSweep(
  cfg: RetentionConfig,
  deps: { store: RetentionStore; log: Logger; now?: () => number; firstSweepDelayMs?: number },
): RetentionSweep {
  const log = deps.log.child({ module: 'retention' });
  const now = deps.now ?? Date.now;
  const periods = {
    rawRecordsDays: cfg.rawRecordsDays,
    routePointsDays: cfg.routePointsDays,
    accountDataDays: cfg.accountDataDays,
  };
  let running: Promise<RemovedCounts> | undefined;
  let closed = false;
  let last: { at: number; removed: RemovedCounts } | null = null;

  const sweepNow = (): Promise<RemovedCounts> => {
    running ??= (async () => {
      try {
        const removed = await deps.store.applyRetention(now(), periods);
        const total = removed.records + removed.routePoints + removed.accountData + removed.quarantine;
        if (total > 0) log.info({ removed, periods }, 'retention: deleted personal data older than its period');
        else log.debug({ periods }, 'retention: nothing older than its period');
        last = { at: now(), removed };
        return removed;
      } finally {
        running = undefined;
      }
    })();
    return running;
  };
  const scheduled = () => {
    if (closed) return;
    sweepNow().catch((err: unknown) =>
      log.error({ err }, 'retention: the sweep failed; it runs again at the next interval'),
    );
  };

  const first = setTimeout(scheduled, deps.firstSweepDelayMs ?? 10_000);
  const timer = setInterval(scheduled, cfg.sweepIntervalMinutes * 60_000);
  first.unref();
  timer.unref();

  return {
    sweepNow,
    lastSweep: () => last,
    async close() {
      closed = true;
      clearTimeout(first);
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
