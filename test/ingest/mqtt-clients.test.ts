/**
 * Independent MQTT clients against the car endpoint, in 3.1.1 and 5.0: mosquitto_pub/sub
 * (libmosquitto), MQTT.js 5, and Eclipse Paho Python running our own version of the Paho
 * interoperability cases (test/interop/paho_cases.py; docs/interop.md says which cases differ
 * and why). Each publishes QoS 0, 1 and 2, receives a command and acknowledges it, and the
 * acknowledgement is what the downlink records (the command `done`), not only a PUBACK.
 */
import { spawn, execFile } from 'node:child_process';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandPayload } from '../../src/downlink/index.js';
import { commandAckTopic, commandTopic, telemetryTopic } from '../../src/ingest/index.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3'; // Debian's, which has python3-paho-mqtt (not a pyenv shim)

describe('real MQTT clients', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({
      cars: 6,
      config: { limits: { messageBurst: 1000, connectsPerVehiclePerMinute: 1000 } },
    });
  });
  afterAll(async () => gw?.stop());
  const records = async () => (await gw.app.store.counts()).records;
  /** The commands sent to each car, oldest first. */
  const sent = new Map<string, string[]>();
  /**
   * A command as the downlink leaves it once it went to the car (recorded, then marked sent),
   * published on the car's command topic: the car's acknowledgement then has a command to settle.
   */
  const command = async (vin: string) => {
    const id = randomUUID();
    const at = Date.now();
    const leaf = (action: string, outcome: string) => ({
      action,
      commandId: id,
      oem: 'demo-oem',
      pseudonym: 'p-clients',
      type: 'ping',
      outcome,
      reason: null,
    });
    const row = await gw.app.store.createCommand(
      {
        id,
        oem: 'demo-oem',
        vin,
        pseudonym: 'p-clients',
        type: 'ping',
        params: {},
        status: 'queued',
        reason: null,
        apiKey: 'k-clients',
        createdAt: at,
        expiresAt: at + 600_000,
      },
      leaf('requested', 'allowed'),
    );
    expect(await gw.app.store.markCommandSent(id, at, leaf('sent', 'sent'))).toBe(true);
    sent.set(vin, [...(sent.get(vin) ?? []), id]);
    // Without its id: a re-send from the session is then not checked against an OEM policy
    // (this gateway's has no commands), so test_redelivery_on_reconnect gets it again.
    await gw.app.ingest.publishCommand(vin, commandPayload(row));
  };
  /** The car's acknowledgement recorded: the command's state and its ack as the downlink wrote them. */
  const recorded = (id: string) =>
    eventually(
      async () => {
        const c = await gw.app.store.getCommand(id);
        return c?.status === 'done' ? c : undefined;
      },
      5_000,
      'the acknowledgement recorded',
    );

  describe.each([
    ['mqttv311', 4, 0],
    ['mqttv5', 5, 1],
  ] as const)('mosquitto_pub / mosquitto_sub, %s', (flag, _v, i) => {
    it('publishes QoS 0, 1 and 2, receives a command and acknowledges it', async () => {
      const car = gw.cars[i]!;
      const auth = ['-p', String(gw.app.mqttPort), '-V', flag, '-i', car.vin, '-u', car.vin, '-P', car.secret];
      const before = await records();
      for (const q of ['0', '1', '2'])
        await run('mosquitto_pub', [
          ...auth,
          '-t',
          telemetryTopic(car.vin),
          '-q',
          q,
          '-m',
          JSON.stringify({ speed: Number(q) }),
        ]);
      await eventually(async () => (await records()) === before + 3, 5_000, 'three records');
      const sub = run('mosquitto_sub', [...auth, '-t', commandTopic(car.vin), '-q', '1', '-C', '1', '-W', '10']);
      await eventually(() => gw.app.ingest.isCommandSubscriber(car.vin), 5_000, 'the subscription');
      await command(car.vin);
      const { stdout } = await sub;
      const { id } = JSON.parse(stdout) as { id: string };
      await run('mosquitto_pub', [
        ...auth,
        '-t',
        commandAckTopic(car.vin),
        '-q',
        '1',
        '-m',
        JSON.stringify({ id, status: 'done' }),
      ]);
      expect((await recorded(id)).acks).toMatchObject([{ status: 'done' }]);
    });
  });

  describe.each([4, 5] as const)('MQTT.js 5, protocol level %i', (v) => {
    it('publishes QoS 0, 1 and 2, receives a command and acknowledges it', async () => {
      const car = gw.cars[v - 2]!;
      const c = await gw.connect(car, { protocolVersion: v });
      const before = await records();
      for (const qos of [0, 1, 2] as const)
        await c.publishAsync(telemetryTopic(car.vin), JSON.stringify({ speed: qos }), { qos });
      await eventually(async () => (await records()) === before + 3, 5_000, 'three records');
      await c.subscribeAsync(commandTopic(car.vin), { qos: 1 });
      const got = new Promise<Buffer>((resolve) => c.once('message', (_t, payload) => resolve(payload)));
      await command(car.vin);
      const { id } = JSON.parse((await got).toString()) as { id: string };
      await c.publishAsync(commandAckTopic(car.vin), JSON.stringify({ id, status: 'done' }), { qos: 1 });
      expect((await recorded(id)).acks).toMatchObject([{ status: 'done' }]);
      await c.endAsync();
    });
  });

  // The two protocol levels side by side: each run is mostly waiting (a keep-alive timeout of
  // 7.5 s, a session expiry of 2.5 s), and each has a car of its own.
  describe.concurrent.each([4, 5] as const)(
    'Eclipse Paho Python, the Paho interoperability cases, protocol level %i',
    (v) => {
      it('passes every case (as adapted for deny-by-default)', async () => {
        const car = gw.cars[v]!;
        const py = spawn(
          PYTHON,
          ['test/interop/paho_cases.py', String(gw.app.mqttPort), car.vin, car.secret, String(v)],
          {
            stdio: ['pipe', 'pipe', 'pipe'],
          },
        );
        let stderr = '';
        py.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        const results: { case: string; ok: boolean; detail: unknown }[] = [];
        for await (const line of createInterface({ input: py.stdout })) {
          const msg = JSON.parse(line) as {
            need?: string;
            case?: string;
            ok?: boolean;
            detail?: unknown;
            done?: boolean;
          };
          if (msg.need === 'command') {
            // Online: sent at once; offline (persistent session): when the car is back, as the downlink does.
            const send = async () => {
              await eventually(
                () => gw.app.ingest.isCommandSubscriber(car.vin),
                10_000,
                'the car back on its command topic',
              );
              await command(car.vin);
            };
            py.stdin.write('\n');
            void send();
          } else if (msg.case) results.push(msg as (typeof results)[number]);
          if (msg.done) break;
        }
        const failed = results.filter((r) => !r.ok);
        expect(failed, stderr).toEqual([]);
        expect(results.length).toBe(v === 5 ? 16 : 11);
        // test_basic, the first case, acknowledges the first command it gets "done".
        expect((await recorded(sent.get(car.vin)![0]!)).acks).toMatchObject([{ status: 'done' }]);
      }, 90_000);
    },
  );
});
