/**
 * The egress worker thread's entry (started by thread.ts): deliveries apart from the ingest event
 * loop. It opens its OWN connection to the store (SQLite: the same WAL database, keys from the
 * same key file; PostgreSQL: its own pool), reads due outbox rows, checks consent, breaker and
 * destination, POSTs, and commits each outcome with its egress-log entry. On SQLite that commit
 * runs on the main store's writer thread (a port to it arrives in `workerData`), in the same
 * transaction as the ingest commits of its turn; on PostgreSQL on the thread's own pool.
 * What it needs of the rest of the gateway comes by message: new rows are due, an OEM changed,
 * the policies' send-time rules. Its logs and delivery metrics go back to the main thread.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { Counter, Histogram, UpDownCounter } from '@opentelemetry/api';
import type { Config } from '../config/schema.js';
import { createStore, type Store, type WriterLink } from '../store/index.js';
import { createLogger } from '../log.js';
import { sendTimeVerdict } from '../policy/consent.js';
import { createTelemetry, disabledTelemetry, type Telemetry } from '../telemetry/index.js';
import { createEgress, type Egress } from './index.js';
import type { FromThread, MetricEvent, SendRules, ThreadInit, ToThread } from './thread.js';
import { nameThread } from '../thread-entry.js';

nameThread('shk-egress');

const port = parentPort!;
const post = (m: FromThread) => port.postMessage(m);
const init = workerData as ThreadInit;
const config: Readonly<Config> = init.config;
let rules: SendRules = init.rules;

const log = createLogger(config.log.level, {
  write: (line: string) => {
    post({ t: 'log', line });
    return true;
  },
} as unknown as NodeJS.WritableStream);

/** Delivery metrics are recorded by the main thread's instruments: one meter, one scrape. */
function forwardedMetrics(enabled: boolean): { metrics: Telemetry['metrics']; flush(): void } {
  let events: MetricEvent[] = [];
  const counter = (name: MetricEvent[0]) =>
    ({ add: (v: number, a?: Record<string, string>) => void events.push([name, v, a ?? {}]) }) as unknown as Counter;
  const histogram = (name: MetricEvent[0]) =>
    ({
      record: (v: number, a?: Record<string, string>) => void events.push([name, v, a ?? {}]),
    }) as unknown as Histogram;
  const base = disabledTelemetry().metrics;
  return {
    metrics: enabled
      ? {
          ...base,
          enabled,
          egressDeliveries: counter('egressDeliveries'),
          egressDeliveryDuration: histogram('egressDeliveryDuration'),
          egressRecordAge: histogram('egressRecordAge'),
          egressPostsInFlight: counter('egressPostsInFlight') as unknown as UpDownCounter,
          egressPostsWaiting: counter('egressPostsWaiting') as unknown as UpDownCounter,
        }
      : base,
    flush() {
      if (events.length === 0) return;
      post({ t: 'metrics', events });
      events = [];
    },
  };
}

async function start(): Promise<void> {
  let store: Store | undefined;
  let egress: Egress | undefined;
  let telemetry: Telemetry | undefined;
  const timers: NodeJS.Timeout[] = [];
  try {
    // Spans from this thread; metrics go to the main thread's meter (no second listener).
    const own = await createTelemetry(
      {
        ...config.telemetry,
        metrics: {
          ...config.telemetry.metrics,
          prometheus: { ...config.telemetry.metrics.prometheus, enabled: false },
          otlpUrl: undefined,
        },
      },
      { log },
    );
    const forwarded = forwardedMetrics(init.metricsEnabled);
    telemetry = { tracing: own.tracing, metrics: forwarded.metrics, close: () => own.close() };
    // SQLite: commit through the main store's writer thread (one writer per file per process).
    store = await createStore(
      config.store,
      config.dataDir,
      config.keys,
      init.writer ? { writer: writerLink(init.writer) } : {},
    );
    const s = store;
    egress = await createEgress(config.egress, {
      store: s,
      log,
      telemetry,
      oems: init.oems,
      // The same verdict as in the main thread: consent and objections read from the store,
      // each purpose's flags from the latest rules the main thread sent.
      isStillAllowed: async (row) =>
        sendTimeVerdict(
          { consent: s, policyOf: (o) => (rules[o] ? { purposes: rules[o] } : undefined) },
          { vin: await s.recordVin(row.recordId), oem: row.oem, purpose: row.purpose },
          Date.now(),
        ),
      sharedStore: config.store.kind === 'postgres',
    });
    const e = egress;
    let reported = -1;
    timers.push(
      setInterval(() => {
        forwarded.flush();
        if (e.inFlight !== reported) post({ t: 'inFlight', n: (reported = e.inFlight) });
      }, 100),
    );
    port.on('message', (m: ToThread) => {
      switch (m.t) {
        case 'wake':
          e.wake();
          break;
        case 'rules':
          rules = m.rules;
          break;
        case 'writer':
          break; // the store's writer link takes it (writerLink)
        case 'signing':
          void e.signing
            .refresh()
            .catch((err: unknown) => log.warn({ err }, 'egress thread: could not re-read signing keys'));
          break;
        case 'upsert':
          e.upsertOem(m.oem).then(
            () => post({ t: 'upserted', id: m.id }),
            (err: unknown) => post({ t: 'upserted', id: m.id, error: errorOf(err) }),
          );
          break;
        case 'close':
          void (async () => {
            for (const t of timers) clearInterval(t);
            await e.close().catch((err: unknown) => log.error({ err }, 'egress thread: close failed'));
            forwarded.flush();
            await telemetry?.close();
            await s.close().catch(() => undefined);
            post({ t: 'closed' });
            port.close();
          })();
          break;
      }
    });
    post({ t: 'ready' });
  } catch (err) {
    for (const t of timers) clearInterval(t);
    await egress?.close().catch(() => undefined);
    await telemetry?.close().catch(() => undefined);
    await store?.close().catch(() => undefined);
    post({ t: 'failed', error: errorOf(err) });
    port.close();
  }
}

/** The main store's writer thread; when it died and was replaced, the main thread sends a new port. */
function writerLink(first: MessagePort): WriterLink {
  const asked: { resolve: (p: MessagePort) => void; reject: (e: Error) => void }[] = [];
  port.on('message', (m: ToThread) => {
    if (m.t !== 'writer') return;
    const a = asked.shift();
    if (m.port) a?.resolve(m.port);
    else a?.reject(new Error('the store writer is closed'));
  });
  return {
    port: first,
    reconnect: () =>
      new Promise<MessagePort>((resolve, reject) => {
        asked.push({ resolve, reject });
        post({ t: 'writer' });
      }),
  };
}

function errorOf(err: unknown): { message: string; code?: string } {
  const e = err as Error & { code?: unknown };
  return { message: e?.message ?? String(err), ...(typeof e?.code === 'string' ? { code: e.code } : {}) };
}

void start();
