/**
 * Scale-out with the real parts: two gateway PROCESSES (`shekara start`, the built CLI)
 * on one PostgreSQL schema, egress through one real Kafka broker, real MQTT cars split across
 * them, a real HTTP server as the OEM. What an operator and a regulator would check:
 * - the load is shared: both instances take cars' records, the OEM's consumer group splits the
 *   topic's partitions between the two (one member each), and both send deliveries;
 * - every record a car got a PUBACK for reaches the OEM exactly once per approved projection, and
 *   the egress log (read through the regulator API) has one 'delivered' entry per projection,
 *   consecutive seq and leaf indexes, no record id twice; every body verifies with the one signing key;
 * - one instance stopped with SIGTERM in the middle of a stream of publishes loses nothing
 *   acknowledged: its cars reconnect to the other, which takes over its partitions;
 * - with the stopped one back, one instance killed with SIGKILL in the middle of a stream, while
 *   the OEM holds one of its deliveries unanswered (no shutdown: HTTP requests in flight, outbox
 *   rows leased, Kafka offsets not committed), loses
 *   nothing acknowledged either: each approved projection reaches the OEM at least once, a repeat
 *   carries the first one's Idempotency-Key, record id and body (at-least-once, docs/egress.md),
 *   the egress log still has exactly one 'delivered' entry per projection, the audit tree after the
 *   crash verifies offline (`shekara verify`) as consistent with a checkpoint signed before it, and
 *   the survivor ends up holding every partition.
 * Needs the build (`npx tsc -p tsconfig.build.json`), PostgreSQL on 127.0.0.1:5432 and the Kafka
 * of vitest's global setup. Per-instance numbers are printed for the record.
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AssignerProtocol, Kafka, logLevel, type Admin } from 'kafkajs';
import mqtt, { type MqttClient } from 'mqtt';
import pg from 'pg';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../src/ingest/index.js';
import { openPostgresStore } from '../../src/store/pg/index.js';
import { registerSimCars } from '../../src/sim/simulate.js';
import { newCar, nextTelemetry, type SimCar } from '../../src/sim/telemetry.js';
import { verifySignature } from '../../src/egress/sign.js';
import { KAFKA_BROKERS } from '../egress/helpers.js';
import { eventually } from '../helpers/gateway.js';
import { whileOutboxSettles, whileProgressing } from '../helpers/wait.js';
import { freePort } from '../helpers/net.js';
import { runProcess } from '../helpers/run.js';
import {
  killGateways,
  spawnGateway,
  startAttributingOem,
  type AttributedDelivery,
  type AttributingOem,
  type GatewayProcess,
} from '../helpers/gateway-process.js';

const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';
const RUN = `${process.pid}_${randomBytes(3).toString('hex')}`;
const PARTITIONS = 6;
// 12 cars keyed over 6 partitions: the chance that all of them hash into one member's half is 2^-11.
const CARS = 12;
const PHASE1_MESSAGES = 10;
// examples/policies/demo-oem.yaml has two purposes and every simulated record carries fields of both.
const PURPOSES = ['battery-warranty', 'fleet-speed-profile'];
/**
 * How long an instance waits for the OEM's answer (egress.requestTimeoutMs). A POST answered later
 * is a failed attempt and is sent again: a second delivery, which the phases without a crash do not
 * allow. The OEM answers at once, but beside other files a starved gateway or test process takes
 * seconds to read the answer: beside two busy loops and another file, with 2 s the OEM got 18 of 240
 * phase-1 deliveries twice at load 20, with 8 s 8 of phase 2's at load 23.
 */
const REQUEST_TIMEOUT_MS = 20_000;
/**
 * The relays' outbox lease (egress.leaseMs; 30 s by default; at least 3 × requestTimeoutMs,
 * src/egress/queue.ts): rows the killed instance had leased are published again by the survivor
 * after it. A lease that ends under a live relay only makes a second copy on the topic, which the
 * consumer skips (the row is settled, src/egress/kafka-consumer.ts).
 */
const RELAY_LEASE_MS = 3 * REQUEST_TIMEOUT_MS;
/**
 * The bounds of the steps. None is a total that the machine's load can run out: a gateway's start
 * fails once the process has used no CPU and written nothing for START_STALL_MS (a start starved
 * of CPU beside other files still moves), and a wait on the cars, the OEM or the outbox fails once
 * its count (PUBACKs, deliveries, rows left to settle) has not moved for STALL_MS. Both are
 * beyond what a step takes when nothing is wrong (the settling after the SIGKILL waits 6 s for the
 * session timeout and up to RELAY_LEASE_MS for a's leases, with nothing moving), and a record lost for
 * good stops the count. MAX_MS only keeps a run from hanging. The consumer group's moves have no
 * count to follow (a member joins after the broker's session timeout and a rebalance): GROUP_MS.
 * The tests' own timeouts (900 s) are above all of these: the steps bound the wait, not vitest.
 */
const START_STALL_MS = 30_000;
const STALL_MS = 90_000;
const MAX_MS = 600_000;
const GROUP_MS = 120_000;

type Phase = 1 | 2 | 3;
interface Ack {
  readonly probe: string;
  readonly instance: string;
  readonly phase: Phase;
}
interface LogEntry {
  readonly seq: number;
  readonly leafIndex: number;
  readonly recordId: string;
  readonly purpose: string;
  readonly outcome: string;
}
interface Car {
  readonly vin: string;
  readonly secret: string;
  readonly sim: SimCar;
}

/**
 * Every case twice: one POST per projection, and batched push (oems[].batch), where the SIGKILL
 * lands on a POST of several items. Each run on a schema and topics of its own.
 */
describe.each<[string, { batch?: { maxRecords: number; maxWaitMs: number } }]>([
  ['one POST per projection', {}],
  ['batched push', { batch: { maxRecords: 16, maxWaitMs: 5 } }],
])('scale-out (%s) › two gateway processes on one PostgreSQL and one Kafka', (_, batching) => {
  const run = `${RUN}_${batching.batch ? 'b' : 's'}`;
  const SCHEMA = `shk_scale_${run}`;
  const TOPIC_PREFIX = `shk-scale-${run}.`;
  const GROUP = `${TOPIC_PREFIX}egress.demo-oem`;
  const TOPIC = `${TOPIC_PREFIX}egress.demo-oem`;
  let dir: string;
  let oem: AttributingOem;
  let db: pg.Client;
  let admin: Admin;
  let cars: Car[];
  let regulatorKey: string;
  let signingKey: Buffer;
  let a: GatewayProcess;
  let b: GatewayProcess;
  /** Every process started, and the ones the test killed on purpose (no exit code to expect of them). */
  const started: GatewayProcess[] = [];
  const killed = new Set<GatewayProcess>();
  const acks: Ack[] = [];
  const q = (table: string) => `"${SCHEMA}".${table}`;

  const writeConfig = (name: string, ports: { mqtt: number; http: number }) => {
    mkdirSync(path.join(dir, name), { recursive: true, mode: 0o700 }); // a restarted instance keeps its directory
    const file = path.join(dir, name, 'shekara.yaml');
    writeFileSync(
      file,
      stringify({
        dataDir: '.',
        // Instances sharing a store share its key file.
        keys: { dir: path.join(dir, 'keys') },
        mqtt: { host: '127.0.0.1', port: ports.mqtt },
        http: { host: '127.0.0.1', port: ports.http },
        limits: { messagesPerSecond: 10_000, messageBurst: 10_000 },
        store: { kind: 'postgres', url: PG_URL, schema: SCHEMA, poolSize: 4 },
        egress: {
          initialBackoffMs: 50,
          maxBackoffMs: 500,
          pollIntervalMs: 50,
          requestTimeoutMs: REQUEST_TIMEOUT_MS,
          leaseMs: RELAY_LEASE_MS,
          queue: {
            kind: 'kafka',
            kafka: {
              brokers: KAFKA_BROKERS,
              clientId: `shekara-${name}`,
              topicPrefix: TOPIC_PREFIX,
              partitions: PARTITIONS,
              sessionTimeoutMs: 6_000,
              startTimeoutMs: 120_000,
            },
          },
        },
        audit: { checkpointIntervalMs: 500 },
        oems: [
          {
            id: 'demo-oem',
            endpoint: `http://127.0.0.1:${oem.port}/oem/telemetry`,
            policyFile: '../demo-oem.yaml',
            allowPrivateNetworks: true,
            ...batching,
          },
        ],
        log: { level: 'warn' },
        shutdownTimeoutMs: 60_000,
      }),
    );
    return file;
  };

  const start = async (name: string) => {
    const ports = { mqtt: await freePort(), http: await freePort() };
    const g = await spawnGateway(name, writeConfig(name, ports), ports, MAX_MS, START_STALL_MS);
    oem.knowProcess(g.pid, name);
    started.push(g);
    return g;
  };

  /** The OEM consumer group as the broker sees it: member client id → partitions it holds. */
  const assignment = async (): Promise<Map<string, number[]> | undefined> => {
    const {
      groups: [group],
    } = await admin.describeGroups([GROUP]);
    if (!group || group.state !== 'Stable') return undefined;
    const byMember = new Map<string, number[]>();
    for (const m of group.members) {
      const decoded = AssignerProtocol.MemberAssignment.decode(m.memberAssignment);
      byMember.set(
        m.clientId,
        [...(decoded?.assignment[TOPIC] ?? [])].sort((x, y) => x - y),
      );
    }
    return byMember;
  };

  const connect = async (on: GatewayProcess, car: Car): Promise<MqttClient> => {
    const client = await mqtt.connectAsync(on.mqttUrl, {
      clientId: car.vin,
      username: car.vin,
      password: car.secret,
      protocolVersion: 4,
      keepalive: 30,
      reconnectPeriod: 0,
      connectTimeout: 30_000, // a gateway starved of CPU answers late, not never
    });
    client.on('error', () => undefined); // a reset when the instance stops: seen as 'close' below
    return client;
  };

  /** One QoS 1 publish: true once its PUBACK came, false if the connection closed first. */
  const publish = (client: MqttClient, car: Car, probe: string): Promise<boolean> =>
    new Promise((resolve) => {
      if (!client.connected) return resolve(false);
      const closed = () => resolve(false);
      client.once('close', closed);
      client
        .publishAsync(telemetryTopic(car.vin), JSON.stringify({ ...nextTelemetry(car.sim, Date.now()), probe }), {
          qos: 1,
        })
        .then(
          () => resolve(true),
          () => resolve(false),
        )
        .finally(() => client.off('close', closed));
    });

  /**
   * Every car publishing a stream (a message each 20 ms), even cars on a, odd on b, until stopped.
   * A publish that gets no PUBACK because its instance went away is not counted: the car keeps it
   * unacknowledged and reconnects to the other instance, as through a load balancer.
   */
  const stream = (phase: Phase) => {
    let stopping = false;
    let reconnected = 0;
    const drive = async (car: Car, first: GatewayProcess) => {
      let on = first;
      let client = await connect(on, car);
      for (let m = 0; !stopping; m++) {
        const probe = `${phase}:${car.vin}:${m}`;
        if (await publish(client, car, probe)) {
          acks.push({ probe, instance: on.name, phase });
          await new Promise((r) => setTimeout(r, 20));
          continue;
        }
        client.end(true);
        on = on === b ? a : b;
        client = await connect(on, car);
        reconnected += 1;
      }
      await client.endAsync();
    };
    const driving = Promise.all(cars.map((car, i) => drive(car, i % 2 === 0 ? a : b)));
    return {
      acked: (name: string) => acks.filter((x) => x.phase === phase && x.instance === name).length,
      /** Stops the cars; resolves to how many reconnected to the other instance. */
      async stop() {
        stopping = true;
        await driving;
        return reconnected;
      },
    };
  };

  /** Waits for `done` while the cars' PUBACKs keep coming (a stream's acknowledgements are its progress). */
  const whileAcking = (done: () => boolean, what: string) =>
    whileProgressing(done, () => acks.length, { stallMs: STALL_MS, maxMs: MAX_MS, what });

  /** Waits until every outbox row is settled, then reads what the OEM was meant to get and what it got. */
  const settledState = async () => {
    // Rows settling or deliveries arriving (a row settles after its delivery): either is progress.
    await whileOutboxSettles(db, q('egress_outbox'), {
      stallMs: STALL_MS,
      maxMs: MAX_MS,
      alsoProgress: () => oem.deliveries.length,
    }).catch(async (err: Error) => {
      // What was left, and what the instances said: a stall names its cause.
      const { rows } = await db.query<{ status: string; leased: boolean; n: string }>(
        `SELECT status, lease_until > $1 AS leased, next_attempt_at > $1 AS retrying, attempts > 0 AS tried, count(*) AS n FROM ${q('egress_outbox')}
          WHERE status IN ('pending', 'published') GROUP BY 1, 2, 3, 4`,
        [Date.now()],
      );
      const logs = started.filter((g) => !killed.has(g)).map((g) => `--- ${g.name} (pid ${g.pid}):\n${g.log()}`);
      throw new Error(
        `${err.message}; left: ${JSON.stringify(rows)}; group: ${JSON.stringify([...((await assignment()) ?? [])])}\n${logs.join('\n')}`,
      );
    });
    const records = (
      await db.query<{ id: string; probe: string }>(
        `SELECT id, convert_from(raw, 'UTF8')::jsonb->>'probe' AS probe FROM ${q('records')}`,
      )
    ).rows;
    const projections = (
      await db.query<{ record_id: string; delivery_id: string; purpose: string; status: string }>(
        `SELECT record_id, delivery_id, purpose, status FROM ${q('egress_outbox')}`,
      )
    ).rows;
    return { records, projections };
  };

  /** The checks a user makes after a run: nothing acknowledged lost, each projection delivered once. */
  /**
   * Waits until every outbox row is settled, then checks the store and the OEM's signatures: every
   * acknowledged publish is one stored record with one projection per purpose, every projection delivered.
   */
  const expectNothingLost = async () => {
    const { records, projections } = await settledState();
    const recordsOfProbe = new Map<string, string[]>();
    for (const r of records) recordsOfProbe.set(r.probe, [...(recordsOfProbe.get(r.probe) ?? []), r.id]);
    const lost = acks.filter((x) => recordsOfProbe.get(x.probe)?.length !== 1);
    expect({ acknowledged: acks.length, lostOrDuplicated: lost.map((x) => x.probe) }).toEqual({
      acknowledged: acks.length,
      lostOrDuplicated: [],
    });
    const ackedRecords = new Set(acks.map((x) => recordsOfProbe.get(x.probe)![0]!));
    expect(projections.filter((p) => ackedRecords.has(p.record_id))).toHaveLength(ackedRecords.size * PURPOSES.length);
    expect(projections.filter((p) => p.status !== 'delivered')).toEqual([]);
    // Both instances sign with the one key the operator handed to the OEM.
    expect(
      oem.deliveries
        .filter((d) => !verifySignature(signingKey, d.raw, d.signature, d.receivedAt))
        .map((d) => `${d.deliveryId} from ${d.sentBy}`),
    ).toEqual([]);
    return { records, projections };
  };

  const expectExactlyOnce = async () => {
    const { records, projections } = await expectNothingLost();
    const approved = projections.map((p) => p.delivery_id).sort();
    // At the OEM: each approved projection once, nothing else.
    const delivered = oem.deliveries.map((d) => d.deliveryId).sort();
    const twice = delivered.filter((k, i) => delivered[i - 1] === k);
    expect(twice).toEqual([]);
    expect(delivered).toEqual(approved);
    return { records: records.length, projections: projections.length };
  };

  /**
   * The checks after a crash, at-least-once (docs/egress.md): nothing acknowledged lost, every
   * approved projection at the OEM, nothing else; a projection the OEM got more than once came
   * every time with the same Idempotency-Key, delivery id and body, so the OEM can drop the repeat.
   */
  const expectAtLeastOnce = async () => {
    const { records, projections } = await expectNothingLost();
    // The OEM keys a delivery by its headers: they name the projection in the body, on every copy.
    expect(
      oem.deliveries
        .filter((d) => d.idempotencyKey !== d.deliveryId || d.deliveryIdHeader !== d.deliveryId)
        .map((d) => `${d.deliveryId} came as ${d.idempotencyKey} / ${d.deliveryIdHeader}`),
    ).toEqual([]);
    const copies = new Map<string, AttributedDelivery[]>();
    for (const d of oem.deliveries) copies.set(d.deliveryId, [...(copies.get(d.deliveryId) ?? []), d]);
    const repeats = [...copies.values()].filter((c) => c.length > 1);
    expect(
      repeats.flatMap(([first, ...rest]) =>
        rest
          .filter(
            (d) =>
              d.idempotencyKey !== first!.idempotencyKey ||
              d.deliveryIdHeader !== first!.deliveryIdHeader ||
              d.body !== first!.body,
          )
          .map(
            (d) => `${first!.idempotencyKey}: a repeat from ${d.sentBy} differs from the first from ${first!.sentBy}`,
          ),
      ),
    ).toEqual([]);
    expect([...copies.keys()].sort()).toEqual(projections.map((p) => p.delivery_id).sort());
    return { records: records.length, projections: projections.length, repeats };
  };

  /** The egress log as a regulator reads it: one 'delivered' entry per projection in the outbox, consecutive seq and leaves. */
  const expectOneLogEntryPerProjection = async (via: GatewayProcess): Promise<LogEntry[]> => {
    const res = await fetch(`${via.httpUrl}/regulator/v1/entries/export?format=ndjson`, {
      headers: { authorization: `Bearer ${regulatorKey}` },
    });
    expect(res.status).toBe(200);
    const entries = (await res.text())
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as LogEntry);
    const { rows: projections } = await db.query<{ record_id: string; purpose: string }>(
      `SELECT record_id, purpose FROM ${q('egress_outbox')}`,
    );
    expect(entries.filter((e) => e.outcome !== 'delivered')).toEqual([]);
    expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i + 1));
    // Leaves rise with seq, one each. Not consecutive: other leaf kinds share the tree (an `access`
    // leaf for each regulator request that reads the log, such as this export); `shekara verify`
    // below checks the whole tree.
    const leaves = entries.map((e) => e.leafIndex);
    expect(leaves.filter((l, i) => i > 0 && l <= leaves[i - 1]!)).toEqual([]);
    const keys = entries.map((e) => `${e.recordId}/${e.purpose}`).sort();
    expect(keys.filter((k, i) => keys[i - 1] === k)).toEqual([]);
    expect(keys).toEqual(projections.map((p) => `${p.record_id}/${p.purpose}`).sort());
    return entries;
  };

  const regulator = async <T>(via: GatewayProcess, route: string): Promise<T> => {
    const res = await fetch(`${via.httpUrl}/regulator/v1${route}`, {
      headers: { authorization: `Bearer ${regulatorKey}` },
    });
    expect(res.status).toBe(200);
    return (await res.json()) as T;
  };

  /** Messages the relays put on the OEM's topic (at least once: a re-publish after a crash is allowed, the consumer skips it). */
  const topicMessages = async () =>
    (await admin.fetchTopicOffsets(TOPIC)).reduce((n, p) => n + Number(p.high) - Number(p.low), 0);

  const perInstance = (phase: Phase) => {
    const count = (name: string) => acks.filter((x) => x.phase === phase && x.instance === name).length;
    return { a: count('a'), b: count('b') };
  };
  const deliveriesBy = () => {
    const out: Record<string, number> = {};
    for (const d of oem.deliveries) out[d.sentBy] = (out[d.sentBy] ?? 0) + 1;
    return out;
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'shekara-scale-'));
    copyFileSync('examples/policies/demo-oem.yaml', path.join(dir, 'demo-oem.yaml'));
    oem = await startAttributingOem();
    db = new pg.Client({ connectionString: PG_URL });
    await db.connect();
    admin = new Kafka({ clientId: 'scale-out-test', brokers: KAFKA_BROKERS, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    // The operator's part, on the shared store: vehicles and the regulator's key.
    const store = await openPostgresStore({ url: PG_URL, schema: SCHEMA, poolSize: 2 });
    const creds = await registerSimCars(store, CARS, 'demo-oem', 'LSCAL');
    cars = creds.map((c, i) => ({ ...c, sim: newCar(c.vin, i) }));
    regulatorKey = (await store.createApiKey({ role: 'regulator', label: 'scale-out test', now: Date.now() })).key;
    await store.close();
    // Both at once, as a rollout starts replicas: the migrations are already applied, the OEM seeding races.
    [a, b] = await Promise.all([start('a'), start('b')]);
    // The body-signing key, generated into the shared store by whichever started first, as the operator reads it for the OEM.
    // Not synchronous: beside other files a CLI start can take seconds, and it would hold up vitest's RPC.
    const printed = await runProcess(process.execPath, [
      'bin/shekara.js',
      'oem',
      'signing-key',
      '--oem',
      'demo-oem',
      '-c',
      path.join(dir, 'b', 'shekara.yaml'),
    ]);
    expect(printed.status, printed.stderr).toBe(0);
    signingKey = Buffer.from(printed.stdout.trim(), 'base64url');
  }, 900_000);

  afterAll(async () => {
    const running = started.filter((g) => !killed.has(g));
    const codes = await Promise.all(running.map((g) => g.stop()));
    if (codes.some((c) => c !== 0))
      console.error(
        `gateway exit codes ${JSON.stringify(codes)}\n${running.map((g) => `--- ${g.name} (pid ${g.pid}):\n${g.log()}`).join('\n')}`,
      );
    await killGateways(); // one still starting when a step timed out is not in `started`
    await oem?.close();
    await admin?.deleteTopics({ topics: [TOPIC, `${TOPIC}.dlq`] }).catch(() => undefined);
    await admin?.disconnect();
    await db?.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
    await db?.end();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, MAX_MS);

  it('shares the load: both instances take records, split the partitions and deliver', async () => {
    // Kafka's share: one consumer group per OEM; each member holds some of the topic's partitions.
    const split = await eventually(
      async () => {
        const m = await assignment();
        return m && m.size === 2 && [...m.values()].every((p) => p.length > 0) ? m : undefined;
      },
      GROUP_MS,
      'both instances in the OEM consumer group, each with partitions',
    );
    expect([...split.values()].flat().sort((x, y) => x - y)).toEqual([...Array(PARTITIONS).keys()]);

    // Half the cars on each instance, as a load balancer spreads connections.
    await Promise.all(
      cars.map(async (car, i) => {
        const on = i % 2 === 0 ? a : b;
        const client = await connect(on, car);
        for (let m = 0; m < PHASE1_MESSAGES; m++) {
          const probe = `1:${car.vin}:${m}`;
          if (await publish(client, car, probe)) acks.push({ probe, instance: on.name, phase: 1 });
        }
        await client.endAsync();
      }),
    );
    const { records, projections } = await expectExactlyOnce();
    const ingest = perInstance(1);
    const sent = deliveriesBy();
    console.log(
      `[scale-out] phase 1: ${records} records, ${projections} projections; PUBACKs by instance a=${ingest.a} b=${ingest.b}; ` +
        `deliveries to the OEM sent by a=${sent.a ?? 0} b=${sent.b ?? 0}${sent['?'] ? ` unattributed=${sent['?']}` : ''}; ` +
        `${await topicMessages()} Kafka messages; partitions of ${TOPIC}: ${[...split].map(([m, p]) => `${m}=[${p.join(',')}]`).join(' ')}`,
    );
    expect(acks).toHaveLength(CARS * PHASE1_MESSAGES);
    expect(ingest.a).toBeGreaterThan(0);
    expect(ingest.b).toBeGreaterThan(0);
    expect(sent.a ?? 0).toBeGreaterThan(0);
    expect(sent.b ?? 0).toBeGreaterThan(0);
  }, 900_000);

  it('loses nothing acknowledged when one instance gets SIGTERM in the middle of a stream of publishes', async () => {
    const before = oem.deliveries.length;
    const cars2 = stream(2);
    await whileAcking(() => cars2.acked('b') >= 100, 'b acknowledging the stream');
    const atTerm = perInstance(2);
    const code = await b.stop('SIGTERM');
    // Keep publishing to the survivor for a while, then stop the cars.
    await whileAcking(() => cars2.acked('a') >= atTerm.a + 200, 'a acknowledging after the stop');
    const reconnected = await cars2.stop();
    // On a non-zero exit, say why: its log (a drain past shutdownTimeoutMs exits 1).
    expect({ code, log: code === 0 ? '' : b.log() }).toEqual({ code: 0, log: '' });
    // The survivor's consumer takes the partitions the stopped one held.
    const takeover = await eventually(
      async () => {
        const m = await assignment();
        return m && m.size === 1 && m.get('shekara-a')?.length === PARTITIONS ? m : undefined;
      },
      GROUP_MS,
      'a holding every partition',
    );

    const { records, projections } = await expectExactlyOnce();
    const ingest = perInstance(2);
    const sent = deliveriesBy();
    const sentAfter = oem.deliveries.slice(before).filter((d) => d.sentBy === 'a').length;
    console.log(
      `[scale-out] phase 2: SIGTERM to b after it acknowledged ${atTerm.b} records of the stream; b exited ${code}; ` +
        `${reconnected} car(s) reconnected to a; PUBACKs in the stream a=${ingest.a} b=${ingest.b}; ` +
        `totals ${records} records, ${projections} projections, ${await topicMessages()} Kafka messages, ${oem.deliveries.length} deliveries (a=${sent.a ?? 0} b=${sent.b ?? 0}${sent['?'] ? ` unattributed=${sent['?']}` : ''}, ` +
        `${sentAfter} by a in phase 2); after the stop ${[...takeover].map(([m, p]) => `${m}=[${p.join(',')}]`).join(' ')}`,
    );
    expect(reconnected).toBe(CARS / 2);
    expect(ingest.b).toBeGreaterThanOrEqual(100);
  }, 900_000);

  it('writes one egress log for both instances: one delivered entry per projection, consecutive seq and leaves', async () => {
    const entries = await expectOneLogEntryPerProjection(a);
    console.log(
      `[scale-out] egress log: ${entries.length} delivered entries, seq 1..${entries.length}, leaves ${entries[0]!.leafIndex}..${entries.at(-1)!.leafIndex}`,
    );
  }, 900_000);

  it('loses nothing acknowledged when one instance is killed (SIGKILL) in the middle of a stream: repeats carry the same key, the log has one entry each and verifies', async () => {
    // b is back (the operator restarted it after the SIGTERM): the group splits again.
    b = await start('b');
    await eventually(
      async () => {
        const m = await assignment();
        return m && m.size === 2 && [...m.values()].every((p) => p.length > 0) ? m : undefined;
      },
      GROUP_MS,
      'a and the restarted b in the OEM consumer group, each with partitions',
    );
    const before = oem.deliveries.length;
    // What a regulator holds from before the crash: a signed checkpoint.
    const cpBefore = await regulator<{ size: number; note: string }>(a, '/checkpoints/latest');

    const cars3 = stream(3);
    await whileAcking(() => cars3.acked('a') >= 100, 'a acknowledging the stream');
    // The crash comes in the middle of a delivery: a's next POST reaches the OEM, which keeps it and
    // kills a before answering, so a never learns of it and cannot settle it. No shutdown either:
    // other requests in flight, outbox rows leased by a's relay, offsets not committed.
    killed.add(a);
    let withheld: AttributedDelivery | undefined;
    oem.onDelivery = (d) => {
      if (d.sentBy !== 'a') return;
      oem.onDelivery = undefined;
      withheld = d;
      process.kill(a.pid, 'SIGKILL');
      return false;
    };
    await whileProgressing(
      () => withheld,
      () => oem.deliveries.length + acks.length,
      {
        stallMs: STALL_MS,
        maxMs: MAX_MS,
        what: 'a delivery from a to answer with its death',
      },
    );
    const atKill = perInstance(3);
    const deliveredAtKill = oem.deliveries.length - before;
    const code = await a.stop('SIGKILL');
    const killedAt = Date.now();
    const leftPublished = (
      await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${q('egress_outbox')} WHERE status = 'published'`)
    ).rows[0]!.n;
    await whileAcking(() => cars3.acked('b') >= atKill.b + 200, 'b acknowledging after the kill');
    const reconnected = await cars3.stop();
    expect(code).toBeNull(); // killed by the signal, not exited

    // The survivor's consumer takes a's partitions once a's session times out (sessionTimeoutMs).
    const takeover = await eventually(
      async () => {
        const m = await assignment();
        return m && m.size === 1 && m.get('shekara-b')?.length === PARTITIONS ? m : undefined;
      },
      GROUP_MS,
      'b holding every partition',
    );
    // Rows a's relay had leased and not published are due again when the lease ends:
    // RELAY_LEASE_MS after a leased them (kafka-relay.ts).
    // Still pending under a lease taken before the kill, seconds later: a's (b's relay publishes its batch in milliseconds).
    const leftLeased = (
      await db.query<{ n: string }>(
        `SELECT count(*) AS n FROM ${q('egress_outbox')} WHERE status = 'pending' AND lease_until > $1 AND lease_until <= $2`,
        [Date.now(), killedAt + RELAY_LEASE_MS],
      )
    ).rows[0]!.n;
    const { records, projections, repeats } = await expectAtLeastOnce();
    // The one a never got an answer for came again, from b, with the same key (checked above for every repeat).
    const withheldKey = withheld!.deliveryId;
    expect(repeats.filter((c) => c[0]!.deliveryId === withheldKey).map((c) => c.map((d) => d.sentBy))).toEqual([
      ['a', 'b'],
    ]);
    const settledAfterMs = Date.now() - killedAt;
    const entries = await expectOneLogEntryPerProjection(b);

    // The audit tree after the crash: exported and checked offline with `shekara verify`, as
    // consistent with the checkpoint signed before it, and covering every entry.
    const lastLeaf = entries.at(-1)!.leafIndex;
    let signed = 0;
    const cpAfter = await whileProgressing(
      async () => {
        const cp = await regulator<{ size: number; note: string }>(b, '/checkpoints/latest');
        signed = cp.size;
        return cp.size > lastLeaf ? cp : undefined;
      },
      () => signed,
      { stallMs: STALL_MS, maxMs: MAX_MS, what: 'a checkpoint covering every entry' },
    );
    const { verifierKey } = await regulator<{ verifierKey: string }>(b, '/pubkey');
    const exported = await fetch(`${b.httpUrl}/regulator/v1/log/export?size=${cpAfter.size}`, {
      headers: { authorization: `Bearer ${regulatorKey}` },
    });
    expect(exported.status).toBe(200);
    const files = {
      exp: path.join(dir, 'export.ndjson'),
      before: path.join(dir, 'cp-before.txt'),
      after: path.join(dir, 'cp-after.txt'),
      key: path.join(dir, 'pubkey.txt'),
    };
    writeFileSync(files.exp, await exported.text());
    writeFileSync(files.before, cpBefore.note);
    writeFileSync(files.after, cpAfter.note);
    writeFileSync(files.key, `${verifierKey}\n`);
    const verified = await runProcess(process.execPath, [
      'bin/shekara.js',
      'verify',
      '--export',
      files.exp,
      '--checkpoint',
      files.before,
      '--checkpoint',
      files.after,
      '--pubkey',
      files.key,
    ]);
    expect({ code: verified.status, stderr: verified.stderr }).toEqual({ code: 0, stderr: '' });
    expect(verified.stdout).toContain(`verified: ${cpAfter.size} leaves`);
    expect(verified.stdout).toContain(`consistent: size ${cpBefore.size} → ${cpAfter.size}`);

    const ingest = perInstance(3);
    const sent = deliveriesBy();
    const repeatsBy: Record<string, number> = {};
    for (const copies of repeats) for (const d of copies.slice(1)) repeatsBy[d.sentBy] = (repeatsBy[d.sentBy] ?? 0) + 1;
    console.log(
      `[scale-out] phase 3: SIGKILL to a on its delivery of ${withheldKey} (not answered; a POST of ${withheld!.batchSize ?? 1} item(s)) after the stream's PUBACKs a=${atKill.a} b=${atKill.b} and ${deliveredAtKill} deliveries; ` +
        `at the kill ${leftPublished} row(s) on Kafka not yet settled (either instance's); at the takeover ${leftLeased} pending under a's relay lease; every row settled ${settledAfterMs} ms after the kill; ` +
        `${reconnected} car(s) reconnected to b; PUBACKs in the stream a=${ingest.a} b=${ingest.b}; ` +
        `totals ${records} records, ${projections} projections, ${await topicMessages()} Kafka messages, ${oem.deliveries.length} deliveries (a=${sent.a ?? 0} b=${sent.b ?? 0}${sent['?'] ? ` unattributed=${sent['?']}` : ''}); ` +
        `${repeats.length} projection(s) the OEM got more than once (repeats sent by ${JSON.stringify(repeatsBy)}), same key each; ` +
        `egress log ${entries.length} delivered entries, leaves ${entries[0]!.leafIndex}..${lastLeaf}; tree ${cpBefore.size} → ${cpAfter.size} verified consistent; ` +
        `after the kill ${[...takeover].map(([m, p]) => `${m}=[${p.join(',')}]`).join(' ')}`,
    );
    expect(reconnected).toBe(CARS / 2);
    expect(ingest.a).toBeGreaterThanOrEqual(100);
    // The batched run sent batches, or it would only repeat the other.
    const largestPost = Math.max(1, ...oem.deliveries.map((d) => d.batchSize ?? 1));
    expect(largestPost > 1).toBe(batching.batch !== undefined);
  }, 900_000);
});
