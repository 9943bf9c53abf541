/**
 * SQLite backend (better-sqlite3), the embedded default. WAL journal with synchronous=FULL:
 * a commit that returned is on disk, which is what a PUBACK promises the car. Group commit
 * (several records per transaction) is the caller's job; see ingest/committer.ts.
 *
 * Each area of the store lives in its own file with its own migrations; this file opens the
 * database and composes them. The areas are synchronous (better-sqlite3 answers at once, and
 * its synchronous transactions are what make group commit cheap); the composed store is lifted
 * to the asynchronous `Store` interface in one place, below.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { ensurePrivateDir, makePrivate, PRIVATE_FILE_MODE } from '../../keys/private-dir.js';
import path from 'node:path';
import Database from 'better-sqlite3';
import { migrate } from './migrate.js';
import { ingestTransaction, openConnection } from './ingest-tx.js';
import { ingestWriterThread, writerClient, type WriterLink, type WriterStats } from './ingest-writer.js';
import type { MessagePort } from 'node:worker_threads';
import { sqliteVehicles, VEHICLE_MIGRATIONS } from '../vehicles/sqlite.js';
import { sqliteSecrets, SECRET_MIGRATIONS } from '../secrets/sqlite.js';
import { markOfVins, sqliteRecords, RECORD_MIGRATIONS } from '../records/sqlite.js';
import { sqlitePolicyState, POLICY_STATE_MIGRATIONS } from '../policy-state/sqlite.js';
import { sqliteOutbox, sqliteEgressQueue, sqliteRelayLease, OUTBOX_MIGRATIONS } from '../outbox/sqlite.js';
import { sqliteEgressLog, EGRESS_LOG_MIGRATIONS } from '../egress-log/sqlite.js';
import { sqliteAudit, AUDIT_MIGRATIONS } from '../audit/sqlite.js';
import { sqliteAuditQueries } from '../audit/sqlite-queries.js';
import { sqliteApiKeys, API_KEY_MIGRATIONS } from '../api-keys/sqlite.js';
import { sqliteConsent, sqliteConsentRegistry, CONSENT_MIGRATIONS } from '../consent/sqlite.js';
import { sqliteObjections, OBJECTION_MIGRATIONS } from '../objections/sqlite.js';
import { sqliteErasure, ERASURE_MIGRATIONS } from '../erasure/sqlite.js';
import { sqliteOwnerReport } from '../owner-report/sqlite.js';
import {
  sqlitePolicyHistory,
  sqlitePolicyVersions,
  POLICY_HISTORY_MIGRATIONS,
  POLICY_VERSION_MIGRATIONS,
} from '../policies/sqlite.js';
import { sqliteOwnerBindings, OWNER_BINDING_MIGRATIONS } from '../owner-bindings/sqlite.js';
import { sqliteOemFeed, parkStatement, OEM_FEED_MIGRATIONS } from '../oem-feed/sqlite.js';
import { sqliteSigningKeys, SIGNING_KEY_MIGRATIONS } from '../signing-keys/sqlite.js';
import { sqliteCommands, COMMAND_MIGRATIONS } from '../commands/sqlite.js';
import { sqliteCommandApprovals, COMMAND_APPROVAL_MIGRATIONS } from '../command-approvals/sqlite.js';
import { sqliteOems, OEM_MIGRATIONS } from '../oems/sqlite.js';
import { sqliteRetention, RETENTION_MIGRATIONS } from '../retention/sqlite.js';
import { sqliteWorkbench, WORKBENCH_MIGRATIONS } from '../workbench/sqlite.js';
import type { EgressSettlement, IngestItem, OutboxRow, Store } from '../types.js';
import type { RetentionStore } from '../retention/types.js';
import { sqliteMqttQos2, MQTT_QOS2_MIGRATIONS } from '../mqtt-qos2/sqlite.js';
import { sqliteGbt32960Terminals, GBT32960_TERMINAL_MIGRATIONS } from '../gbt32960-terminals/sqlite.js';
import type { Sync } from './sync.js';

export const SQLITE_MIGRATIONS = [
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
  ...OEM_FEED_MIGRATIONS,
  ...SIGNING_KEY_MIGRATIONS,
  ...COMMAND_MIGRATIONS,
  ...COMMAND_APPROVAL_MIGRATIONS,
  ...OEM_MIGRATIONS,
  ...POLICY_VERSION_MIGRATIONS,
  ...OBJECTION_MIGRATIONS,
  ...ERASURE_MIGRATIONS,
  ...RETENTION_MIGRATIONS,
  ...WORKBENCH_MIGRATIONS,
  ...MQTT_QOS2_MIGRATIONS,
  ...GBT32960_TERMINAL_MIGRATIONS,
  ...POLICY_STATE_MIGRATIONS,
];

/**
 * The composed synchronous store, before it is lifted to the asynchronous interface. Retention
 * is asynchronous already: a sweep yields to the event loop between its batches.
 */
type SyncStore = Sync<Omit<Store, keyof RetentionStore>> &
  RetentionStore & {
    /** The Kafka relay's read of the rows it leased (a symbol: not lifted, not a Store method). */
    readonly [RELAY_ROWS]: (ids: readonly number[]) => OutboxRow[];
  };

/**
 * A synchronous call as a promise. A throw becomes a rejection (an async function cannot throw
 * synchronously), so callers handle every failure the same way, whatever the backend.
 */
const lift =
  <A extends unknown[], R>(f: (...args: A) => R) =>
  async (...args: A): Promise<R> =>
    f(...args);

/** Where a file store's own writer thread is reached from another thread (`writerPortOf`). */
const WRITER = Symbol('shekara.sqlite.writer');
/** Where a file store reads the rows its writer thread leased for the Kafka relay. */
const RELAY_ROWS = Symbol('shekara.sqlite.relay-rows');
/** How busy a file store's own writer thread is (`writerStatsOf`). */
const WRITER_STATS = Symbol('shekara.sqlite.writer.stats');
/** The file of a file store, for a thread that opens its own connection to it (`sqliteFileOf`). */
const FILE = Symbol('shekara.sqlite.file');

export interface SqliteStoreOptions {
  /**
   * Commit through this process's writer thread of the same file (another store's, in another
   * thread: the egress thread's store uses the main store's) instead of starting one.
   */
  readonly writer?: WriterLink;
}

export function openSqliteStore(file: string, opts: SqliteStoreOptions = {}): Store {
  const sync = openSync(file);
  const store = liftStore(sync);
  if (file === ':memory:') return store; // one connection only: no other thread can reach it
  // A file store commits ingest, settles delivery outcomes, leases and marks relayed rows on the
  // writer thread (ingest-writer.ts); every other write, and every read, stays on this connection.
  const own = opts.writer ? undefined : ingestWriterThread(file);
  const writer = own ?? writerClient(opts.writer!);
  const close = store.close;
  return Object.assign(store, {
    commitIngest: async (items: readonly IngestItem[]) => {
      if (items.length > 0) await writer.commit(items);
    },
    settleOutbox: async (items: readonly EgressSettlement[]) => {
      if (items.length > 0) await writer.settle(items);
    },
    markPublished: async (ids: readonly number[]) => {
      if (ids.length > 0) await writer.markPublished(ids);
    },
    // The Kafka relay's lease is a write too: on the writer, not on this connection under the lock.
    // The writer answers with the ids; the rows are read here, after its turn committed, so the
    // one writer of the file neither reads nor hands over their contents.
    leaseUnpublished: async (now: number, limit: number, leaseMs: number) =>
      sync[RELAY_ROWS](await writer.lease(now, limit, leaseMs)),
    ...(own ? { [WRITER]: () => own.connect(), [WRITER_STATS]: () => own.stats() } : {}),
    [FILE]: file,
    close: async () => {
      await writer.close();
      await close();
    },
  });
}

/**
 * A port to the writer thread of `store`, if it is a SQLite file store that runs its own: another
 * thread of this process passes it to `openSqliteStore(file, { writer })`, so the process has
 * ONE writer per file. Each call connects anew (a port is transferred once).
 */
export function writerPortOf(store: object): MessagePort | undefined {
  const connect = (store as unknown as { [WRITER]?: () => MessagePort })[WRITER];
  return connect?.();
}

/** The totals of `store`'s own writer thread (telemetry), if it is a SQLite file store that runs one. */
export function writerStatsOf(store: object): WriterStats | undefined {
  return (store as unknown as { [WRITER_STATS]?: () => WriterStats })[WRITER_STATS]?.();
}

/** The file of `store`, if it is a SQLite file store (not `:memory:`, not PostgreSQL). */
export function sqliteFileOf(store: object): string | undefined {
  return (store as unknown as { [FILE]?: string })[FILE];
}

/**
 * The asynchronous `Store` over the synchronous one: every method wrapped by `lift`. Complete by
 * construction: `openSync` must return a whole `Sync<Store>` (the compiler names any method an
 * area forgets), and this maps each of them. Each call still runs its statement (or whole
 * transaction) synchronously, at once: group commit stays one fsync.
 */
function liftStore(s: SyncStore): Store {
  const lifted: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(s) as [string, (...args: unknown[]) => unknown][])
    lifted[name] = lift(method);
  return lifted as unknown as Store;
}

function openSync(file: string): SyncStore {
  if (file !== ':memory:') {
    ensurePrivateDir(path.dirname(file), 'data directory');
    // An empty file is an empty database: created 0600 first, its WAL and SHM files (which
    // SQLite creates with the database's mode) are owner-only too.
    if (!existsSync(file)) writeFileSync(file, '', { mode: PRIVATE_FILE_MODE });
    makePrivate(file, `${file}-wal`, `${file}-shm`);
  }
  const db = openConnection(file, Database);
  try {
    migrate(db, SQLITE_MIGRATIONS);
  } catch (err) {
    db.close();
    throw err;
  }

  // Rowids renumbered under the VIN index's mark while no store was open (a VACUUM, a reload):
  // every record is indexed again before the first lookup (records/sqlite.ts, 0180).
  const vinMark = markOfVins(db);
  if (vinMark.read() === undefined)
    db.transaction(() => {
      if (vinMark.read() === undefined) vinMark.repair();
    })();

  const records = sqliteRecords(db);
  const outbox = sqliteOutbox(db);
  const audit = sqliteAudit(db);
  // The settler joins settleOutbox's transaction (sqliteEgressQueue); it is not a store method.
  const { settleLogged, ...egressLog } = sqliteEgressLog(db, outbox, audit);
  // The consent writer's grant/revoke join the owner API's logged changes; they are not store methods.
  const { grant, revoke, ...consent } = sqliteConsent(db);

  const { write: writeQos2, eraseVehicle: eraseQos2, ...qos2 } = sqliteMqttQos2(db);
  const { erasePolicyState, ...policyState } = sqlitePolicyState(db);
  const { eraseGbt32960Terminal, ...gbtTerminals } = sqliteGbt32960Terminals(db);
  const commitIngest = ingestTransaction(db, { records, outbox, qos2: { write: writeQos2 } });
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
    ...policyState,
    ...sqliteSecrets(db),
    ...consent,
    ...sqliteConsentRegistry(db, { consent: { grant, revoke }, outbox, audit }),
    ...sqliteObjections(db, { outbox, audit }),
    ...sqliteErasure(db, outbox, (vin) => {
      eraseQos2(vin);
      erasePolicyState(vin);
      eraseGbt32960Terminal(vin);
    }),
    ...qos2,
    ...gbtTerminals,
    ...sqliteRetention(db),
    ...sqliteOwnerReport(db),
    ...sqlitePolicyHistory(db),
    ...sqlitePolicyVersions(db),
    ...sqliteOems(db),
    getRecord: records.getRecord,
    recordVin: records.recordVin,
    listQuarantine: records.listQuarantine,
    leaseDueOutbox: outbox.leaseDueOutbox,
    nextDueAt: outbox.nextDueAt,
    dueOutboxHeads: outbox.dueOutboxHeads,
    projectionDecision: outbox.projectionDecision,
    ...egressLog,
    // One writer: each outcome is integrated (seq, leaf) in its own settle transaction, so
    // nothing is ever staged and the integration delay is 0.
    integrateEgressLog: () => ({ integrated: 0, oldestStagedAt: null, leader: true }),
    catchUpEgressLog: () => undefined,
    egressLogStaged: () => ({ staged: 0, oldestStagedAt: null }),
    ...sqliteEgressQueue(db, { settleLogged }, parkStatement(db)),
    [RELAY_ROWS]: sqliteRelayLease(db).rowsOf,
    ...audit,
    ...sqliteAuditQueries(db),
    ...sqliteApiKeys(db),
    ...sqliteOwnerBindings(db),
    ...sqliteOemFeed(db),
    ...sqliteSigningKeys(db),
    ...sqliteCommands(db, audit.appendAuditEvent),
    ...sqliteCommandApprovals(db, audit.appendAuditEvent),
    ...sqliteWorkbench(db, audit),
    commitIngest: (items) => {
      if (items.length > 0) commitIngest(items);
    },
    counts: () =>
      Object.fromEntries(Object.entries(counters).map(([k, stmt]) => [k, stmt.get() as number])) as ReturnType<
        SyncStore['counts']
      >,
    close: () => db.close(),
  };
}
