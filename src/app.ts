/**
 * Wires the modules — store → policy → egress → ingest → HTTP — from one validated config.
 * `buildApp` resolves only when every listener is up; `main` (cli/start.ts) just calls it.
 * Data flows one way: ingest commits records and projections; egress reads the outbox.
 */
import { randomBytes } from 'node:crypto';
import type { Config } from './config/schema.js';
import { createStore, type Store } from './store/index.js';
import { createPolicyEngine, sendTimeVerdict, type PolicyEngine } from './policy/index.js';
import { createEgress, type Egress } from './egress/index.js';
import { createIngest, type Ingest } from './ingest/index.js';
import { buildHttp, reloadHttpTls } from './api/http.js';
import { listen } from './net.js';
import { createLogger, type Logger } from './log.js';
import { createAuditLog, type AuditLog } from './audit/index.js';
import { registerRegulatorApi } from './api/regulator/index.js';
import { registerAdminApi } from './api/admin/index.js';
import { registerOemApi } from './api/oem/index.js';
import { registerOwnerApi } from './api/owner/index.js';

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
  /** The egress log's checkpoints and proofs (src/audit). */
  readonly audit: AuditLog;
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

    // Closes after egress (closers run in reverse): the last outcomes get a checkpoint too.
    const audit = await createAuditLog(config.audit, { store, log });
    closers.push(() => audit.close());

    const egress = await createEgress(config.egress, {
      store, log, oems: config.oems,
      // Consent and objections re-checked just before sending: a revocation, an objection or an
      // erasure after enqueue stops the delivery.
      isStillAllowed: (row) => sendTimeVerdict({ consent: store, policyOf: (o) => policy.policyOf(o) },
        { vin: store.recordVin(row.recordId), oem: row.oem, purpose: row.purpose }, Date.now()),
    });
    closers.push(() => egress.close());

    const http = buildHttp(config.http, log);
    closers.push(() => http.close());
    // Liveness: the process answers. Readiness: it takes traffic (not while starting or stopping),
    // so a load balancer stops sending cars here before the listeners close.
    http.get('/healthz', async (_req, reply) => reply.send({ status: 'ok' }));
    await registerRegulatorApi(http, { store, audit, now: Date.now });
    await registerAdminApi(http, { store, now: Date.now });
    await registerOemApi(http, { store, now: Date.now });
    await registerOwnerApi(http, { store, policy, now: Date.now });
    http.get('/readyz', async (_req, reply) => reply.code(state === 'ready' ? 200 : 503).send({ status: state }));

    const ingest = await createIngest(config, {
      store, http, log, project: (r) => policy.project(r), onCommitted: () => egress.wake(),
      // Backpressure: a saturated egress queue slows ingest (PUBACK withheld, HTTPS 503 + Retry-After).
      egressSaturated: () => egress.saturated,
    });
    // Ingest closes before egress: no new records arrive while deliveries drain.
    closers.push(() => ingest.close());

    await http.ready();
    const httpPort = await listen(http.server, config.http.port, config.http.host, 'HTTP', 'SHEKARA_HTTP_PORT');
    state = 'ready';
    return {
      mqttPort: ingest.mqttPort, mqttsPort: ingest.mqttsPort, httpPort,
      httpScheme: config.http.tls.enabled ? 'https' : 'http',
      store, policy, ingest, egress, audit, log, close,
      reloadTls() {
        ingest.reloadTls();
        try {
          reloadHttpTls(http, config.http);
        } catch (err) {
          log.error({ reason: (err as Error).message }, 'https: reloading certificates failed; the previous ones stay in use');
        }
      },
    };
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
}
