/**
 * Wires the modules — store → policy → egress → ingest → HTTP — from one validated config.
 * `buildApp` resolves only when every listener is up; `main` (cli/start.ts) just calls it.
 * Data flows one way: ingest commits records and projections; egress reads the outbox.
 */
import { createCatalog } from './catalog/index.js';
import { randomBytes } from 'node:crypto';
import { OEM_API_RATE_LIMIT, type Config } from './config/schema.js';
import {
  claimDeliveries,
  createStore,
  startRetentionSweep,
  writerStatsOf,
  type RetentionSweep,
  type Store,
} from './store/index.js';
import { loadVinRegistry } from './policy/vin-registry.js';
import { createPolicyEngine, sendTimeVerdict, type PolicyEngine } from './policy/index.js';
import { createEgress, type Egress, type EgressDeps } from './egress/index.js';
import { egressElsewhere, startEgressThread } from './egress/thread.js';
import { watchBacklog } from './egress/backlog.js';
import type { SendTimeRules } from './policy/index.js';
import { createIngest, type Ingest } from './ingest/index.js';
import { noIngest } from './ingest/none.js';
import { buildHttp, reloadHttpTls } from './api/http.js';
import { listen } from './net.js';
import { createLogger, type Logger } from './log.js';
import { createAuditLog, type AuditLog } from './audit/index.js';
import { createAlertGauges } from './reports/alerts.js';
import { registerRegulatorApi } from './api/regulator/index.js';
import { createTelemetry, type Telemetry } from './telemetry/index.js';
import { registerAdminApi } from './api/admin/index.js';
import { registerOemApi } from './api/oem/index.js';
import { registerOwnerApi } from './api/owner/index.js';
import { registerConsole } from './api/console.js';
import { createAdmin, destinationOf, seedConfigOems, type Admin } from './admin/index.js';
import { checkMtlsFiles } from './admin/oem-files.js';
import { createDownlink, type Downlink } from './downlink/index.js';
import type { OutboxRow } from './store/index.js';
import { createVehicleRef, type VehicleRef } from './vehicle-ref.js';
import { PSEUDONYM_MASTER_KEY } from './policy/pseudonym.js';

export { PSEUDONYM_MASTER_KEY };

export interface App {
  /** The embedded broker's port; undefined in external-broker mode. */
  readonly mqttPort: number | undefined;
  readonly mqttsPort: number | undefined;
  readonly httpPort: number;
  readonly httpScheme: 'http' | 'https';
  readonly store: Store;
  readonly policy: PolicyEngine;
  readonly ingest: Ingest;
  readonly egress: Egress;
  /** Guarded downlink commands (src/downlink). */
  readonly downlink: Downlink;
  /** The egress log's checkpoints and proofs (src/audit). */
  readonly audit: AuditLog;
  /** Operator admin (OEM registry, policies, vehicles, keys), applied to this running gateway. */
  readonly admin: Admin;
  /** Deletes local personal data older than its retention period, on a schedule. */
  readonly retention: RetentionSweep;
  readonly log: Logger;
  /** What this gateway's log lines say instead of a VIN (src/vehicle-ref.ts). */
  readonly vehicleRef: VehicleRef;
  /** Tracing and metrics (src/telemetry); the Prometheus port is `telemetry.metrics.prometheusPort`. */
  readonly telemetry: Telemetry;
  /** Re-reads TLS certificates, keys and the vehicle CRL (SIGHUP). A failure keeps the old ones. */
  reloadTls(): void;
  close(): Promise<void>;
}

export async function buildApp(config: Readonly<Config>, opts: { log?: Logger } = {}): Promise<App> {
  const log = opts.log ?? createLogger(config.log.level);
  const closers: (() => Promise<void> | void)[] = [];
  let state: 'starting' | 'ready' | 'stopping' = 'starting';
  const close = async () => {
    state = 'stopping';
    for (const c of closers.reverse()) await c();
  };
  try {
    // First up, last down (closers run in reverse): it flushes the spans the others ended.
    const telemetry = await createTelemetry(config.telemetry, { log });
    closers.push(() => telemetry.close());
    const store = await createStore(config.store, config.dataDir, config.keys);
    closers.push(() => store.close());
    // Before anything else is written: a second delivering process on one SQLite file would
    // send the first one's rows again. Released after egress closed (closers run in reverse).
    if (config.role !== 'ingest') {
      const deliveries = claimDeliveries(config.store, config.dataDir);
      closers.push(() => deliveries.release());
    }
    // Closes before the store (closers run in reverse), after waiting for a sweep under way.
    const retention = startRetentionSweep(config.retention, { store, log });
    closers.push(() => retention.close());
    const masterKey =
      (await store.getSecret(PSEUDONYM_MASTER_KEY)) ??
      (await store.putSecretIfAbsent(PSEUDONYM_MASTER_KEY, randomBytes(32)));
    // Log lines name a car by this keyed reference, never its VIN (`shekara vehicles whois`).
    const vehicleRef = createVehicleRef(masterKey);
    // The OEM registry: config OEMs seeded into the store (the config wins), API OEMs already there.
    await seedConfigOems({ store, configOems: config.oems, log });
    const registry = await store.listOems();
    // Config OEMs' policies are their files; registry OEMs get their last activated version in admin.sync() below.
    const catalog = createCatalog(config.catalog);
    const vins = await loadVinRegistry(store);
    closers.push(() => vins.close());
    const policy = await createPolicyEngine(
      { oems: config.oems, epochDays: config.pseudonymization.epochDays, catalog },
      {
        masterKey,
        consent: store,
        history: store,
        state: store,
        isRegisteredVin: vins.has,
        metrics: telemetry.metrics,
      },
    );
    closers.push(() => policy.close());

    // Closes after egress (closers run in reverse): the last outcomes get a checkpoint too.
    const audit = await createAuditLog(config.audit, {
      store,
      log,
      integrationDelay: telemetry.metrics.auditIntegrationDelay,
      selfCheckThread: true,
    });
    closers.push(() => audit.close());

    // Consent and objections re-checked just before a projection crosses, pushed by a worker or
    // pulled from the OEM feed: a revocation, an objection or an erasure after enqueue stops it.
    // true, or the reason it is blocked.
    const isStillAllowed = async (row: OutboxRow) =>
      sendTimeVerdict(
        { consent: store, policyOf: (o) => policy.policyOf(o) },
        { vin: await store.recordVin(row.recordId), oem: row.oem, purpose: row.purpose },
        Date.now(),
      );
    // Config-only keys the registry does not hold yet (delivery mode, trace propagation, batching);
    // egress keeps them across registry changes.
    const configOf = (id: string) => config.oems.find((o) => o.id === id);
    const deliveryOf = (id: string) => configOf(id)?.delivery ?? 'push';
    const egress = await startEgress(config, {
      store,
      log,
      telemetry,
      // An OEM whose stored mTLS files cannot be used starts disabled without them (admin.sync()
      // below logs why and shows it in /admin/v1); it never stops the gateway from starting.
      oems: registry.map((r) => ({
        ...(checkMtlsFiles(r.mtls) ? { ...destinationOf({ ...r, mtls: null }), enabled: false } : destinationOf(r)),
        delivery: deliveryOf(r.id),
        propagateTraceContext: configOf(r.id)?.propagateTraceContext ?? false,
        batch: configOf(r.id)?.batch,
      })),
      isStillAllowed,
      rulesOf: (o) => policy.policyOf(o),
    });
    closers.push(() => egress.close());
    // `--role egress` hears of rows other processes commit at once (PostgreSQL: LISTEN/NOTIFY);
    // the idle poll stays the fallback. Closes before egress (closers run in reverse).
    if (config.role === 'egress' && store.watchOutbox) {
      const watch = await store.watchOutbox(
        () => egress.wake(),
        (err, retryInMs) =>
          log.warn({ err, retryInMs }, 'egress: not listening for new outbox rows; polling until it is again'),
      );
      closers.push(() => watch.close());
    }
    // A policy activated, reloaded or changed by the registry: deliveries in another thread get its send-time rules.
    const policyChanged =
      <A extends unknown[], R>(f: (...a: A) => Promise<R>) =>
      async (...a: A): Promise<R> => {
        try {
          return await f(...a);
        } finally {
          egress.policyChanged();
        }
      };
    const reload = policy.reload.bind(policy);
    const activatePolicy = policy.activatePolicy.bind(policy);
    const upsertPolicyOem = policy.upsertOem.bind(policy);
    Object.assign(policy, {
      reload: policyChanged(reload),
      activatePolicy: policyChanged(activatePolicy),
      upsertOem: (o: Parameters<PolicyEngine['upsertOem']>[0]) => {
        upsertPolicyOem(o);
        egress.policyChanged();
      },
    });

    // Closes after ingest (closers run in reverse): no acknowledgement arrives once it is closed.
    const downlink = await createDownlink(
      { epochDays: config.pseudonymization.epochDays, retryMinMs: config.mqtt.external.commandRetryMinMs },
      {
        store,
        log,
        policyOf: (o) => policy.policyOf(o),
        pseudonymFor: (o, vin, at) => policy.pseudonymFor(o, vin, at),
      },
    );
    closers.push(() => downlink.close());

    let ingest: Ingest | undefined;
    const admin = createAdmin({
      store,
      configOems: config.oems,
      catalog,
      log,
      vehicleRef,
      live: {
        policy,
        egress,
        disconnectVehicle: (vin) => ingest?.disconnectVehicle(vin) ?? 0,
        brokerCredentials: () => ingest?.brokerCredentials,
      },
    });
    const problems = await admin.sync();
    if (problems.length > 0) throw problems[0]!.error;
    for (const row of await store.listOems()) {
      const p = policy.policyOf(row.id);
      if (row.disabledAt !== null) log.warn({ oem: row.id }, 'OEM disabled: nothing is sent to it');
      else if (!p) log.warn({ oem: row.id }, 'OEM has no active policy: nothing is sent to it');
      else
        log.info(
          {
            oem: row.id,
            source: row.source,
            policy: p.source,
            policyHash: p.hash,
            purposes: p.purposes.map((x) => x.id),
          },
          'policy active',
        );
    }

    const http = buildHttp(config.http, log);
    closers.push(() => http.close());
    // Liveness: the process answers. Readiness: it takes traffic (not while starting or stopping),
    // so a load balancer stops sending cars here before the listeners close.
    http.get('/healthz', async (_req, reply) => reply.send({ status: 'ok' }));
    const workbench = { store, config, audit, now: Date.now, lastSweep: () => retention.lastSweep() };
    await registerRegulatorApi(http, { store, audit, now: Date.now, workbench });
    await registerAdminApi(http, { store, now: Date.now, admin, workbench });
    await registerOemApi(http, {
      store,
      now: Date.now,
      // Config and API-registered OEMs alike, as the registry holds them now: an OEM registered
      // or changed through the admin API gets its rate limit and every route at once.
      oemSettings: async (id) => {
        const cfg = configOf(id);
        if (cfg) return cfg;
        const row = await store.getOem(id);
        if (!row) return undefined;
        return {
          id,
          delivery: 'push' as const,
          allowedCountries: [...row.allowedCountries],
          allowPrivateNetworks: row.allowPrivateNetworks,
          apiRateLimit: { ...OEM_API_RATE_LIMIT },
        };
      },
      policyOf: (o) => policy.policyOf(o),
      egress,
      downlink,
      isStillAllowed,
    });
    await registerOwnerApi(http, {
      store,
      policy,
      now: Date.now,
      recheckCommands: (vin) => downlink.recheckQueued(vin),
    });
    registerConsole(http);
    // A log that failed its own check is degraded, not unready: cars and OEMs are still served,
    // but nothing is signed until an operator acts (docs/audit.md).
    http.get('/readyz', async (_req, reply) => {
      if (state !== 'ready') return reply.code(503).send({ status: state });
      const alarm = audit.alarm;
      return alarm ? reply.send({ status: 'degraded', problems: [alarm] }) : reply.send({ status: state });
    });

    // `--role egress`: no MQTT or HTTPS ingest in this process; it delivers and answers the APIs.
    ingest =
      config.role === 'egress'
        ? noIngest()
        : await createIngest(config, {
            store,
            catalog,
            http,
            log,
            vehicleRef,
            telemetry,
            project: (r) => policy.project(r),
            onCommitted: () => egress.wake(),
            // Backpressure: a saturated egress queue slows ingest (PUBACK withheld, HTTPS 503 + Retry-After).
            egressSaturated: () => egress.saturated,
            onCommandAck: (vin, ack) => downlink.onAck(vin, ack),
            onCommandSubscribed: (vin) => downlink.onSubscribed(vin),
            recheckCommand: (vin, id) => downlink.recheckSent(vin, id),
          });
    const started = ingest;
    downlink.attach({
      publish: (vin, payload, c) => started.publishCommand(vin, payload, c),
      isOnline: (vin) => started.isCommandSubscriber(vin),
      refusal: (vin, c) => started.commandRefusal(vin, c),
      pollsQueued: started.pollsCommands,
    });
    // Ingest closes before egress: no new records arrive while deliveries drain.
    closers.push(() => started.close());

    const alertGauges = telemetry.metrics.enabled
      ? (({ thresholds, noticeDue }) => ({ ledgerThresholds: thresholds, incidentNoticeDue: noticeDue }))(
          createAlertGauges({ store, config, now: Date.now }),
        )
      : {};
    // Depth and oldest-row age per OEM, and one aggregated warning past the configured age.
    const backlog = watchBacklog(store, config.egress.backlog, { log: log.child({ module: 'egress' }), now: Date.now });
    closers.push(() => backlog.close());
    telemetry.metrics.observe({
      outboxByOem: () => backlog.latest(),
      backlog: () => store.outboxBacklog(),
      // Seconds the most overdue pending row has been due and not taken: a queue that keeps up stays near 0.
      lagSeconds: async () => {
        const due = await store.nextDueAt();
        return due === undefined ? 0 : Math.max(0, (Date.now() - due) / 1000);
      },
      inFlight: () => egress.inFlight,
      connections: () => started.connectedVehicles,
      auditStaged: async () => (await store.egressLogStaged()).staged,
      auditIntegrationAgeSeconds: async () => {
        const { oldestStagedAt } = await store.egressLogStaged();
        return oldestStagedAt === null ? 0 : Math.max(0, (Date.now() - oldestStagedAt) / 1000);
      },
      auditSelfCheckFailed: () => (audit.alarm ? 1 : 0),
      storeWriter: () => writerStatsOf(store),
      ...alertGauges,
    });

    await http.ready();
    const httpPort = await listen(http.server, config.http.port, config.http.host, 'HTTP', 'SHEKARA_HTTP_PORT');
    state = 'ready';
    return {
      mqttPort: ingest.mqttPort,
      mqttsPort: ingest.mqttsPort,
      httpPort,
      httpScheme: config.http.tls.enabled ? 'https' : 'http',
      store,
      policy,
      ingest,
      egress,
      downlink,
      audit,
      admin,
      retention,
      log,
      vehicleRef,
      telemetry,
      close,
      reloadTls() {
        ingest.reloadTls();
        try {
          reloadHttpTls(http, config.http);
        } catch (err) {
          log.error(
            { reason: (err as Error).message },
            'https: reloading certificates failed; the previous ones stay in use',
          );
        }
      },
    };
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
}

/**
 * Where this process delivers (docs/egress.md "Egress gets its share"): not at all with
 * `--role ingest`; in a worker thread apart from the ingest event loop when it also ingests
 * (the default); in the main thread with `--role egress` (nothing to compete with), with
 * `egress.thread: false`, or on an in-memory SQLite store (no second connection can open it).
 */
async function startEgress(
  config: Readonly<Config>,
  deps: Omit<EgressDeps, 'sharedStore'> & { rulesOf: (oem: string) => SendTimeRules | undefined },
): Promise<Egress> {
  if (config.role === 'ingest') return egressElsewhere(config.egress, deps);
  const inMemory = config.store.kind === 'sqlite' && config.store.file === ':memory:';
  if (config.role === 'all' && config.egress.thread && !inMemory)
    return startEgressThread(config, { ...deps, telemetry: deps.telemetry! });
  // Other instances may share a PostgreSQL store: outbox leases then live in the store.
  return createEgress(config.egress, { ...deps, sharedStore: config.store.kind === 'postgres' });
}
