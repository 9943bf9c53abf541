/**
 * The outbox backlog as ingest sees it: `saturated` is true while at least `maxBacklog` rows wait
 * to be handed on, and ingest then pushes back (PUBACK withheld, HTTP 503 + Retry-After) rather
 * than accept without bound. Counted in the process that ingests, whichever process or thread
 * delivers: the count is the store's, so it holds with egress in a worker thread or elsewhere.
 */
import type { Store } from '../store/index.js';
import type { Logger } from '../log.js';
import { uuidv7Time } from '../ids.js';

export interface BacklogGate {
  /** Synchronous and cheap (asked per submitted record): the latest count, refreshed in the background. */
  readonly saturated: boolean;
}

/** How often, at most, the pending rows are counted. */
const COUNT_EVERY_MS = 100;

export async function createBacklogGate(
  store: Pick<Store, 'outboxBacklog'>,
  maxBacklog: number,
  deps: { log: Logger; now: () => number },
): Promise<BacklogGate> {
  const { log, now } = deps;
  // Counted once before the first record can arrive, so a backlog left by the last run counts.
  let saturated = (await store.outboxBacklog()) >= maxBacklog;
  let countedAt = now();
  let counting = false;
  return {
    get saturated() {
      // Never a store round trip per record: a COUNT over the pending rows' index at most every
      // 100 ms, in the background; the answer is the latest count.
      const t = now();
      if (t - countedAt >= COUNT_EVERY_MS && !counting) {
        countedAt = t;
        counting = true;
        store
          .outboxBacklog()
          .then(
            (n) => {
              saturated = n >= maxBacklog;
            },
            (err: unknown) => log.warn({ err }, 'egress: could not count the outbox backlog; keeping the last answer'),
          )
          .finally(() => {
            counting = false;
          });
      }
      return saturated;
    },
  };
}

export interface OemBacklog {
  readonly oem: string;
  /** Outbox rows not yet settled. */
  readonly depth: number;
  /** How long ago the oldest of them arrived (its record), in seconds; 0 when there is none. */
  readonly oldestAgeSeconds: number;
}

export interface BacklogWatch {
  /** The latest reading, per OEM (an OEM seen once stays, at 0, when its backlog is gone). */
  latest(): readonly OemBacklog[];
  close(): void;
}

/**
 * Reads the backlog per OEM every `checkEveryMs` (for the metrics `shekara.egress.outbox.depth`
 * and `.oldest_age`), and logs ONE warning per reading, naming every OEM whose oldest row is
 * older than `warnAgeSeconds` — in aggregate, never a line per row.
 */
export function watchBacklog(
  store: Pick<Store, 'outboxBacklogByOem'>,
  cfg: { readonly warnAgeSeconds: number; readonly checkEveryMs: number },
  deps: { log: Logger; now: () => number },
): BacklogWatch {
  const { log, now } = deps;
  let latest: OemBacklog[] = [];
  let reading = false;
  const read = async () => {
    if (reading) return;
    reading = true;
    try {
      const t = now();
      const rows = await store.outboxBacklogByOem();
      const seen = new Map(latest.map((o) => [o.oem, { oem: o.oem, depth: 0, oldestAgeSeconds: 0 }]));
      for (const r of rows) {
        const born = uuidv7Time(r.oldestRecordId);
        seen.set(r.oem, {
          oem: r.oem,
          depth: r.depth,
          oldestAgeSeconds: Number.isFinite(born) ? Math.max(0, (t - born) / 1000) : 0,
        });
      }
      latest = [...seen.values()].sort((a, b) => a.oem.localeCompare(b.oem));
      const late = latest.filter((o) => o.depth > 0 && o.oldestAgeSeconds > cfg.warnAgeSeconds);
      if (late.length > 0)
        log.warn(
          {
            warnAgeSeconds: cfg.warnAgeSeconds,
            oems: late.map((o) => ({ oem: o.oem, depth: o.depth, oldestAgeSeconds: Math.round(o.oldestAgeSeconds) })),
          },
          'egress: outbox rows older than the warning age are waiting',
        );
    } catch (err) {
      log.warn({ err }, 'egress: could not read the outbox backlog per OEM');
    } finally {
      reading = false;
    }
  };
  void read();
  const timer = setInterval(() => void read(), cfg.checkEveryMs);
  timer.unref();
  return {
    latest: () => latest,
    close: () => clearInterval(timer),
  };
}
