/**
 * The egress module's one door. On the embedded default the outbox table in the local store is
 * the durable queue; `createEgress` runs workers that lease due rows, POST each approved
 * projection to its OEM's configured endpoint (the only destination it has: deny by default),
 * and record every outcome — delivered, failed attempt, dead-lettered — together with its
 * egress-log row in one transaction. Nothing is dropped silently.
 */
import type { EgressConfig } from '../config/schema.js';
import type { EgressLogEntry, OutboxRow, Store } from '../store/index.js';
import { backoffDelay, isRetriableStatus } from './retry.js';
import { deliver, type DeliveryResult } from './deliver.js';
import type { Logger } from '../log.js';

export { backoffDelay, isRetriableStatus };

export interface EgressDeps {
  readonly store: Pick<Store, 'leaseDueOutbox' | 'recordDelivery' | 'recordFailedAttempt' | 'recordDeadLetter' | 'nextDueAt'>;
  /** OEM id → its endpoint URL. */
  readonly destinations: ReadonlyMap<string, string>;
  readonly log: Logger;
  readonly now?: () => number;
}

export interface Egress {
  /** New rows are due: look now rather than at the next poll. */
  wake(): void;
  readonly inFlight: number;
  /** Stops leasing new rows and waits (bounded) for deliveries in flight. */
  close(): Promise<void>;
}

export async function createEgress(cfg: EgressConfig, deps: EgressDeps): Promise<Egress> {
  const log = deps.log.child({ module: 'egress' });
  const now = deps.now ?? Date.now;
  const endpoints = new Map([...deps.destinations].map(([oem, url]) => [oem, new URL(url)]));
  const leaseMs = cfg.requestTimeoutMs * 2 + 1_000;
  let inFlight = 0;
  let closing = false;
  let timer: NodeJS.Timeout | undefined;
  let wakePending = false;
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
    const free = cfg.concurrency - inFlight;
    if (free <= 0) return; // a finishing delivery pumps again
    const t = now();
    const rows = deps.store.leaseDueOutbox(t, free, leaseMs);
    for (const row of rows) void run(row);
    if (rows.length < free) {
      const due = deps.store.nextDueAt();
      schedule(due === undefined ? cfg.pollIntervalMs : Math.min(cfg.pollIntervalMs, due - t));
    }
  }

  async function run(row: OutboxRow): Promise<void> {
    inFlight += 1;
    try {
      const endpoint = endpoints.get(row.oem);
      const result: DeliveryResult = endpoint
        ? await deliver(endpoint, row, cfg.requestTimeoutMs, isRetriableStatus)
        : { ok: false, status: null, error: `no destination is configured for OEM "${row.oem}"`, retriable: false };
      settle(row, endpoint?.host ?? '(none)', result);
    } catch (err) {
      // A store failure here leaves the row leased; it is retried when the lease ends.
      log.error({ err, recordId: row.recordId }, 'egress: could not record the delivery outcome');
    } finally {
      inFlight -= 1;
      if (inFlight === 0) idle.splice(0).forEach((f) => f());
      if (!closing) pump();
    }
  }

  function settle(row: OutboxRow, destination: string, result: DeliveryResult): void {
    const attempt = row.attempts + 1;
    const entry = (outcome: EgressLogEntry['outcome'], status: number | null, error: string | null): EgressLogEntry => ({
      at: now(), oem: row.oem, destination, destinationIp: null, destinationCountry: null, recordId: row.recordId, pseudonym: row.pseudonym, purpose: row.purpose,
      policyHash: row.policyHash, fieldsSent: row.fieldsSent, fieldsDropped: row.fieldsDropped,
      outcome, attempt, httpStatus: status, error,
    });
    if (result.ok) {
      deps.store.recordDelivery(row.id, entry('delivered', result.status, null));
      return;
    }
    if (!result.retriable || attempt >= cfg.maxAttempts) {
      deps.store.recordDeadLetter(row.id, entry('dead-lettered', result.status, result.error));
      log.error({ recordId: row.recordId, oem: row.oem, attempt, error: result.error }, 'egress: dead-lettered');
      return;
    }
    const delay = backoffDelay(attempt, cfg);
    deps.store.recordFailedAttempt(row.id, entry('failed', result.status, result.error), now() + delay);
    log.warn({ recordId: row.recordId, oem: row.oem, attempt, retryInMs: delay, error: result.error }, 'egress: delivery failed, will retry');
  }

  pump();

  return {
    wake() {
      if (wakePending || closing) return;
      wakePending = true;
      setImmediate(pump);
    },
    get inFlight() { return inFlight; },
    async close() {
      closing = true;
      clearTimeout(timer);
      if (inFlight === 0) return;
      await Promise.race([
        new Promise<void>((resolve) => idle.push(resolve)),
        new Promise<void>((resolve) => setTimeout(resolve, cfg.requestTimeoutMs).unref()),
      ]);
    },
  };
}
