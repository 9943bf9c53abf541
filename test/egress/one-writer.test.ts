/**
 * A gateway on a SQLite file has ONE writer per file: the egress thread settles its outcomes
 * through the main store's writer thread (a port to it, src/egress/thread.ts), never on a
 * connection or writer thread of its own. Shown on the file itself: an outcome the egress thread
 * settles and a record ingest commits while the writer waits for the lock are ONE transaction
 * in the WAL. An egress thread with a writer of its own would wait for the lock beside the main
 * store's writer, and the two would commit one after the other: two transactions.
 */
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { Worker, getEnvironmentData } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '../../src/ids.js';
import { writeLock } from '../../src/store/sqlite/write-lock.js';
import type { IngestItem } from '../../src/store/index.js';
import { telemetryTopic } from '../../src/ingest/index.js';
import { ONE_PURPOSE_POLICY, eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { walCommits } from '../helpers/wal.js';

/**
 * An OEM in a worker thread of its own, holding every answer until told: it can answer while
 * the test's thread (the gateway's main thread) is blocked holding the write lock.
 */
const OEM_THREAD = `
const { parentPort } = require('node:worker_threads');
const http = require('node:http');
const held = [];
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => { held.push(res); parentPort.postMessage({ t: 'request' }); });
});
server.listen(0, '127.0.0.1', () => parentPort.postMessage({ t: 'port', port: server.address().port }));
parentPort.on('message', (m) => {
  if (m === 'answer') for (const res of held.splice(0)) res.writeHead(200).end('{"ok":true}');
  if (m === 'close') { server.closeAllConnections(); server.close(() => parentPort.close()); }
});`;

async function startOemThread() {
  const w = new Worker(OEM_THREAD, { eval: true });
  let requests = 0;
  const port = await new Promise<number>((resolve, reject) => {
    w.on('message', (m: { t: string; port?: number }) => {
      if (m.t === 'port') resolve(m.port!);
      if (m.t === 'request') requests += 1;
    });
    w.once('error', reject);
  });
  return {
    url: `http://127.0.0.1:${port}/oem/telemetry`,
    requests: () => requests,
    answer: () => w.postMessage('answer'),
    close: async () => {
      w.postMessage('close');
      await new Promise((r) => w.once('exit', r));
    },
  };
}

/** Threads of this process sleeping for the file's write lock (the lock's shared cells, write-lock.ts). */
function lockWaiters(file: string): Int32Array {
  const sab = getEnvironmentData(`shekara.sqlite.writeLock:${realpathSync(file)}`) as SharedArrayBuffer;
  return new Int32Array(sab);
}
const WAITERS = 1;

/** A record with nothing to deliver: an ingest commit of the main store and nothing else. */
const recordOnly = (): IngestItem => {
  const at = Date.now();
  return {
    kind: 'record',
    record: {
      id: uuidv7(at),
      vin: 'LTEST000000000001',
      oem: 'demo-oem',
      channel: 'mqtt',
      receivedAt: at,
      observedAt: at,
      signals: { 'Vehicle.Speed': 1 },
      account: {},
      unknownKeys: [],
    },
    raw: Buffer.from('{}'),
    projections: [],
  };
};

describe('egress thread › one writer per SQLite file', () => {
  let gw: TestGateway | undefined;
  let oem: Awaited<ReturnType<typeof startOemThread>> | undefined;
  afterAll(async () => {
    await gw?.stop();
    await oem?.close();
  });

  it("settles the egress thread's outcomes in the main store writer's transactions", async () => {
    oem = await startOemThread();
    gw = await startTestGateway({
      store: 'sqlite',
      policy: ONE_PURPOSE_POLICY, // one record: one projection, one POST, one outcome
      oem: { endpoint: oem.url },
      // Nothing else writes meanwhile: no checkpoint is signed during the test.
      config: { audit: { checkpointIntervalMs: 3_600_000 } },
    });
    const { app } = gw;
    expect(app.egress.runsIn).toBe('thread');
    const file = path.join(gw.dir, 'shekara.db');

    // A car's record: one projection on the wire; the OEM holds its answer.
    const car = gw.cars[0]!;
    const client = await gw.connect(car);
    await client.publishAsync(telemetryTopic(car.vin), JSON.stringify({ speed: 42 }), { qos: 1 });
    await eventually(() => oem!.requests() === 1, 20_000, 'the POST at the OEM');
    const delivered = async () => (await app.store.listEgressLog({})).some((e) => e.outcome === 'delivered');
    expect(await delivered()).toBe(false);

    const before = walCommits(file);
    const waiters = lockWaiters(file);
    let ingested: Promise<void> | undefined;
    let waited = false;
    // This thread holds the lock (and is blocked: nothing of the main thread runs meanwhile).
    writeLock(file, 10_000).hold(() => {
      oem!.answer();
      // The egress thread gets the 2xx and hands the outcome over; whichever thread commits it
      // now sleeps for the lock.
      const until = Date.now() + 10_000;
      while (Atomics.load(waiters, WAITERS) === 0 && Date.now() < until) Atomics.wait(waiters, WAITERS, 0, 10);
      waited = Atomics.load(waiters, WAITERS) > 0;
      // An ingest commit handed over while it sleeps: to the main store's writer.
      ingested = app.store.commitIngest([recordOnly()]);
    });
    expect(waited).toBe(true);
    await ingested;
    await eventually(delivered, 10_000, 'the outcome settled');

    const after = walCommits(file);
    expect(after.salt).toBe(before.salt); // one WAL generation: no checkpoint restarted it meanwhile
    // The outcome and the record: one transaction (one fsync), on the one writer.
    expect(after.commits - before.commits).toBe(1);
  }, 60_000);
});
