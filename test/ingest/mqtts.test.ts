/**
 * MQTT over TLS with vehicle certificates, over real TLS sockets: the certificate's CN binds
 * it to one VIN; a revoked certificate is refused as soon as the CRL file changes, no restart.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { telemetryTopic } from '../../src/ingest/index.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { createTestPki, mqttsOn, type TestPki } from '../helpers/pki.js';

describe('mqtts ingest with vehicle certificates', () => {
  let gw: TestGateway;
  let pki: TestPki;
  beforeAll(async () => {
    pki = createTestPki();
    gw = await startTestGateway({
      cars: 3,
      config: {
        mqtt: mqttsOn(pki, { crlFile: pki.crlFile }),
      },
    });
  });
  afterAll(async () => gw?.stop());

  const connect = (clientId: string, extra: mqtt.IClientOptions = {}) =>
    new Promise<{ code: number; client?: mqtt.MqttClient }>((resolve) => {
      const c = mqtt.connect(`mqtts://127.0.0.1:${gw.app.mqttsPort}`, {
        clientId,
        protocolVersion: 4,
        reconnectPeriod: 0,
        keepalive: 30,
        connectTimeout: 3_000,
        ca: readFileSync(pki.caFile),
        ...extra,
      });
      c.once('connect', () => resolve({ code: 0, client: c }));
      c.once('error', (e) => {
        c.end(true);
        resolve({ code: (e as { code?: number }).code ?? -1 });
      });
      c.once('close', () => resolve({ code: -1 }));
    });
  const withCert = (files: { cert: string; key: string }) => ({
    cert: readFileSync(files.cert),
    key: readFileSync(files.key),
  });

  it('lets a car in on its certificate alone (CN = VIN = client id) and stores what it sends', async () => {
    const car = gw.cars[0]!;
    const r = await connect(car.vin, withCert(pki.vehicle(car.vin)));
    expect(r.code).toBe(0);
    const before = (await gw.app.store.counts()).records;
    await r.client!.publishAsync(telemetryTopic(car.vin), '{"speed":7}', { qos: 1 });
    expect((await gw.app.store.counts()).records).toBe(before + 1);
    await r.client!.endAsync();
  });

  it('refuses a certificate used with another VIN as client id', async () => {
    const [a, b] = gw.cars;
    expect((await connect(b!.vin, withCert(pki.vehicle(a!.vin)))).code).toBe(2);
  });

  it('still accepts a car with its secret and no certificate', async () => {
    const car = gw.cars[1]!;
    const r = await connect(car.vin, { username: car.vin, password: car.secret });
    expect(r.code).toBe(0);
    await r.client!.endAsync();
  });

  it('refuses a certificate from another CA', async () => {
    const other = createTestPki();
    const car = gw.cars[2]!;
    expect((await connect(car.vin, withCert(other.vehicle(car.vin)))).code).toBe(5);
  });

  it('refuses a certificate once it is revoked, without a restart', async () => {
    const car = gw.cars[2]!;
    const cert = pki.vehicle(car.vin);
    const first = await connect(car.vin, withCert(cert));
    expect(first.code).toBe(0);
    await first.client!.endAsync();
    pki.revoke(cert.cert);
    const until = Date.now() + 5_000;
    let code = 0;
    while (Date.now() < until) {
      const r = await connect(car.vin, withCert(cert));
      code = r.code;
      await r.client?.endAsync();
      if (code !== 0) break;
      await new Promise((res) => setTimeout(res, 200));
    }
    expect(code).toBe(5);
    expect(Object.keys(gw.app.ingest.counters.rejected)).toContain('certificate-rejected:CERT_REVOKED');
  });
});
