/**
 * A real gateway process (`node bin/shekara.js start -c FILE`, from dist/: `npm test` builds it
 * first) with the Kafka queue, real MQTT cars, and load accounting: every payload carries a
 * unique marker (its odometer) so deliveries can be matched to what the cars had acknowledged.
 */
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { expect } from 'vitest';
import { stringify } from 'yaml';
import { telemetryTopic } from '../../src/ingest/index.js';
import { startGatewayProcess } from '../helpers/gateway-process.js';
import { whileProgressing } from '../helpers/wait.js';
import { KAFKA_BROKERS, uniquePrefix, type SinkHit } from './helpers.js';

export const MARKER_POLICY = `
oem: demo-oem
purposes:
  - id: odometer
    description: Odometer and speed; the odometer doubles as the test's unique marker.
    fields:
      Vehicle.TraveledDistance: pass
      Vehicle.Speed: pass
`;

/** The Kafka queue the tests' gateways use: 3 partitions, fresh topics (a prefix of their own). */
export const kafkaQueue = (brokers: string[]) => ({
  kind: 'kafka',
  kafka: { brokers, topicPrefix: uniquePrefix(), partitions: 3, maxWaitTimeMs: 100, sessionTimeoutMs: 6_000 },
});

/**
 * `egress` is merged into the egress section (`queue: kafkaQueue(...)` for another broker), `top` into the whole config (`store`), `oem` into
 * demo-oem's entry (`batch`: batched push, docs/oem-api.md#batched-push; absent, one POST per record).
 */
export function writeGatewayConfig(
  dir: string,
  endpoint: string,
  egress: Record<string, unknown> = {},
  top: Record<string, unknown> = {},
  oem: Record<string, unknown> = {},
): string {
  writeFileSync(path.join(dir, 'policy.yaml'), MARKER_POLICY);
  const file = path.join(dir, 'shekara.yaml');
  writeFileSync(
    file,
    stringify({
      dataDir: dir,
      mqtt: { host: '127.0.0.1', port: 0 },
      http: { host: '127.0.0.1', port: 0 },
      limits: { messagesPerSecond: 1_000, messageBurst: 1_000 },
      egress: {
        initialBackoffMs: 50,
        maxBackoffMs: 500,
        requestTimeoutMs: 2_000,
        // After a kill -9 the relay's leased rows are due again after this (30 s by default).
        leaseMs: 8_000,
        maxAttempts: 100,
        pollIntervalMs: 50,
        queue: kafkaQueue(KAFKA_BROKERS),
        ...egress,
      },
      oems: [{ id: 'demo-oem', endpoint, policyFile: 'policy.yaml', allowPrivateNetworks: true, ...oem }],
      log: { level: 'warn' },
      ...top,
    }),
  );
  return file;
}

export interface EgressGatewayProcess {
  readonly child: ChildProcess;
  readonly mqttPort: number;
  readonly stderr: () => string;
}

/**
 * Spawns the gateway on `configFile` and resolves once its MQTT ingest is up, with the port. The
 * process is tracked from the start (test/helpers/gateway-process.ts): afterAll(killGateways)
 * kills it even when the test timed out before this resolved.
 */
export async function spawnEgressGateway(configFile: string, timeoutMs = 60_000): Promise<EgressGatewayProcess> {
  const { child, match, stderr } = await startGatewayProcess(path.basename(path.dirname(configFile)), configFile, {
    ready: /MQTT ingest\s+mqtt:\/\/[^:\s]+:(\d+)/,
    readyMs: timeoutMs,
    env: { KAFKAJS_NO_PARTITIONER_WARNING: '1' },
  });
  return { child, mqttPort: Number(match[1]), stderr };
}

export function kill9(p: EgressGatewayProcess): Promise<void> {
  return new Promise((resolve) => {
    if (p.child.exitCode !== null || p.child.signalCode !== null) return resolve();
    p.child.once('exit', () => resolve());
    p.child.kill('SIGKILL');
  });
}

/** Cars publishing QoS 1 at a steady rate; `acked` holds the markers whose PUBACK arrived. */
export class Load {
  readonly sent = new Set<number>();
  readonly acked = new Set<number>();
  private clients: MqttClient[] = [];
  private timer: NodeJS.Timeout | undefined;
  private next = 1;

  async start(port: number, cars: { vin: string; secret: string }[], perCarEveryMs: number): Promise<void> {
    this.clients = await Promise.all(
      cars.map((c) =>
        mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
          clientId: c.vin,
          username: c.vin,
          password: c.secret,
          protocolVersion: 4,
          keepalive: 30,
          reconnectPeriod: 0,
          connectTimeout: 5_000,
        }),
      ),
    );
    for (const c of this.clients) c.on('error', () => undefined);
    this.timer = setInterval(() => {
      this.clients.forEach((client, i) => {
        if (!client.connected) return;
        const marker = this.next++;
        this.sent.add(marker);
        const vin = cars[i]!.vin;
        client.publish(
          telemetryTopic(vin),
          JSON.stringify({ ts: new Date().toISOString(), speed: marker % 100, odometer: marker }),
          { qos: 1 },
          (err) => {
            if (!err) this.acked.add(marker);
          },
        );
      });
    }, perCarEveryMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all(this.clients.map((c) => c.endAsync(true).catch(() => undefined)));
  }
}

/** What the OEM received, matched against what the cars had acknowledged. */
export function account(
  load: Load,
  hits: { body: { deliveryId: string; signals: Record<string, unknown> }; headers: Record<string, unknown> }[],
) {
  const byMarker = new Map<number, { deliveryId: string; key: unknown }[]>();
  for (const h of hits) {
    const m = h.body.signals['Vehicle.TraveledDistance'] as number;
    byMarker.set(m, [...(byMarker.get(m) ?? []), { deliveryId: h.body.deliveryId, key: h.headers['idempotency-key'] }]);
  }
  const lost = [...load.acked].filter((m) => !byMarker.has(m));
  const unexpected = [...byMarker.keys()].filter((m) => !load.sent.has(m));
  const duplicated = [...byMarker.values()].filter((copies) => copies.length > 1);
  const duplicatesWithOtherId = duplicated.filter((copies) =>
    copies.some((c) => c.deliveryId !== copies[0]!.deliveryId || c.key !== copies[0]!.key),
  );
  return {
    acked: load.acked.size,
    delivered: byMarker.size,
    lost,
    unexpected,
    duplicated: duplicated.length,
    duplicatesWithOtherId,
  };
}

/**
 * One durable `delivered` entry in the egress log of the SQLite store `dbFile` per projection the
 * OEM got, also for one it got twice. Read once every outbox row is settled: a delivery the sink
 * has may not have its outcome yet (bounded by a stall, not a total).
 */
export async function expectOneDeliveredEntryEach(dbFile: string, hits: readonly SinkHit[]): Promise<void> {
  const read = new Database(dbFile, { readonly: true });
  try {
    let unsettled = -1;
    await whileProgressing(
      () => {
        unsettled = read
          .prepare(`SELECT COUNT(*) FROM egress_outbox WHERE status IN ('pending', 'published')`)
          .pluck()
          .get() as number;
        return unsettled === 0;
      },
      () => unsettled,
      { stallMs: 60_000, maxMs: 180_000, what: 'every outbox row settled' },
    );
    const entries = read
      .prepare(
        `SELECT delivery_id AS id, COUNT(*) AS n FROM egress_log WHERE outcome = 'delivered' GROUP BY delivery_id`,
      )
      .all() as { id: string; n: number }[];
    expect(entries.filter((e) => e.n !== 1)).toEqual([]);
    expect(entries.map((e) => e.id).sort()).toEqual([...new Set(hits.map((h) => h.body.deliveryId))].sort());
  } finally {
    read.close();
  }
}
