/**
 * Wires the modules — store → policy → egress → ingest → HTTP — from one validated config.
 * `buildApp` resolves only when every listener is up; `main` (cli/start.ts) just calls it.
 * Data flows one way: ingest commits records and projections; egress reads the outbox.
 */
import { randomBytes } from 'node:crypto';
import type { Config } from './config/schema.js';
import { createStore, type Store } from './store/index.js';
import { createPolicyEngine, type PolicyEngine } from './policy/index.js';
import { createEgress, type Egress } from './egress/index.js';
import { createIngest, type Ingest } from './ingest/index.js';
import { buildHttp, reloadHttpTls } from './api/http.js';
import { listen } from './net.js';
import { createLogger, type Logger } from './log.js';
import { ShekaraError } from './errors.js';

export const PSEUDONYM_MASTER_KEY = 'pseudonym-master-key';

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
  readonly log: Logger;
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
    const store = await createStore(config.store, config.dataDir);
    closers.push(() => store.close());
    const masterKey = store.getSecret(PSEUDONYM_MASTER_KEY) ?? store.putSecretIfAbsent(PSEUDONYM_MASTER_KEY, randomBytes(32));
    const policy = await createPolicyEngine({ oems: config.oems, epochDays: config.pseudonymization.epochDays }, { masterKey, consent: store, history: store });
    closers.push(() => policy.close());
    for (const oem of config.oems) {
      const p = policy.policyOf(oem.id)!;
      log.info({ oem: oem.id, policy: p.source, policyHash: p.hash, purposes: p.purposes.map((x) => x.id) }, 'policy active');
    }

    const egress = await createEgress(config.egress, {
      store, log, oems: config.oems,
      // TODO(lead): consent re-check — wire to the policy engineer's consent store (store.isGranted,
      // resolving the record's VIN by recordId) once it exists; until then nothing is revoked.
      isStillAllowed: () => true,
    });
    closers.push(() => egress.close());

    const http = buildHttp(config.http, log);
    closers.push(() => http.close());
    // Liveness: the process answers. Readiness: it takes traffic (not while starting or stopping),
    // so a load balancer stops sending cars here before the listeners close.
    http.get('/healthz', async (_req, reply) => reply.send({ status: 'ok' }));
    http.get('/readyz', async (_req, reply) => reply.code(state === 'ready' ? 200 : 503).send({ status: state }));

    // Backpressure: while the egress queue is saturated a commit is refused, which ingest turns
    // into SHK_INGEST_BACKPRESSURE (MQTT withholds the PUBACK, HTTPS answers 503 + Retry-After).
    const ingestStore = {
      getVehicle: (vin: string) => store.getVehicle(vin),
      commitIngest: (items: Parameters<Store['commitIngest']>[0]) => {
        if (egress.saturated) throw new ShekaraError('SHK_EGRESS_SATURATED', `egress queue holds ${config.egress.maxBacklog}+ rows`, { retriable: true });
        store.commitIngest(items);
      },
    };
    const ingest = await createIngest(config, {
      store: ingestStore, http, log, project: (r) => policy.project(r), onCommitted: () => egress.wake(),
    });
    // Ingest closes before egress: no new records arrive while deliveries drain.
    closers.push(() => ingest.close());

    await http.ready();
    const httpPort = await listen(http.server, config.http.port, config.http.host, 'HTTP', 'SHEKARA_HTTP_PORT');
    state = 'ready';
    return {
      mqttPort: ingest.mqttPort, mqttsPort: ingest.mqttsPort, httpPort,
      reloadTls() {
        ingest.reloadTls();
        try {
          reloadHttpTls(http, config.http);
        } catch (err) {
          log.error({ reason: (err as Error).message }, 'https: reloading certificates failed; the previous ones stay in use');
        }
      }, httpScheme: config.http.tls.enabled ? 'https' : 'http',
      store, policy, ingest, egress, log, close,
    };
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
}
