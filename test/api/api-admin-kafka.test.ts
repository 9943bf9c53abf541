/**
 * An OEM registered through the admin API while the gateway runs on Kafka: its topics are
 * created and its consumer group joins before the answer, and a real MQTT car's data reaches a
 * real HTTP sink through a real Kafka broker, without a restart.
 */
import { Kafka, logLevel } from 'kafkajs';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../src/ingest/index.js';
import { dlqTopicOf, topicOf } from '../../src/egress/index.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { KAFKA_BROKERS, startTestSink, uniquePrefix, type TestSink } from '../egress/helpers.js';
import { adminClient, policyText, type AdminClient } from './admin-helpers.js';

const VIN = 'LKAFK000000000001';

describe('operator admin API on a Kafka egress queue', () => {
  const prefix = uniquePrefix();
  let gw: TestGateway;
  let sink: TestSink;
  let api: AdminClient;
  let car: MqttClient;
  const kafkaAdmin = new Kafka({ clientId: 'admin-test', brokers: KAFKA_BROKERS, logLevel: logLevel.NOTHING }).admin();

  beforeAll(async () => {
    sink = await startTestSink();
    gw = await startTestGateway({
      cars: 1,
      config: {
        egress: {
          initialBackoffMs: 20,
          maxBackoffMs: 100,
          pollIntervalMs: 20,
          requestTimeoutMs: 2_000,
          queue: {
            kind: 'kafka',
            kafka: { brokers: KAFKA_BROKERS, topicPrefix: prefix, partitions: 2, maxWaitTimeMs: 50, relayLingerMs: 2 },
          },
        },
      },
    });
    api = adminClient(
      () => gw.httpUrl,
      (await gw.app.store.createApiKey({ role: 'operator', label: 'ops', now: Date.now() })).key,
    );
    await kafkaAdmin.connect();
  }, 120_000);
  afterAll(async () => {
    await car?.endAsync(true).catch(() => undefined);
    await kafkaAdmin.disconnect();
    await gw?.stop();
    await sink?.close();
  });

  it("creates the new OEM's topics before answering, and delivers its car's data through Kafka", async () => {
    await api.ok('POST', '/oems', { id: 'acme', endpoint: sink.url, allowPrivateNetworks: true }, 201);
    const topics = await kafkaAdmin.listTopics();
    expect(topics).toEqual(expect.arrayContaining([topicOf(prefix, 'acme'), dlqTopicOf(prefix, 'acme')]));

    await api.ok(
      'POST',
      '/oems/acme/policies',
      { text: policyText('acme', ['Vehicle.Speed: pass']), activate: true },
      201,
    );
    const { secret } = await api.ok<{ secret: string }>('POST', '/vehicles', { vin: VIN, oem: 'acme' }, 201);
    car = await mqtt.connectAsync(gw.mqttUrl, {
      clientId: VIN,
      username: VIN,
      password: secret,
      protocolVersion: 4,
      keepalive: 30,
      reconnectPeriod: 0,
    });
    await car.publishAsync(telemetryTopic(VIN), JSON.stringify({ speed: 71, odometer: 5 }), { qos: 1 });
    const hit = await eventually(
      () => sink.hits.find((h) => h.body.signals['Vehicle.Speed'] === 71),
      30_000,
      'the delivery through Kafka',
    );
    expect(Object.keys(hit.body.signals).sort()).toEqual(['Vehicle.Speed', 'Vehicle.VehicleIdentification.VIN']);
    const groups = (await kafkaAdmin.listGroups()).groups.map((g) => g.groupId);
    expect(groups).toContain(`${prefix}egress.acme`);
  }, 60_000);

  it("a disabled OEM's messages wait in Kafka and are delivered once it is enabled", async () => {
    sink.status = 503;
    await car.publishAsync(telemetryTopic(VIN), JSON.stringify({ speed: 72 }), { qos: 1 });
    await eventually(
      async () => (await gw.app.store.listEgressLog({ oem: 'acme' })).some((e) => e.outcome === 'failed'),
      30_000,
      'a failed attempt',
    );
    await api.ok('POST', '/oems/acme/disable');
    await eventually(() => gw.app.egress.inFlight === 0, 10_000, 'no delivery in flight');
    sink.status = 200;
    expect(sink.hits.some((h) => h.body.signals['Vehicle.Speed'] === 72)).toBe(false);
    await api.ok('POST', '/oems/acme/enable');
    await eventually(
      () => sink.hits.find((h) => h.body.signals['Vehicle.Speed'] === 72),
      30_000,
      'the waiting delivery',
    );
    expect(
      (await gw.app.store.listEgressLog({ oem: 'acme' })).filter(
        (e) => e.outcome === 'dead-lettered' || e.outcome === 'blocked',
      ),
    ).toEqual([]);
  }, 60_000);
});
