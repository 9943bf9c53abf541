/**
 * The local durable queue: the outbox table in the store IS the queue (embedded default).
 * Workers take due vehicles — each vehicle's head of queue and up to `perVehicle` - 1 rows
 * behind it, as one chain, so order per vehicle holds across retries and a backlogged vehicle
 * drains a batch at a time — and settle each outcome in the store. A slot (`concurrency`) is
 * one vehicle's chain in flight; a vehicle never has two.
 *
 * On a store only this process uses (SQLite) leases are held in memory: a lease written to the
 * store would cost an fsync per delivery. A crash mid-delivery forgets the lease, so the row is
 * due again at restart (at-least-once, same record id). On a store several instances share
 * (`sharedOutbox`: PostgreSQL) memory leases would let two instances send the same row at once,
 * so rows are leased in the store instead (FOR UPDATE SKIP LOCKED, the lease in the row); a
 * crashed instance's rows are due again when their lease ends.
 */
import type { OutboxRow, Store } from '../store/index.js';
import type { Logger } from '../log.js';
import { chainOf, type DeliveryWorker } from './chain.js';
import type { Settler } from './settler.js';
import { outboxLeaseMs, type EgressQueue } from './queue.js';
import { ATTR, contextOf, disabledTelemetry, logFields, type Telemetry } from '../telemetry/index.js';
import { failSpan, logOutcome, startConsumeSpan } from './spans.js';

export interface LocalQueueConfig {
  readonly concurrency: number;
  readonly pollIntervalMs: number;
  readonly requestTimeoutMs: number;
  readonly leaseMs: number;
}

export function startLocalQueue(
  cfg: LocalQueueConfig,
  deps: {
    store: Pick<Store, 'dueOutboxHeads' | 'leaseDueOutbox' | 'nextDueAt'>;
    worker: DeliveryWorker;
    settler: Settler;
    log: Logger;
    now: () => number;
    telemetry?: Telemetry;
    /** Other instances share this outbox: lease rows in the store, not in memory. */
    sharedOutbox?: boolean;
    /**
     * Rows per vehicle taken at once (the largest `batch.maxRecords` of the OEMs; default 1: the
     * head only). Asked at each read, so an OEM added with batching takes effect.
     */
    perVehicle?: () => number;
  },
): EgressQueue {
  const { log, now } = deps;
  const leaseMs = outboxLeaseMs(cfg);
  const refillAt = Math.max(1, Math.floor(cfg.concurrency / 4));
  const { tracing } = deps.telemetry ?? disabledTelemetry();
  const leased = new Set<number>();
  /** The vehicles (OEM, pseudonym) with a chain in flight. */
  const busy = new Set<string>();
  const vehicleOf = (r: OutboxRow) => `${r.oem}\n${r.pseudonym}`;
  const run = chainOf(deps.worker);
  /** Rows in flight (what `inFlight` reports); a slot is a chain. */
  let inFlight = 0;
  let slots = 0;
  let closing = false;
  let timer: NodeJS.Timeout | undefined;
  let wakePending = false;
  // One read of the outbox at a time: two overlapping reads would hand out the same rows.
  let pumping = false;
  let pumpAgain = false;
  const idle: (() => void)[] = [];

  const schedule = (delayMs: number) => {
    if (closing) return;
    clearTimeout(timer);
    timer = setTimeout(pump, Math.max(0, delayMs));
    timer.unref();
  };

  function pump(): void {
    wakePending = false;
    if (closing) return;
    if (pumping) {
      pumpAgain = true;
      return;
    }
    pumping = true;
    void pumpOnce().finally(() => {
      pumping = false;
      if (pumpAgain) {
        pumpAgain = false;
        pump();
      }
    });
  }

  async function pumpOnce(): Promise<void> {
    const free = cfg.concurrency - slots;
    if (free <= 0) return; // a finishing delivery pumps again
    // A read of the due heads costs about as much for 1 row as for 64 (it walks the due index
    // past the rows of vehicles whose head is in flight), and under load deliveries finish a few
    // at a time: reading each time made the read 35% of the egress thread. While most slots are
    // busy, wait until a quarter of them are free (a finishing delivery pumps again).
    if (!deps.sharedOutbox && slots > 0 && free < refillAt) return;
    const t = now();
    const perVehicle = Math.max(1, deps.perVehicle?.() ?? 1);
    // The vehicles in flight when the outbox is read: a chain that finishes while the read is
    // under way leaves the busy set, but the read may still show its rows as due.
    const skip = new Set(busy);
    let rows: OutboxRow[];
    try {
      rows = deps.sharedOutbox
        ? // Leased in the store: exactly as many vehicles as can run, none of them in flight anywhere.
          await deps.store.leaseDueOutbox(t, free, leaseMs, perVehicle)
        : // Vehicles in flight still have their heads due: ask for enough to skip them.
          await deps.store.dueOutboxHeads(t, free + skip.size, perVehicle);
    } catch (err) {
      log.error({ err }, 'egress: could not read due outbox rows; retrying');
      return schedule(cfg.pollIntervalMs);
    }
    // Closing: rows leased in the store just now are due again when their lease ends.
    if (closing) return;
    const chains = new Map<string, OutboxRow[]>();
    for (const r of rows) {
      const v = vehicleOf(r);
      // The store's lease already excludes rows in flight anywhere; in memory, a vehicle in
      // flight is skipped whole (its chain's rows, and any row written behind them since).
      if (!deps.sharedOutbox && (skip.has(v) || busy.has(v) || leased.has(r.id))) continue;
      let c = chains.get(v);
      if (!c) chains.set(v, (c = []));
      c.push(r);
    }
    const open = cfg.concurrency - slots;
    let started = 0;
    for (const chain of chains.values()) {
      if (started === open) break;
      started += 1;
      void runChain(chain);
    }
    if (started < open) {
      // Every due row is taken; a finishing delivery or new records wake the queue before then.
      let due: number | undefined;
      try {
        due = await deps.store.nextDueAt();
      } catch (err) {
        log.error({ err }, 'egress: could not read when the next outbox row is due; polling');
      }
      schedule(due === undefined || due <= t ? cfg.pollIntervalMs : Math.min(cfg.pollIntervalMs, due - t));
    }
  }

  async function runChain(rows: OutboxRow[]): Promise<void> {
    const vehicle = vehicleOf(rows[0]!);
    slots += 1;
    inFlight += rows.length;
    busy.add(vehicle);
    for (const r of rows) leased.add(r.id);
    // The trace continues from the commit that wrote the row (its traceparent is in the row).
    const spans = rows.map((row) =>
      startConsumeSpan(tracing, row, tracing.parentFrom(row.traceParent), { [ATTR.queue]: 'local' }),
    );
    try {
      const outcomes = await run(
        rows,
        spans.map((s) => contextOf(s)),
      );
      // The rows stay leased, so their vehicle's next rows are not due, until settle resolved:
      // the outcomes and their egress-log entries MUST be durable (on SQLite, the writer's turn
      // committed). One group commit for the chain (the settler batches what arrives together).
      // A row held back behind one not delivered was not attempted: in memory it is simply let
      // go (due again behind it); a lease in the store is given back, nothing logged or counted.
      await Promise.all(
        rows.map((row, i) => {
          const o = outcomes[i];
          if (o) return deps.settler.settle(o);
          return deps.sharedOutbox
            ? deps.settler.settle({ kind: 'deferred', outboxId: row.id, until: now() })
            : undefined;
        }),
      );
      rows.forEach((row, i) => {
        const o = outcomes[i];
        if (o) logOutcome(log, row, o, spans[i]!);
        spans[i]!.end();
      });
    } catch (err) {
      // A store failure here leaves the rows leased; they are retried when the lease ends.
      log.error(
        { err, recordId: rows[0]!.recordId, rows: rows.length, ...logFields(spans[0]!) },
        'egress: could not record the delivery outcome',
      );
      for (const span of spans) failSpan(span, err);
    } finally {
      slots -= 1;
      inFlight -= rows.length;
      busy.delete(vehicle);
      for (const r of rows) leased.delete(r.id);
      if (slots === 0) idle.splice(0).forEach((f) => f());
      // Coalesced: deliveries finishing in the same turn share one read of the outbox.
      queue.wake();
    }
  }

  const queue: EgressQueue = {
    kind: 'local',
    wake() {
      if (wakePending || closing) return;
      wakePending = true;
      setImmediate(pump);
    },
    get inFlight() {
      return inFlight;
    },
    // The outbox table holds every OEM's rows already.
    addOem: async () => undefined,
    async close() {
      closing = true;
      clearTimeout(timer);
      if (slots === 0) return;
      await Promise.race([
        new Promise<void>((resolve) => idle.push(resolve)),
        new Promise<void>((resolve) => setTimeout(resolve, cfg.requestTimeoutMs).unref()),
      ]);
    },
  };
  pump();
  return queue;
}
