/**
 * PostgreSQL backend, for several instances behind a load balancer sharing one
 * database. Same interface, same migration ids and the same conformance suite as SQLite
 * (test/store/conformance.test.ts). Everything lives in the configured schema, created if missing.
 *
 * Durability: every connection runs with synchronous_commit=on, so a COMMIT that returned is on
 * the server's disk (and on synchronous standbys, if configured): commitIngest and settleOutbox
 * return only then. Only lease writes opt out (../outbox/pg.ts says why).
 *
 * Each area lives in its own file with its own migrations; this file opens the pool, migrates
 * and composes them.
 */
import { connectPg, type PgConnectOptions } from './db.js';
import { migratePg } from './migrate.js';
import { pgVehicles, VEHICLE_MIGRATIONS } from '../vehicles/pg.js';
import { pgOems, OEM_MIGRATIONS } from '../oems/pg.js';
import { pgOwnerBindings, OWNER_BINDING_MIGRATIONS } from '../owner-bindings/pg.js';
import { pgSecrets, SECRET_MIGRATIONS } from '../secrets/pg.js';
import { pgRecords, RECORD_MIGRATIONS } from '../records/pg.js';
import { pgOutbox, pgEgressQueue } from '../outbox/pg.js';
import { pgOutboxSignal } from './outbox-signal.js';
import { OUTBOX_MIGRATIONS } from '../outbox/pg-migrations.js';
import { pgPolicyState, POLICY_STATE_MIGRATIONS } from '../policy-state/pg.js';
import { pgOemFeed, OEM_FEED_MIGRATIONS } from '../oem-feed/pg.js';
import { pgSigningKeys, SIGNING_KEY_MIGRATIONS } from '../signing-keys/pg.js';
import { pgCommands, COMMAND_MIGRATIONS } from '../commands/pg.js';
import { pgCommandApprovals, COMMAND_APPROVAL_MIGRATIONS } from '../command-approvals/pg.js';
import { pgEgressLog, EGRESS_LOG_MIGRATIONS } from '../egress-log/pg.js';
import { pgAudit, AUDIT_MIGRATIONS } from '../audit/pg.js';
import { pgAuditQueries } from '../audit/pg-queries.js';
import { pgApiKeys, API_KEY_MIGRATIONS } from '../api-keys/pg.js';
import { pgConsent, pgConsentRegistry, CONSENT_MIGRATIONS } from '../consent/pg.js';
import { pgObjections, OBJECTION_MIGRATIONS } from '../objections/pg.js';
import { pgOwnerReport } from '../owner-report/pg.js';
import {
  pgPolicyHistory,
  pgPolicyVersions,
  POLICY_HISTORY_MIGRATIONS,
  POLICY_VERSION_MIGRATIONS,
} from '../policies/pg.js';
import { ensureRoutePartitions, pgRetention, RETENTION_MIGRATIONS } from '../retention/pg.js';
import { pgErasure, ERASURE_MIGRATIONS } from '../erasure/pg.js';
import { pgWorkbench, WORKBENCH_MIGRATIONS } from '../workbench/pg.js';
import type { Store } from '../types.js';
import { pgMqttQos2, MQTT_QOS2_MIGRATIONS } from '../mqtt-qos2/pg.js';
import { pgGbt32960Terminals, GBT32960_TERMINAL_MIGRATIONS } from '../gbt32960-terminals/pg.js';

export const PG_MIGRATIONS = [
  ...VEHICLE_MIGRATIONS,
  ...SECRET_MIGRATIONS,
  ...RECORD_MIGRATIONS,
  ...OUTBOX_MIGRATIONS,
  ...EGRESS_LOG_MIGRATIONS,
  ...CONSENT_MIGRATIONS,
  ...POLICY_HISTORY_MIGRATIONS,
  ...AUDIT_MIGRATIONS,
  ...API_KEY_MIGRATIONS,
  ...OWNER_BINDING_MIGRATIONS,
  ...OEM_MIGRATIONS,
  ...POLICY_VERSION_MIGRATIONS,
  ...OEM_FEED_MIGRATIONS,
  ...SIGNING_KEY_MIGRATIONS,
  ...COMMAND_MIGRATIONS,
  ...COMMAND_APPROVAL_MIGRATIONS,
  ...OBJECTION_MIGRATIONS,
  ...ERASURE_MIGRATIONS,
  ...RETENTION_MIGRATIONS,
  ...WORKBENCH_MIGRATIONS,
  ...MQTT_QOS2_MIGRATIONS,
  ...GBT32960_TERMINAL_MIGRATIONS,
  ...POLICY_STATE_MIGRATIONS,
];

/** Opens the pool, migrates (once, whoever starts first), creates the route-point partitions ahead. Rejects with SHK_STORE_UNAVAILABLE if the server cannot be reached. */
export async function openPostgresStore(cfg: PgConnectOptions): Promise<Store> {
  const db = await connectPg(cfg);
  try {
    await migratePg(db, PG_MIGRATIONS);
    await ensureRoutePartitions(db, Date.now());
  } catch (err) {
    await db.close();
    throw err;
  }

  const signal = pgOutboxSignal(db, cfg.url);
  const records = pgRecords(db);
  const outbox = pgOutbox(db);
  const audit = pgAudit(db);
  const egressLog = pgEgressLog(db, outbox, audit);
  const { write: writeQos2, ...qos2 } = pgMqttQos2(db);
  const count = async (sql: string) => (await db.query<{ n: number }>(sql))[0]!.n;
  // Readers of the log and its tree first integrate what was settled before they ask (read
  // your writes across instances); the integrator's own rounds keep this short.
  const caughtUp =
    <A extends unknown[], R>(f: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      await egressLog.catchUpEgressLog();
      return f(...a);
    };
  const caughtUpAll = <T extends object>(o: T): T =>
    Object.fromEntries(
      Object.entries(o).map(([k, f]) => [
        k,
        typeof f === 'function' ? caughtUp(f as (...a: unknown[]) => Promise<unknown>) : f,
      ]),
    ) as T;
  // Every read of the egress log or its tree (regulator queries, owner report) catches up first.
  const queries = caughtUpAll(pgAuditQueries(db));
  const ownerReport = caughtUpAll(pgOwnerReport(db));

  const store: Store = {
    ...pgVehicles(db),
    ...pgPolicyState(db),
    ...pgGbt32960Terminals(db),
    ...pgOems(db),
    ...pgPolicyVersions(db),
    ...pgOwnerBindings(db),
    ...pgSecrets(db),
    ...pgConsent(db),
    ...pgConsentRegistry(db, audit),
    ...pgObjections(db, audit),
    ...ownerReport,
    ...pgPolicyHistory(db),
    getRecord: records.getRecord,
    recordVin: records.recordVin,
    listQuarantine: records.listQuarantine,
    leaseDueOutbox: outbox.leaseDueOutbox,
    nextDueAt: outbox.nextDueAt,
    dueOutboxHeads: outbox.dueOutboxHeads,
    projectionDecision: outbox.projectionDecision,
    recordDelivery: egressLog.recordDelivery,
    recordFailedAttempt: egressLog.recordFailedAttempt,
    recordDeadLetter: egressLog.recordDeadLetter,
    listEgressLog: egressLog.listEgressLog,
    integrateEgressLog: egressLog.integrateEgressLog,
    catchUpEgressLog: egressLog.catchUpEgressLog,
    egressLogStaged: egressLog.egressLogStaged,
    ...pgEgressQueue(db, egressLog),
    ...pgOemFeed(db),
    ...pgSigningKeys(db),
    ...pgCommands(db, audit),
    ...pgCommandApprovals(db, audit),
    auditTreeSize: caughtUp(audit.auditTreeSize),
    auditRoot: caughtUp(audit.auditRoot),
    auditLeafHash: audit.auditLeafHash,
    auditNode: audit.auditNode,
    appendAuditEvent: audit.appendAuditEvent,
    putCheckpoint: audit.putCheckpoint,
    latestCheckpoint: audit.latestCheckpoint,
    getCheckpoint: audit.getCheckpoint,
    checkpointCovering: audit.checkpointCovering,
    listCheckpoints: audit.listCheckpoints,
    ...queries,
    ...pgApiKeys(db),
    ...pgRetention(db),
    ...pgErasure(db),
    ...pgWorkbench(db, audit),
    ...qos2,
    async commitIngest(items) {
      if (items.length === 0) return;
      const rows = items.flatMap((it) =>
        it.kind === 'record'
          ? it.projections.map((projection) => ({
              projection,
              dueAt: it.record.receivedAt,
              traceParent: it.traceParent ?? null,
            }))
          : [],
      );
      await db.tx(async (t) => {
        await records.write(t, items);
        await writeQos2(t, items);
        await outbox.insert(t, rows);
      });
      // After the commit, never inside it (./outbox-signal.ts): delivering processes read at once.
      if (rows.length > 0) signal.added();
    },
    watchOutbox: signal.watch,
    async counts() {
      await egressLog.catchUpEgressLog();
      const [recordCount, quarantine, outboxPending, outboxDead, egressLogCount] = await Promise.all([
        count(`SELECT count(*) AS n FROM records`),
        count(`SELECT count(*) AS n FROM quarantine`),
        count(`SELECT count(*) AS n FROM egress_outbox WHERE status = 'pending'`),
        count(`SELECT count(*) AS n FROM egress_outbox WHERE status = 'dead'`),
        count(`SELECT count(*) AS n FROM egress_log`),
      ]);
      return { records: recordCount, quarantine, outboxPending, outboxDead, egressLog: egressLogCount };
    },
    close: () => db.close(),
  };
  return store;
}
