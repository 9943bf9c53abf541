/**
 * Egress apart from the ingest event loop. Under full ingest load the main thread's event loop
 * is busy with MQTT, policy and group commits; deliveries that share it get what is left, which
 * at line rate is nothing. So the gateway that ingests runs its deliveries elsewhere:
 *
 *  - `startEgressThread`: in a worker thread of this process (thread-main.ts), with its own
 *    event loop and its own store connection: the OS schedules it beside the ingest thread, so
 *    egress gets its share of the CPU whatever ingest does. On SQLite its outcomes are committed
 *    by the main store's writer thread (a port to it is passed at start), in the same
 *    transactions as ingest's records;
 *  - `egressElsewhere`: not in this process at all (`shekara start --role ingest`), another
 *    process (`--role egress`) delivers from the same store.
 *
 * Either way this process keeps what must stay next to ingest and the APIs: the backlog gate
 * (backpressure), the signing keyring (the rotation API), and a settler for the pull feed's
 * outcomes. The guarantees are the queue's (queue.ts), unchanged: an outcome is durable with its
 * egress-log entry before the row is let go, and every send carries the id stored in the row.
 */
import { Worker, type MessagePort } from 'node:worker_threads';
import type { Config } from '../config/schema.js';
import { writerPortOf, type Store } from '../store/index.js';
import type { Logger } from '../log.js';
import type { SendTimeRules } from '../policy/consent.js';
import type { Telemetry } from '../telemetry/index.js';
import type { Egress, EgressDeps } from './index.js';
import type { OemDestination } from './worker.js';
import { createBacklogGate } from './backlog.js';
import { createSettler } from './settler.js';
import { createSigningKeyring } from './sign.js';
import { releaseHeldBy } from '../store/sqlite/write-lock.js';
import { threadEntry } from '../thread-entry.js';

/** Each OEM's purposes as the send-time checks need them (consent and automated-decisions flags). */
export type SendRules = Record<string, SendTimeRules['purposes']>;

export interface ThreadInit {
  readonly config: Readonly<Config>;
  readonly oems: readonly OemDestination[];
  readonly rules: SendRules;
  readonly metricsEnabled: boolean;
  /** SQLite file store: a port to the main store's writer thread; the thread's store commits there. */
  readonly writer?: MessagePort;
}

/** The thread's counters (`add`: a count, or a change of an up-down counter) and histograms (`record`). */
export type AddedMetric = 'egressDeliveries' | 'egressPostsInFlight' | 'egressPostsWaiting';
export type MetricEvent = [AddedMetric | 'egressDeliveryDuration' | 'egressRecordAge', number, Record<string, string>];

export type ToThread =
  | { t: 'wake' }
  | { t: 'rules'; rules: SendRules }
  | { t: 'signing' }
  | { t: 'upsert'; id: number; oem: OemDestination }
  | { t: 'writer'; port?: MessagePort }
  | { t: 'close' };

export type FromThread =
  | { t: 'ready' }
  | { t: 'failed'; error: ThreadError }
  | { t: 'log'; line: string }
  | { t: 'inFlight'; n: number }
  | { t: 'metrics'; events: MetricEvent[] }
  | { t: 'upserted'; id: number; error?: ThreadError }
  /** The writer thread's port closed (it died and is started again): a new port, please. */
  | { t: 'writer' }
  | { t: 'closed' };

interface ThreadError {
  message: string;
  code?: string;
}

type LocalStore = EgressDeps['store'];

export interface ElsewhereDeps {
  readonly store: LocalStore;
  readonly oems: readonly OemDestination[];
  readonly log: Logger;
  readonly now?: () => number;
}

/**
 * The egress of a process that does not deliver (`--role ingest`): backpressure from the
 * store's backlog, the signing keyring, the pull feed's settler. Deliveries: another process.
 */
export async function egressElsewhere(cfg: Config['egress'], deps: ElsewhereDeps): Promise<Egress> {
  const side = await mainSide(cfg, deps);
  return {
    queue: cfg.queue.kind,
    runsIn: 'none',
    wake: () => undefined,
    inFlight: 0,
    get saturated() {
      return side.backlog.saturated;
    },
    upsertOem: (oem) => side.signing.upsert(oem),
    policyChanged: () => undefined,
    settle: (item) => side.settler.settle(item),
    signing: side.signing,
    async close() {
      side.signing.close();
    },
  };
}

async function mainSide(cfg: Config['egress'], deps: ElsewhereDeps) {
  const log = deps.log.child({ module: 'egress' });
  const signing = await createSigningKeyring(deps.oems, deps.store, { log });
  const backlog = await createBacklogGate(deps.store, cfg, { log, now: deps.now ?? Date.now });
  return { log, signing, backlog, settler: createSettler(deps.store) };
}

export interface ThreadDeps extends ElsewhereDeps {
  readonly store: LocalStore & Pick<Store, 'outboxBacklog' | 'outboxBacklogByOem'>;
  /** An OEM's active policy as the send-time checks need it (sent to the thread on every change). */
  readonly rulesOf: (oem: string) => SendTimeRules | undefined;
  readonly telemetry: Telemetry;
}

/** How long close() waits for the thread to finish its deliveries beyond the request timeout. */
const CLOSE_GRACE_MS = 5_000;
/** How long a closed thread gets to end on its own before it is terminated. */
const EXIT_GRACE_MS = 2_000;
/** A thread that died is started again after this (deliveries resume from the outbox). */
const RESTART_MS = 1_000;
/** Policies changed without a hook (belt and braces): compared and sent this often. */
const RULES_CHECK_MS = 1_000;

export async function startEgressThread(config: Readonly<Config>, deps: ThreadDeps): Promise<Egress> {
  const cfg = config.egress;
  const side = await mainSide(cfg, deps);
  const { log } = side;
  const oems = new Map(deps.oems.map((o) => [o.id, o]));
  const rulesNow = (): SendRules => {
    const out: SendRules = {};
    for (const id of oems.keys()) {
      const p = deps.rulesOf(id)?.purposes;
      if (p)
        out[id] = p.map((x) => ({
          id: x.id,
          consentRequired: x.consentRequired,
          automatedDecisions: x.automatedDecisions,
        }));
    }
    return out;
  };
  const { metrics } = deps.telemetry;
  const levels: Record<number, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'> = {
    10: 'trace',
    20: 'debug',
    30: 'info',
    40: 'warn',
    50: 'error',
    60: 'fatal',
  };
  // The thread's lines carry their own fields (module…); they keep the main logger's destination and redaction.
  const threadLog = deps.log.child({ thread: 'egress' });
  const onLog = (line: string) => {
    try {
      const {
        level,
        msg,
        time: _t,
        svc: _s,
        pid: _p,
        hostname: _h,
        ...fields
      } = JSON.parse(line) as Record<string, unknown>;
      threadLog[levels[level as number] ?? 'info'](fields, String(msg ?? ''));
    } catch {
      threadLog.info({ line }, 'egress thread');
    }
  };

  const upDown = upDownLevels(metrics);
  let worker: Worker | undefined;
  let inFlight = 0;
  let closing = false;
  let lastRules = '';
  let upsertSeq = 0;
  const upserts = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  let closed: (() => void) | undefined;
  const toError = (e: ThreadError) => Object.assign(new Error(e.message), e.code ? { code: e.code } : {});
  const send = (m: ToThread) => worker?.postMessage(m);

  const spawn = (): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const entry = threadEntry(import.meta.url, 'thread-main');
      const rules = rulesNow();
      lastRules = JSON.stringify(rules);
      // The thread logs at the main logger's level: its lines pass through that logger anyway, and
      // an embedder's logger (tests, `shekara start --log-level`) may differ from config.log.level.
      const logConfig = { ...config.log, level: deps.log.level as Config['log']['level'] };
      // SQLite: the thread's settlements and marks go to this process's one writer thread, where
      // they share the ingest commits' transactions (src/store/sqlite/ingest-writer.ts).
      const writer = writerPortOf(deps.store);
      const init: ThreadInit = {
        config: { ...config, log: logConfig },
        oems: [...oems.values()],
        rules,
        metricsEnabled: metrics.enabled,
        ...(writer ? { writer } : {}),
      };
      const w = new Worker(entry.url, {
        workerData: init,
        transferList: writer ? [writer] : [],
        eval: entry.eval,
        name: 'shekara-egress',
      });
      worker = w;
      const tid = w.threadId; // read now: an exited worker's id is not kept
      let started = false;
      w.on('message', (m: FromThread) => {
        switch (m.t) {
          case 'ready':
            started = true;
            resolve();
            break;
          case 'failed':
            reject(toError(m.error));
            break;
          case 'log':
            onLog(m.line);
            break;
          case 'inFlight':
            inFlight = m.n;
            break;
          case 'metrics':
            for (const [name, v, a] of m.events) {
              if (name === 'egressDeliveryDuration' || name === 'egressRecordAge') metrics[name].record(v, a);
              else {
                metrics[name].add(v, a);
                // Up-down counters: what a thread that died had added is taken back on its exit.
                if (name !== 'egressDeliveries') upDown.add(name, v, a);
              }
            }
            break;
          case 'upserted': {
            const u = upserts.get(m.id);
            upserts.delete(m.id);
            if (m.error) u?.reject(toError(m.error));
            else u?.resolve();
            break;
          }
          case 'writer': {
            const port = closing ? undefined : writerPortOf(deps.store);
            w.postMessage({ t: 'writer', port } satisfies ToThread, port ? [port] : []);
            break;
          }
          case 'closed':
            closed?.();
            break;
        }
      });
      w.on('error', (err) => {
        if (!started) reject(err);
        else log.error({ err }, 'egress thread failed');
      });
      w.on('exit', (code) => {
        releaseHeldBy(tid); // SQLite store: terminated mid-transaction, the others must not wait for it
        upDown.reset();
        inFlight = 0;
        for (const u of upserts.values()) u.reject(new Error('the egress thread stopped'));
        upserts.clear();
        closed?.();
        if (!started) return reject(new Error(`the egress thread exited with code ${code} before it started`));
        if (closing) return;
        // Nothing is lost: what it had in flight is due again from the outbox.
        log.error({ code, restartInMs: RESTART_MS }, 'egress thread stopped; starting it again');
        setTimeout(() => {
          if (!closing) spawn().catch((err: unknown) => log.error({ err }, 'egress thread could not be started again'));
        }, RESTART_MS).unref();
      });
    });

  try {
    await spawn();
  } catch (err) {
    side.signing.close();
    await worker?.terminate();
    throw err;
  }

  const sendRules = () => {
    const rules = rulesNow();
    const text = JSON.stringify(rules);
    if (text === lastRules) return;
    lastRules = text;
    send({ t: 'rules', rules });
  };
  const rulesTimer = setInterval(sendRules, RULES_CHECK_MS);
  rulesTimer.unref();
  let wakePending = false;

  return {
    queue: cfg.queue.kind,
    runsIn: 'thread',
    wake() {
      // Coalesced: one message per event-loop turn, however many commits woke it.
      if (wakePending || closing) return;
      wakePending = true;
      setImmediate(() => {
        wakePending = false;
        send({ t: 'wake' });
      });
    },
    get inFlight() {
      return inFlight;
    },
    get saturated() {
      return side.backlog.saturated;
    },
    async upsertOem(oem) {
      await side.signing.upsert(oem);
      const id = ++upsertSeq;
      const done = new Promise<void>((resolve, reject) => upserts.set(id, { resolve, reject }));
      send({ t: 'upsert', id, oem });
      await done;
      oems.set(oem.id, { ...oems.get(oem.id), ...oem });
      sendRules();
    },
    policyChanged: sendRules,
    settle: (item) => side.settler.settle(item),
    signing: {
      ...side.signing,
      async rotate(oem, now, overlapMs) {
        const row = await side.signing.rotate(oem, now, overlapMs);
        send({ t: 'signing' });
        return row;
      },
    },
    async close() {
      closing = true;
      clearInterval(rulesTimer);
      side.signing.close();
      const finished = new Promise<void>((resolve) => (closed = resolve));
      send({ t: 'close' });
      const w = worker;
      if (!w) return;
      const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
      const within = (p: Promise<void>, ms: number) =>
        Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
      await within(finished, cfg.requestTimeoutMs + CLOSE_GRACE_MS);
      // After 'closed' the thread has closed its store and port, so it ends by itself. terminate()
      // is only for a thread that does not: stopping a thread while a native addon (better-sqlite3)
      // tears down is where terminate has been seen to hang or abort other processes.
      if (!(await within(exited, EXIT_GRACE_MS))) await w.terminate();
    },
  };
}

/** What the thread's up-down counters stand at, per series, so that `reset` can bring them back to 0. */
function upDownLevels(metrics: Telemetry['metrics']) {
  const at = new Map<string, { name: AddedMetric; v: number; a: Record<string, string> }>();
  return {
    add(name: AddedMetric, v: number, a: Record<string, string>) {
      const key = `${name} ${JSON.stringify(a)}`;
      const l = at.get(key) ?? { name, v: 0, a };
      l.v += v;
      at.set(key, l);
    },
    reset() {
      for (const l of at.values()) if (l.v !== 0) metrics[l.name].add(-l.v, l.a);
      at.clear();
    },
  };
}
