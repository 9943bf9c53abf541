/**
 * Benchmark (not a test): how late can a delivery arrive after an owner's revocation? Two cars
 * publish continuously (RATE messages/s each) while car 0's owner revokes the `speed` consent
 * through the owner API. Printed per run: the revocation's answer time, the queued deliveries it
 * blocked, the last `speed` delivery of car 0 relative to the answer, and how many arrived after
 * the answer. Each queue kind (local, Kafka) runs twice: while deliveries flow, and while a
 * backlog waits for an OEM that is down (it comes back OUTAGE_TAIL_MS after the answer).
 *
 *   SHEKARA_KAFKA_EXTERNAL=1 node --import tsx bench/revocation.ts
 *
 * Env: RATE (20), AFTER_MS (3000: publishing goes on at least this long after the answer),
 * QUEUES (local,kafka), SHEKARA_TEST_STORE=postgres (the gateway on the machine's PostgreSQL).
 * Kafka is the shared broker on 127.0.0.1:19092 (SHEKARA_KAFKA_PORT). docs/owner-api.md quotes
 * the figures. What revocation guarantees without a clock is tested in
 * test/api/api-owner-revocation.test.ts.
 */
import { loadavg } from 'node:os';
import { eventually } from '../test/helpers/wait.js';
import { KAFKA_BROKERS, uniquePrefix } from '../test/egress/helpers.js';
import { OWNER_POLICY, startOwnerGateway, type OwnerGateway } from '../test/api/owner-helpers.js';

const RATE = Number(process.env.RATE ?? 20);
const AFTER_MS = Number(process.env.AFTER_MS ?? 3_000);
const OUTAGE_TAIL_MS = 500;
const QUEUES = (process.env.QUEUES ?? 'local,kafka').split(',') as ('local' | 'kafka')[];

// Two purposes per record (speed, with consent; odometer, the control): each vehicle's
// deliveries go one at a time, in order, so fewer rows per message keep the queue short.
const POLICY = OWNER_POLICY.replace(/ {2}- id: battery-score[\s\S]*?(?= {2}- id: odometer)/, '');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function revokeWhilePublishing(o: OwnerGateway, kind: string, outage: boolean): Promise<void> {
  let publishing = true;
  let published = 0;
  const car = async (i: number) => {
    for (let next = Date.now(); publishing; next += 1_000 / RATE) {
      try {
        await o.publish(i, 1);
      } catch (err) {
        if (publishing) throw err;
      }
      published += 1;
      await sleep(Math.max(0, next + 1_000 / RATE - Date.now()));
    }
  };
  const cars = Promise.all([car(0), car(1)]);
  try {
    const before = o.delivered(0, 'speed').length;
    await eventually(() => o.delivered(0, 'speed').length >= before + RATE, 60_000, 'a second of speed deliveries');
    if (outage) {
      o.gw.sink.setStatus(503); // a backlog builds up behind the failing deliveries
      await sleep(1_000);
    }
    const asked = Date.now();
    const res = await o.owner<{ revoked: number; blockedPending: number }>(
      'DELETE',
      `/vehicles/${o.gw.cars[0]!.vin}/consents/speed`,
    );
    const answered = Date.now();
    if (res.status !== 200) throw new Error(`revocation answered ${res.status}`);
    if (outage) {
      await sleep(OUTAGE_TAIL_MS);
      o.gw.sink.setStatus(200);
    }
    // Publishing goes on at least AFTER_MS, and until the pipeline has visibly moved on past the
    // one-second mark, so a short gap cannot come from a stalled queue.
    const moved = (ds: { at: number }[]) => ds.filter((d) => d.at > answered + 1_000).length >= RATE;
    await eventually(
      () => moved(o.delivered(0, 'odometer')) && moved(o.delivered(1, 'speed')),
      60_000,
      'deliveries going on after the revocation',
    );
    await sleep(Math.max(0, answered + AFTER_MS - Date.now()));
    publishing = false;
    await cars;
    // Whatever was still on its way arrives: until the sink has heard nothing for 1.5 s.
    for (let seen = -1; seen !== o.gw.sink.deliveries.length;) {
      seen = o.gw.sink.deliveries.length;
      await sleep(1_500);
    }
    const speed = o.delivered(0, 'speed');
    const last = Math.max(...speed.map((d) => d.at));
    const after = speed.filter((d) => d.at > answered);
    console.log(
      `[${kind} queue${outage ? ', OEM down at revocation' : ''}] revocation answered in ${answered - asked} ms, ` +
        `${res.body.blockedPending} queued deliveries blocked by it; last speed delivery of the car ` +
        `${last - answered} ms after the answer; ${after.length} delivered after the answer ` +
        `(${published} messages published by the two cars)`,
    );
  } finally {
    publishing = false;
    await cars;
  }
}

console.log(
  `revocation bench: ${RATE} msg/s per car, store ${process.env.SHEKARA_TEST_STORE ?? 'sqlite'}, ` +
    `load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
);
for (const kind of QUEUES) {
  const o = await startOwnerGateway({
    cars: 2,
    policy: POLICY,
    config: {
      egress: {
        initialBackoffMs: 20,
        maxBackoffMs: 100,
        pollIntervalMs: 50,
        requestTimeoutMs: 2_000,
        breaker: { failureThreshold: 1_000, openMs: 100 },
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
      },
    },
  });
  try {
    for (const i of [0, 1]) {
      const g = await o.owner('POST', `/vehicles/${o.gw.cars[i]!.vin}/consents`, {
        token: o.tokens[i],
        body: { purpose: 'speed' },
      });
      if (g.status !== 201) throw new Error(`consent answered ${g.status}`);
    }
    await revokeWhilePublishing(o, kind, false);
    const g = await o.owner('POST', `/vehicles/${o.gw.cars[0]!.vin}/consents`, { body: { purpose: 'speed' } });
    if (g.status !== 201) throw new Error(`consent answered ${g.status}`);
    await revokeWhilePublishing(o, kind, true);
  } finally {
    await o.stop();
  }
}
console.log(
  `load after: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
