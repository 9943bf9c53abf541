/**
 * The outbox backlog as ingest sees it: `saturated` is true while at least `maxBacklog` rows wait
 * to be handed on, or while some OEM's oldest row not yet delivered is older than
 * `maxBacklogAgeSeconds`; ingest then pushes back (PUBACK withheld, HTTP 503 + Retry-After)
 * rather than accept without bound. Read in the process that ingests, whichever process or
 * thread delivers: the rows are the store's, so it holds with egress in a worker thread or elsewhere.
 */
import type { Store } from '../store/index.js';
import type { Logger } from '../log.js';
import { uuidv7Time } from '../ids.js';

export interface BacklogGate {
  /** Synchronous and cheap (asked per submitted record): the latest readings, refreshed in the background. */
  readonly saturated: boolean;
}

/** How often, at most, the pending rows are counted. */
const COUNT_EVERY_MS = 100;

export interface BacklogBounds {
  readonly maxBacklog: number;
  /** 0: no age bound. */
  readonly maxBacklogAgeSeconds: number;
  /** How often, at most, the oldest row per OEM is read (the backlog watch's cadence). */
  readonly backlog: { readonly checkEveryMs: number };
}

export async function createBacklogGate(
  store: Pick<Store, 'outboxBacklog' | 'outboxBacklogByOem'>,
  bounds: BacklogBounds,
  deps: { log: Logger; now: () => number },
): Promise<BacklogGate> {
  const { log, now } = deps;
  const { maxBacklog, maxBacklogAgeSeconds } = bounds;
  // The OEMs whose oldest undelivered row is past the age bound, as of the latest reading.
  let late: readonly OemBacklog[] = [];
  const readAges = async (): Promise<void> => {
    const t = now();
    const over = oemBacklogs(await store.outboxBacklogByOem(), t).filter(
      (o) => o.oldestAgeSeconds > maxBacklogAgeSeconds,
    );
    // Logged when the age bound starts and stops pushing back, never per record: it is expected
    // and bounded, and each car's refusals are counted as `backpressure` already.
    if (over.length > 0 && late.length === 0)
      log.warn(
        {
          maxBacklogAgeSeconds,
          oems: over.map((o) => ({ oem: o.oem, depth: o.depth, oldestAgeSeconds: Math.round(o.oldestAgeSeconds) })),
        },
        'egress: ingest pushed back: undelivered rows older than egress.maxBacklogAgeSeconds',
      );
    else if (over.length === 0 && late.length > 0)
      log.info({ maxBacklogAgeSeconds }, 'egress: ingest no longer pushed back by the age of undelivered rows');
    late = over;
  };
  // Read once before the first record can arrive, so a backlog left by the last run counts.
  let full = (await store.outboxBacklog()) >= maxBacklog;
  if (maxBacklogAgeSeconds > 0) await readAges();
  let countedAt = now();
  let agedAt = countedAt;
  let counting = false;
  let ageing = false;
  return {
    get saturated() {
      // Never a store round trip per record: a COUNT over the pending rows' index at most every
      // 100 ms, the oldest row per OEM at most every backlog.checkEveryMs (a GROUP BY: dearer,
      // and an age moves slowly), both in the background; the answer is the latest reading.
      const t = now();
      if (t - countedAt >= COUNT_EVERY_MS && !counting) {
        countedAt = t;
        counting = true;
        store
          .outboxBacklog()
          .then(
            (n) => {
              full = n >= maxBacklog;
            },
            (err: unknown) => log.warn({ err }, 'egress: could not count the outbox backlog; keeping the last answer'),
          )
          .finally(() => {
            counting = false;
          });
      }
      if (maxBacklogAgeSeconds > 0 && t - agedAt >= bounds.backlog.checkEveryMs && !ageing) {
        agedAt = t;
        ageing = true;
        readAges()
          .catch((err: unknown) =>
            log.warn({ err }, 'egress: could not read the oldest undelivered rows; keeping the last answer'),
          )
          .finally(() => {
            ageing = false;
          });
      }
      return full || late.length > 0;
    },
  };
}

/** Store rows → depth and age (seconds, from the oldest record's UUIDv7 time) per OEM, as of `t`. */
function oemBacklogs(rows: Awaited<ReturnType<Store['outboxBacklogByOem']>>, t: number): OemBacklog[] {
  return rows.map((r) => {
    const born = uuidv7Time(r.oldestRecordId);
    return { oem: r.oem, depth: r.depth, oldestAgeSeconds: Number.isFinite(born) ? Math.max(0, (t - born) / 1000) : 0 };
  });
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
      for (const o of oemBacklogs(rows, t)) seen.set(o.oem, o);
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
