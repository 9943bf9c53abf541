/**
 * Must show, against a real Kafka broker and a real gateway process: the broker stopped and
 * restarted mid-stream. Ingest keeps acknowledging (the outbox is the buffer), the relay holds
 * the rows until Kafka acknowledges them, and egress resumes without loss; the egress log has one
 * `delivered` entry per projection the OEM got. Twice: one POST per record, and batched push
 * (oems[].batch).
 *
 * The broker stopped is the file's own (test/helpers/kafka-broker.ts: its own ports and data
 * dir), never the shared one on 19092, so this file runs beside the others.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { registerSimCars } from '../../src/sim/simulate.js';
import { startTestSink, type TestSink } from './helpers.js';
import {
  account,
  expectOneDeliveredEntryEach,
  kafkaQueue,
  Load,
  spawnEgressGateway,
  writeGatewayConfig,
} from './process.js';
import { killGateways } from '../helpers/gateway-process.js';
import { ownKafkaBroker, type OwnKafkaBroker } from '../helpers/kafka-broker.js';
import { whileProgressing } from '../helpers/wait.js';

let root: string;
let broker: OwnKafkaBroker;
beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'shekara-kafka-restart-'));
  broker = await ownKafkaBroker(root);
  await broker.start();
}, 330_000);
afterAll(async () => {
  await broker?.stop();
  rmSync(root, { recursive: true, force: true });
}, 60_000);

describe.each<[string, { batch?: { maxRecords: number; maxWaitMs: number } }]>([
  ['one POST per record', {}],
  ['batched push', { batch: { maxRecords: 16, maxWaitMs: 5 } }],
])('egress through Kafka (%s) › when the Kafka broker is stopped and restarted mid-stream', (name, oem) => {
  let dir: string;
  let sink: TestSink;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(root, 'gateway-'));
    sink = await startTestSink();
  });
  afterAll(async () => {
    await killGateways(); // also one still starting when the test timed out
    if (!broker.running) await broker.start(); // the next case finds it running
    await sink?.close();
  }, 330_000);

  it('keeps acknowledging cars, then delivers every acknowledged record, one log entry each', async () => {
    // Kafka requests (and POSTs) get 10 s, not 2: a broker just started, beside a busy suite, was
    // seen taking longer than 2 s to create the topics. Leases last at least 3 request timeouts.
    const egress = { queue: kafkaQueue(broker.brokers), requestTimeoutMs: 10_000, leaseMs: 30_000 };
    const config = writeGatewayConfig(dir, sink.url, egress, {}, oem);
    const store = openSqliteStore(path.join(dir, 'shekara.db'));
    const cars = await registerSimCars(store, 5, 'demo-oem', 'LKRST');
    await store.close();
    const gw = await spawnEgressGateway(config);
    const load = new Load();
    await load.start(gw.mqttPort, cars, 25); // 5 cars × 40 msg/s = 200 msg/s
    // Bounds on progress, not totals: this file runs beside others on a loaded machine.
    await whileProgressing(
      () => sink.hits.length > 100,
      () => sink.hits.length + load.acked.size,
      { stallMs: 30_000, maxMs: 120_000, what: 'deliveries before the outage' },
    );

    await broker.stop();
    const ackedAtStop = load.acked.size;
    const deliveredAtStop = sink.hits.length;
    // Ingest does not depend on Kafka: cars keep being acknowledged while the broker is down.
    await whileProgressing(
      () => load.acked.size > ackedAtStop + 100,
      () => load.acked.size,
      { stallMs: 30_000, maxMs: 60_000, what: 'acknowledgements while Kafka is down' },
    );
    await broker.start();
    // And after it is back, before the load stops (records produced to a fresh connection too).
    const ackedAtStart = load.acked.size;
    await whileProgressing(
      () => load.acked.size > ackedAtStart + 50,
      () => load.acked.size,
      { stallMs: 30_000, maxMs: 60_000, what: 'acknowledgements after the restart' },
    );
    await load.stop();

    // A record lost for good stops the deliveries; the backlog left by the outage is bounded by a stall.
    const result = await whileProgressing(
      () => {
        const r = account(load, sink.hits);
        return r.lost.length === 0 && r;
      },
      () => sink.hits.length,
      { stallMs: 60_000, maxMs: 180_000, what: 'every acknowledged record delivered after the broker restart' },
    ).catch(() => account(load, sink.hits));
    const largestPost = Math.max(1, ...sink.hits.map((h) => h.batchSize ?? 1));
    console.info(
      `Kafka restart (${name}): acked ${result.acked} (${ackedAtStop} before the stop), delivered ${result.delivered} (${deliveredAtStop} before the stop), lost ${result.lost.length}, duplicated ${result.duplicated}, largest POST ${largestPost} item(s)`,
    );
    // The batched case did send batches, or it would only repeat the other.
    expect(largestPost > 1).toBe(oem.batch !== undefined);
    expect(result.lost).toEqual([]);
    expect(result.unexpected).toEqual([]);
    expect(result.duplicatesWithOtherId).toEqual([]);
    await expectOneDeliveredEntryEach(path.join(dir, 'shekara.db'), sink.hits);
  }, 600_000);
});
