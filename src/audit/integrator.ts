/**
 * The egress log's integrator loop (docs/audit.md "Sequencing"). Outcomes are durable when they
 * are settled; on a shared store (PostgreSQL) they wait, staged, until an integrator gives them
 * their seq and leaf index and extends the tree, in batches. Every instance runs this loop;
 * each round is taken by whichever instance holds the log's advisory lock, the others skip it,
 * so the log has one integrator at a time and a crashed one is replaced by the next round of
 * any other (its transaction rolled back: nothing it had taken is lost).
 *
 * Bound: an entry settled at t is in the tree (provable) by t + intervalMs + the time to
 * integrate the entries staged before it (INTEGRATION_BATCH per round, rounds back to back
 * while a round comes back full), and signed in a checkpoint within checkpointIntervalMs after.
 * A reader never waits for the bound: every read of the log catches up first.
 */
import type { Logger } from '../log.js';
import type { Store } from '../store/index.js';
import type { Histogram } from '@opentelemetry/api';

export interface Integrator {
  /** Stops the loop after the round under way. */
  close(): Promise<void>;
}

export function startIntegrator(
  cfg: { readonly intervalMs: number },
  deps: {
    readonly store: Pick<Store, 'integrateEgressLog'>;
    readonly log: Logger;
    readonly now: () => number;
    /** Seconds from settle to integration, per round (its oldest entry). */
    readonly delay?: Histogram;
  },
): Integrator {
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let round: Promise<void> = Promise.resolve();
  const run = async () => {
    try {
      for (;;) {
        const r = await deps.store.integrateEgressLog();
        if (r.oldestStagedAt !== null) deps.delay?.record(Math.max(0, deps.now() - r.oldestStagedAt) / 1000);
        // A full round means more is waiting: the next one at once.
        if (closed || r.integrated === 0 || !r.leader) break;
      }
    } catch (err) {
      deps.log.error({ err }, 'audit: integrating settled outcomes into the egress log failed; retrying');
    }
  };
  const tick = () => {
    round = run().finally(() => {
      if (!closed) {
        timer = setTimeout(tick, cfg.intervalMs);
        timer.unref();
      }
    });
  };
  tick();
  return {
    async close() {
      closed = true;
      clearTimeout(timer);
      await round;
    },
  };
}
