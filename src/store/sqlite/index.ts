/**
 * SQLite backend (better-sqlite3), the embedded default. WAL journal with synchronous=FULL:
 * a commit that returned is on disk, which is what a PUBACK promises the car. Group commit
 * (several records per transaction) is the caller's job; see ingest/committer.ts.
 *
 * Each area of the store lives in its own file with its own migrations; this file opens the
 * database and composes them.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { migrate } from './migrate.js';
import { sqliteVehicles, VEHICLE_MIGRATIONS } from './vehicles.js';
import { sqliteSecrets, SECRET_MIGRATIONS } from './secrets.js';
import { sqliteRecords, RECORD_MIGRATIONS } from './records.js';
import { sqliteOutbox, sqliteEgressQueue, OUTBOX_MIGRATIONS } from './outbox.js';
import { sqliteEgressLog, EGRESS_LOG_MIGRATIONS } from './egress-log.js';
import { sqliteAudit, AUDIT_MIGRATIONS } from './audit.js';
import { sqliteAuditQueries } from './audit-queries.js';
import { sqliteApiKeys, API_KEY_MIGRATIONS } from './api-keys.js';
import { sqliteConsent, sqliteConsentRegistry, CONSENT_MIGRATIONS } from './consent.js';
import { sqliteObjections, OBJECTION_MIGRATIONS } from './objections.js';
import { sqliteErasure, ERASURE_MIGRATIONS } from './erasure.js';
import { sqliteOwnerReport } from './owner-report.js';
import { sqlitePolicyHistory, POLICY_HISTORY_MIGRATIONS } from './policy-history.js';
import { sqliteOwnerBindings, OWNER_BINDING_MIGRATIONS } from './owner-bindings.js';
import type { IngestItem, Store } from '../types.js';

export const SQLITE_MIGRATIONS = [
  ...VEHICLE_MIGRATIONS, ...SECRET_MIGRATIONS, ...RECORD_MIGRATIONS, ...OUTBOX_MIGRATIONS, ...EGRESS_LOG_MIGRATIONS,
  ...CONSENT_MIGRATIONS, ...POLICY_HISTORY_MIGRATIONS,
  ...AUDIT_MIGRATIONS, ...API_KEY_MIGRATIONS, ...OWNER_BINDING_MIGRATIONS,
  ...OBJECTION_MIGRATIONS, ...ERASURE_MIGRATIONS,
];

export function openSqliteStore(file: string): Store {
  if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db, SQLITE_MIGRATIONS);

  const records = sqliteRecords(db);
  const outbox = sqliteOutbox(db);
  const audit = sqliteAudit(db);
  const egressLog = sqliteEgressLog(db, outbox, audit);
  // The consent writer's grant/revoke join the owner API's logged changes; they are not store methods.
  const { grant, revoke, ...consent } = sqliteConsent(db);

  const commitIngest = db.transaction((items: readonly IngestItem[]) => {
    for (const it of items) {
      records.write(it);
      if (it.kind === 'record') for (const p of it.projections) outbox.insert(p, it.record.receivedAt);
    }
  });
  const count = (sql: string) => db.prepare(sql).pluck();
  const counters = {
    records: count(`SELECT COUNT(*) FROM records`),
    quarantine: count(`SELECT COUNT(*) FROM quarantine`),
    outboxPending: count(`SELECT COUNT(*) FROM egress_outbox WHERE status = 'pending'`),
    outboxDead: count(`SELECT COUNT(*) FROM egress_outbox WHERE status = 'dead'`),
    egressLog: count(`SELECT COUNT(*) FROM egress_log`),
  };

  return {
    ...sqliteVehicles(db),
    ...sqliteSecrets(db),
    ...consent,
    ...sqliteConsentRegistry(db, { consent: { grant, revoke }, outbox, audit }),
    ...sqliteObjections(db, { outbox, audit }),
    ...sqliteErasure(db, outbox),
    ...sqliteOwnerReport(db),
    ...sqlitePolicyHistory(db),
    getRecord: records.getRecord,
    recordVin: records.recordVin,
    listQuarantine: records.listQuarantine,
    leaseDueOutbox: outbox.leaseDueOutbox,
    nextDueAt: outbox.nextDueAt,
    dueOutboxHeads: outbox.dueOutboxHeads,
    ...egressLog,
    ...sqliteEgressQueue(db, egressLog),
    ...audit,
    ...sqliteAuditQueries(db),
    ...sqliteApiKeys(db),
    ...sqliteOwnerBindings(db),
    commitIngest: (items) => { if (items.length > 0) commitIngest(items); },
    counts: () => Object.fromEntries(Object.entries(counters).map(([k, stmt]) => [k, stmt.get() as number])) as ReturnType<Store['counts']>,
    close: () => db.close(),
  };
}
