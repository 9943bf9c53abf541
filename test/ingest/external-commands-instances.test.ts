/**
 * Downlink commands with two Shekara instances in one external-broker group (one store, a real
 * Mosquitto): commands wait while the car is unseen; then its telemetry reaches both instances,
 * so both see it online and both try to send its waiting commands. Each command reaches the car
 * once (`queued → sent` is conditional in the shared store).
 */
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandTopic, telemetryTopic } from '../../src/ingest/index.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startMosquitto, type TestMosquitto } from '../helpers/mosquitto.js';
import { COMMANDS, oemPolicy } from '../api/oem-helpers.js';

const OEM = 'demo-oem';
/** The shared command policy, with room for this test's five commands an hour. */
const POLICY = oemPolicy(OEM, COMMANDS.replace('maxPerVehiclePerHour: 3', 'maxPerVehiclePerHour: 10'));

describe('downlink commands through an external broker, two instances', () => {
  let mosq: TestMosquitto;
  let a: TestGateway;
  let b: TestGateway;
  beforeAll(async () => {
    mosq = await startMosquitto();
    const external = (prefix: string) => ({
      mqtt: { mode: 'external', external: { url: mosq.url, group: 'gw', connections: 1, clientIdPrefix: prefix } },
    });
    a = await startTestGateway({ cars: 1, policy: POLICY, config: external('shk-two-a') });
    b = await startTestGateway({
      cars: 0,
      policy: POLICY,
      // It only ingests: on one SQLite file at most one process delivers (docs/egress.md).
      config: { ...external('shk-two-b'), dataDir: a.dir, role: 'ingest' },
    });
  }, 60_000);
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
    await mosq?.stop();
  });

  it('both instances see the car online; every command reaches it once', async () => {
    const vin = a.cars[0]!.vin;
    const ids: string[] = [];
    const car = await mqtt.connectAsync(mosq.url, { clientId: vin, protocolVersion: 5, reconnectPeriod: 0 });
    car.on('message', (topic, payload) => {
      expect(topic).toBe(commandTopic(vin));
      ids.push((JSON.parse(payload.toString()) as { id: string }).id);
    });
    await car.subscribeAsync(commandTopic(vin), { qos: 1 });
    const key = (await a.app.store.createApiKey({ role: 'oem', scope: OEM, label: 'test', now: Date.now() })).key;
    const pseudonym = a.app.policy.pseudonymFor(OEM, vin, Date.now())!;
    const sent: string[] = [];
    // Counts each instance's polls for waiting commands: the real store, observed, not replaced.
    const polls = new Map<TestGateway, number>();
    for (const gw of [a, b]) {
      const store = gw.app.store;
      const queuedCommandVins = store.queuedCommandVins.bind(store);
      polls.set(gw, 0);
      store.queuedCommandVins = (...args) => {
        polls.set(gw, polls.get(gw)! + 1);
        return queuedCommandVins(...args);
      };
    }
    for (let n = 0; n < 5; n++) {
      const res = await fetch(`${a.httpUrl}/oem/v1/vehicles/${pseudonym}/commands`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'climate-on', params: { temperatureC: 20 + n }, ttlSeconds: 300 }),
      });
      expect(res.status).toBe(202);
      sent.push(((await res.json()) as { id: string }).id);
    }
    // Not seen yet by either instance: the commands wait.
    expect(ids).toEqual([]);
    // The car reports; the group hands messages round robin: both instances see it come online at
    // about the same moment, and both try to send what waits for it.
    for (let i = 0; i < 10; i++) await car.publishAsync(telemetryTopic(vin), JSON.stringify({ speed: i }), { qos: 1 });
    await eventually(
      () => a.app.ingest.counters.accepted > 0 && b.app.ingest.counters.accepted > 0,
      15_000,
      'telemetry at both instances',
    );

    await eventually(() => sent.every((id) => ids.includes(id)), 20_000, 'every command at the car');
    // Both instances poll every second: three more polls of each (counted as they ask the store for
    // the cars with waiting commands) give each room to send a second copy.
    const [pa, pb] = [polls.get(a)!, polls.get(b)!];
    await eventually(() => polls.get(a)! >= pa + 3 && polls.get(b)! >= pb + 3, 30_000, 'three more polls of each');
    expect([...ids].sort()).toEqual([...sent].sort());
    await car.endAsync();
  });
});
