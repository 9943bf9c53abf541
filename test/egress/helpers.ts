/**
 * Egress test fixtures: a real SQLite store in a temp dir (test/helpers/temp-store.ts), rows
 * committed the way ingest commits them (record + projections in one transaction), a real HTTP
 * OEM sink, and a real Kafka broker (started by test/setup/kafka.ts). Each Kafka test uses its own topic prefix.
 */
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { stringify } from 'yaml';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import type { OutboxRow, Store } from '../../src/store/index.js';
import { uuidv7 } from '../../src/ids.js';
import type { Projection } from '../../src/record.js';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { afterEach } from 'vitest';
import { createEgress, type Egress, type EgressDeps } from '../../src/egress/index.js';
import { createLogger } from '../../src/log.js';
import { tempStore } from '../helpers/temp-store.js';
import { awaitTopicLeaders } from '../../src/egress/kafka-leaders.js';

// Re-exported so the egress tests keep one import line; the toolbox is test/helpers/.
export { eventually } from '../helpers/wait.js';
export { tempStore, type TempStore } from '../helpers/temp-store.js';

export const KAFKA_BROKERS = [`127.0.0.1:${process.env.SHEKARA_KAFKA_PORT ?? '19092'}`];
export type QueueKind = 'local' | 'kafka';

export const uniquePrefix = (): string => `t${randomBytes(4).toString('hex')}.`;

/** An outbox row as a queue hands it to the delivery worker: OEM `acme`, one vehicle, attempt 1. */
export const outboxRow = (id: number, body: string): OutboxRow => ({
  id,
  recordId: `0190b6c4-0000-7000-8000-${String(id).padStart(12, '0')}`,
  deliveryId: `d-${id}`,
  oem: 'acme',
  purpose: 'warranty',
  policyHash: 'sha256:abc',
  pseudonym: 'p-1',
  fieldsSent: ['Vehicle.Speed'],
  fieldsDropped: [],
  body,
  attempts: 0,
});

/** A validated config (defaults filled) with one OEM at `endpoint`. */
export function egressTestConfig(
  kind: QueueKind,
  endpoint: string,
  egress: Record<string, unknown> = {},
  oem: Record<string, unknown> = {},
): Readonly<Config> {
  return parseConfig(
    stringify({
      egress: {
        initialBackoffMs: 20,
        maxBackoffMs: 100,
        pollIntervalMs: 20,
        requestTimeoutMs: 2_000,
        maxAttempts: 50,
        breaker: { failureThreshold: 5, openMs: 200 },
        queue: {
          kind,
          kafka: {
            brokers: KAFKA_BROKERS,
            topicPrefix: uniquePrefix(),
            partitions: 3,
            maxWaitTimeMs: 50,
            relayLingerMs: 2,
          },
        },
        ...egress,
      },
      oems: [{ id: 'demo-oem', endpoint, policyFile: 'unused.yaml', allowPrivateNetworks: true, ...oem }],
      log: { level: 'silent' },
    }),
    'egress-test.yaml',
    tmpdir(),
    { env: {} },
  );
}

let vinSeq = 0;
/** Commits one record per (vehicle, seq) with one projection for demo-oem; returns the record ids in commit order. */
export async function commitRecords(
  store: Store,
  vehicles: number,
  perVehicle: number,
  opts: { vinPrefix?: string } = {},
): Promise<{ recordId: string; deliveryId: string; vehicle: string; seq: number }[]> {
  const out: { recordId: string; deliveryId: string; vehicle: string; seq: number }[] = [];
  const items = [];
  const base = (vinSeq += 1000);
  for (let s = 0; s < perVehicle; s++) {
    for (let v = 0; v < vehicles; v++) {
      const vin = `${opts.vinPrefix ?? 'LTEST'}${String(base + v).padStart(12, '0')}`;
      const at = Date.now();
      const id = uuidv7(at);
      const vehicle = `pseudo-${base + v}`;
      const projection: Projection = {
        recordId: id,
        deliveryId: `d_${id}`,
        oem: 'demo-oem',
        purpose: 'speed',
        policyHash: 'sha256:test',
        vehicle,
        observedAt: at,
        // The purpose names the VIN (pseudonymized): the body carries `vehicle`, by which
        // the per-vehicle checks group what the OEM received.
        signals: { 'Vehicle.Speed': s, 'Vehicle.VehicleIdentification.VIN': vehicle },
        fieldsSent: ['Vehicle.Speed', 'Vehicle.VehicleIdentification.VIN'],
        fieldsDropped: [],
      };
      items.push({
        kind: 'record' as const,
        record: {
          id,
          vin,
          oem: 'demo-oem',
          channel: 'mqtt' as const,
          receivedAt: at,
          observedAt: at,
          signals: { 'Vehicle.Speed': s },
          account: {},
          unknownKeys: [],
        },
        raw: Buffer.from('{}'),
        projections: [projection],
      });
      out.push({ recordId: id, deliveryId: projection.deliveryId, vehicle, seq: s });
    }
  }
  await store.commitIngest(items);
  return out;
}

/**
 * A real Kafka client on the test broker with fresh topics (`{name, partitions}`) and a connected
 * idempotent producer, as the gateway's relay uses one; `close` disconnects it.
 */
export async function kafkaFixture(
  clientId: string,
  topics: readonly { topic: string; numPartitions: number }[],
): Promise<{ kafka: Kafka; producer: Producer; close(): Promise<void> }> {
  const kafka = new Kafka({ clientId, brokers: KAFKA_BROKERS, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  // kafkajs's own wait for leaders gives up on UNKNOWN_TOPIC_OR_PARTITION on a busy broker.
  await admin.createTopics({ waitForLeaders: false, topics: [...topics] });
  await awaitTopicLeaders(
    admin,
    topics.map((t) => t.topic),
    { timeoutMs: 30_000, log: createLogger('silent') },
  );
  await admin.disconnect();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  return { kafka, producer, close: () => producer.disconnect() };
}

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BATCH_CONTENT_TYPE } from '../../src/egress/batch.js';

export interface SinkHit {
  readonly raw: string;
  readonly body: { deliveryId: string; vehicle: string; signals: Record<string, unknown> };
  readonly headers: Record<string, string | string[] | undefined>;
  /** Items in the POST that carried it (batched push only). */
  readonly batchSize?: number;
}
export interface TestSink {
  readonly url: string;
  readonly hits: SinkHit[];
  status: number;
  connections: number;
  /** HTTP requests answered 200 (a batch is one). */
  posts: number;
  /** When set, the status for the n-th request (0-based; every request counts), overriding `status`. */
  answer?: (n: number) => number;
  /** The raw bodies of the requests answered other than 200, in order. */
  refused: string[];
  close(): Promise<void>;
}

/** A real HTTP OEM endpoint on a loopback port that keeps the raw body and every header. */
export async function startTestSink(): Promise<TestSink> {
  const hits: SinkHit[] = [];
  const sink = { hits, status: 200, connections: 0, posts: 0, refused: [] } as Omit<TestSink, 'url' | 'close'>;
  let requests = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const status = sink.answer?.(requests++) ?? sink.status;
      if (status !== 200) {
        sink.refused.push(raw);
        res.writeHead(status).end();
        return;
      }
      sink.posts += 1;
      // A batched push is one hit per item, each with the item's own idempotency id; raw stays
      // the whole signed POST body, so every hit's signature can be checked.
      if (req.headers['content-type'] === BATCH_CONTENT_TYPE) {
        const batch = JSON.parse(raw) as {
          items: { idempotencyKey: string; deliveryId: string; body: SinkHit['body'] }[];
        };
        for (const it of batch.items)
          hits.push({
            raw,
            body: it.body,
            headers: { ...req.headers, 'idempotency-key': it.idempotencyKey, 'shekara-delivery-id': it.deliveryId },
            batchSize: batch.items.length,
          });
      } else hits.push({ raw, body: JSON.parse(raw), headers: req.headers });
      res.writeHead(200).end('{"ok":true}');
    });
  });
  server.on('connection', () => {
    sink.connections += 1;
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(sink, {
    url: `http://127.0.0.1:${port}/oem/telemetry`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  });
}

/** Egress running against a store and a real HTTP OEM sink (demo-oem's endpoint). */
export interface EgressRig {
  readonly store: Store;
  readonly sink: TestSink;
  readonly egress: Egress;
  readonly config: Readonly<Config>;
}

export interface EgressRigOptions {
  /** Overrides of the egress config (egressTestConfig's defaults). */
  readonly egress?: Record<string, unknown>;
  /** Overrides of demo-oem's config (endpoint: the sink). */
  readonly oem?: Record<string, unknown>;
  /** Overrides of createEgress's deps: consent always yes, the config's OEMs (`oems: []`: none yet), silent log. */
  readonly deps?: Partial<EgressDeps>;
  /** The store to deliver from (the caller's to close); default: a fresh temp store. */
  readonly store?: Store;
}

/**
 * Per test of a describe block: `start` registers demo-oem at a real HTTP sink and starts egress
 * (`kind` queue) on a store; `sink` starts the sink ahead, for a test that sets its answers before
 * egress runs. After each test the egress is closed first (nothing in flight to a closed sink or
 * store), then the sink, then the temp store if the rig made it.
 */
export function useEgressRig(kind: QueueKind = 'local'): {
  sink(): Promise<TestSink>;
  start(o?: EgressRigOptions): Promise<EgressRig>;
} {
  let open: { egress?: Egress; sink?: TestSink; dispose?: () => Promise<void> } = {};
  afterEach(async () => {
    const { egress, sink, dispose } = open;
    open = {};
    await egress?.close();
    await sink?.close();
    await dispose?.();
  });
  const sink = async () => (open.sink ??= await startTestSink());
  return {
    sink,
    async start(o = {}) {
      const ts = o.store ? undefined : tempStore();
      const store = o.store ?? ts!.store;
      open.dispose = ts?.dispose;
      const config = egressTestConfig(kind, (await sink()).url, o.egress, o.oem);
      const egress = await createEgress(config.egress, {
        store,
        oems: config.oems,
        isStillAllowed: async () => true,
        log: createLogger('silent'),
        ...o.deps,
      });
      open.egress = egress;
      return { store, sink: open.sink!, egress, config };
    },
  };
}
