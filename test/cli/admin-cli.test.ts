/**
 * The admin commands as an operator meets them: the built `shekara` binary against a real store
 * file, then a real `shekara start` on that store, a real MQTT car and a real HTTP OEM sink.
 * CLI changes reach the running gateway on SIGHUP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../src/ingest/index.js';
import { verifySignature } from '../../src/egress/index.js';
import { shekara } from '../audit/helpers.js';
import { startTestSink, type TestSink } from '../egress/helpers.js';
import { closedByServer, eventually } from '../helpers/gateway.js';
import { policyText } from '../api/admin-helpers.js';

const VIN = 'LACME000000000007';

describe('shekara oem / policy / vehicles / owners / apikey on the store', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'shekara-admin-cli-'));
  const config = path.join(dir, 'shekara.yaml');
  const file = (name: string, text: string) => {
    const f = path.join(dir, name);
    writeFileSync(f, text);
    return f;
  };
  const cli = (...args: string[]) => shekara(...args, '-c', config);
  let sink: TestSink;
  let gateway: ChildProcess | undefined;
  let car: MqttClient | undefined;
  let stdout = '';
  let signingKey = '';
  let secret = '';
  let mqttUrl = '';

  beforeAll(async () => {
    sink = await startTestSink();
    file('demo.yaml', policyText('demo-oem', ['Vehicle.Speed: pass']));
    writeFileSync(
      config,
      [
        `dataDir: ${dir}`,
        'mqtt: { host: 127.0.0.1, port: 0 }',
        'http: { host: 127.0.0.1, port: 0 }',
        'egress: { initialBackoffMs: 20, maxBackoffMs: 100, pollIntervalMs: 50 }',
        'oems:',
        `  - { id: demo-oem, endpoint: '${sink.url}', policyFile: demo.yaml, allowPrivateNetworks: true }`,
        'log: { level: info }',
      ].join('\n'),
    );
  });
  afterAll(async () => {
    await car?.endAsync(true).catch(() => undefined);
    gateway?.kill('SIGTERM');
    await sink?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('registers an OEM, uploads and activates its policy, registers a vehicle and an OEM-scoped key', async () => {
    const added = await cli(
      'oem',
      'add',
      'acme',
      '--name',
      'Acme Motors',
      '--endpoint',
      sink.url,
      '--allow-private-networks',
    );
    expect(added.code, added.stderr).toBe(0);
    signingKey = /body-signing key \(shown once; base64url, decode to bytes\): (\S+)/.exec(added.stdout)![1]!;
    expect(added.stdout).toContain('no active policy yet');

    const bad = await cli(
      'policy',
      'upload',
      file('bad.yaml', policyText('acme', ['Vehicle.Speed: smudge'])),
      '--oem',
      'acme',
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /SHK_POLICY_UNKNOWN_TRANSFORM: invalid policy:\n {2}line 7 purposes\.0\.fields\.Vehicle\.Speed: unknown transform "smudge"/,
    );

    const up = await cli(
      'policy',
      'upload',
      file('v1.yaml', policyText('acme', ['Vehicle.Speed: pass'])),
      '--oem',
      'acme',
      '--activate',
    );
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toMatch(/^stored policy version sha256:[0-9a-f]{64} for OEM acme$/m);
    expect(up.stdout).toMatch(/opens +speed: new purpose, sends Vehicle.VehicleIdentification.VIN, Vehicle.Speed/);
    expect(up.stdout).toMatch(/^activated sha256:[0-9a-f]{64} for OEM acme \(was none\)$/m);

    const v = await cli('vehicles', 'add', '--vin', VIN, '--oem', 'acme');
    expect(v.code, v.stderr).toBe(0);
    secret = /secret \(shown once\): (\S+)/.exec(v.stdout)![1]!;

    const key = await cli('apikey', 'create', '--role', 'oem', '--oem', 'acme', '--label', 'Acme integration');
    expect(key.stdout).toMatch(/^created oem key [0-9a-f]{16} for OEM acme \(Acme integration\)$/m);
    const noOem = await cli('apikey', 'create', '--role', 'oem', '--oem', 'nobody');
    expect([noOem.code, noOem.stderr]).toEqual([2, 'shekara: SHK_BAD_REQUEST: oem: no OEM "nobody" in the registry\n']);

    const list = await cli('oem', 'list');
    expect(list.stdout).toMatch(
      /^acme\tapi\tenabled\thttp:\/\/127\.0\.0\.1:\d+\/oem\/telemetry\tsha256:[0-9a-f]{64}\tAcme Motors$/m,
    );
    expect(list.stdout).toMatch(/^demo-oem\tconfig\tenabled\t/m);
    const ro = await cli('oem', 'update', 'demo-oem', '--name', 'x');
    expect([ro.code, ro.stderr]).toEqual([
      2,
      expect.stringContaining('SHK_ADMIN_READ_ONLY: OEM demo-oem is defined in the config file'),
    ]);
  }, 60_000);

  it("a gateway started on that store sends the CLI OEM's car data under the CLI-activated policy, signed with the printed key", async () => {
    gateway = spawn('node', ['bin/shekara.js', 'start', '-c', config], { env: { ...process.env, SHEKARA_CONFIG: '' } });
    gateway.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    await eventually(() => stdout.includes('Try it'), 45_000, 'the gateway to start');
    expect(stdout).toMatch(/OEM acme +→ http:\/\/127\.0\.0\.1:\d+\/oem\/telemetry +policy sha256:/);
    mqttUrl = /MQTT ingest +(mqtt:\/\/127\.0\.0\.1:\d+)/.exec(stdout)![1]!;
    car = await mqtt.connectAsync(mqttUrl, {
      clientId: VIN,
      username: VIN,
      password: secret,
      protocolVersion: 4,
      keepalive: 30,
      reconnectPeriod: 0,
    });
    await car.publishAsync(
      telemetryTopic(VIN),
      JSON.stringify({ speed: 61, odometer: 999, account: { owner: { name: 'Asel' } } }),
      { qos: 1 },
    );
    const hit = await eventually(
      () => sink.hits.find((h) => h.body.signals['Vehicle.Speed'] === 61),
      10_000,
      'the delivery',
    );
    expect(Object.keys(hit.body.signals).sort()).toEqual(['Vehicle.Speed', 'Vehicle.VehicleIdentification.VIN']);
    expect(
      verifySignature(
        Buffer.from(signingKey, 'base64url'),
        hit.raw,
        hit.headers['shekara-signature'] as string,
        Date.now(),
      ),
    ).toBe(true);
  }, 60_000);

  it('on SIGHUP the running gateway applies what the CLI changed: a new active policy, a rotated secret (the car is cut off)', async () => {
    const up = await cli(
      'policy',
      'upload',
      file('v2.yaml', policyText('acme', ['Vehicle.Speed: pass', 'Vehicle.TraveledDistance: pass'])),
      '--oem',
      'acme',
      '--activate',
    );
    expect(up.stdout).toMatch(/opens +speed: Vehicle.TraveledDistance: pass/);
    const rotated = await cli('vehicles', 'rotate', VIN);
    expect(rotated.code, rotated.stderr).toBe(0);
    const fresh = /secret \(shown once\): (\S+)/.exec(rotated.stdout)![1]!;

    const closed = closedByServer(car!, 10_000);
    gateway!.kill('SIGHUP');
    await closed;
    await expect(
      mqtt.connectAsync(mqttUrl, {
        clientId: VIN,
        username: VIN,
        password: secret,
        protocolVersion: 4,
        reconnectPeriod: 0,
      }),
    ).rejects.toThrow();
    car = await mqtt.connectAsync(mqttUrl, {
      clientId: VIN,
      username: VIN,
      password: fresh,
      protocolVersion: 4,
      keepalive: 30,
      reconnectPeriod: 0,
    });
    await car.publishAsync(telemetryTopic(VIN), JSON.stringify({ speed: 62, odometer: 1000 }), { qos: 1 });
    const hit = await eventually(
      () => sink.hits.find((h) => h.body.signals['Vehicle.Speed'] === 62),
      10_000,
      'the delivery under v2',
    );
    expect(hit.body.signals['Vehicle.TraveledDistance']).toBe(1000);

    const history = await cli('policy', 'history', '--oem', 'acme');
    expect(history.stdout.match(/^ {2}\S+\tsha256:[0-9a-f]{64}\tcli$/gm)).toHaveLength(2);
  }, 60_000);

  it('binds, lists and revokes an owner; revokes credentials; the CLI may revoke the last operator key', async () => {
    const created = await cli('owners', 'create', '--owner-ref', 'customer-7', '--vin', VIN);
    expect(created.code, created.stderr).toBe(0);
    const id = /token id ([0-9a-f]{16})/.exec(created.stdout)![1]!;
    expect(created.stdout).toMatch(/owner token \(shown once; only its hash is stored\): sho_/);
    expect((await cli('owners', 'list', '--vin', VIN)).stdout).toMatch(
      new RegExp(`^${id}\\tcustomer-7\\t\\S+\\tactive\\t${VIN}$`, 'm'),
    );
    expect((await cli('owners', 'revoke', id)).code).toBe(0);
    expect((await cli('owners', 'list', '--vin', VIN)).stdout).toMatch(
      new RegExp(`^${id}\\tcustomer-7\\t\\S+\\trevoked `, 'm'),
    );

    const revoked = await cli('vehicles', 'revoke', VIN);
    expect(revoked.stdout).toContain(`revoked the credentials of ${VIN}`);
    expect((await cli('vehicles', 'list', '--oem', 'acme')).stdout).toMatch(
      new RegExp(`^${VIN}\\tacme\\trevoked\\t`, 'm'),
    );

    const op = await cli('apikey', 'create', '--role', 'operator');
    const keyId = /created operator key ([0-9a-f]{16})/.exec(op.stdout)![1]!;
    expect((await cli('apikey', 'revoke', keyId)).code).toBe(0);
  }, 60_000);
});
