/** HTTPS ingest with TLS on, as configured by an operator: a real TLS socket, a self-signed cert. */
// eslint-disable-next-line no-restricted-imports -- openssl makes a test key or certificate in well under a second
import { execFileSync } from 'node:child_process';
import { request } from 'node:https';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

function selfSigned(): { certFile: string; keyFile: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'shekara-tls-'));
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'ignore' },
  );
  return { certFile, keyFile };
}

describe('https ingest with tls enabled', () => {
  let gw: TestGateway;
  let ca: Buffer;
  beforeAll(async () => {
    const tls = selfSigned();
    ca = readFileSync(tls.certFile);
    gw = await startTestGateway({ config: { http: { host: '127.0.0.1', port: 0, tls: { enabled: true, ...tls } } } });
  });
  afterAll(async () => gw?.stop());

  const post = (body: string, auth: string) =>
    new Promise<{ status: number; body: string; protocol: string }>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: gw.app.httpPort,
          method: 'POST',
          path: `/v1/vehicles/${gw.cars[0]!.vin}/telemetry`,
          ca,
          headers: {
            'content-type': 'application/json',
            authorization: `Basic ${Buffer.from(auth).toString('base64')}`,
          },
        },
        (res) => {
          const protocol = (res.socket as unknown as { getProtocol(): string }).getProtocol();
          let text = '';
          res.on('data', (d) => {
            text += d;
          });
          res.on('end', () => resolve({ status: res.statusCode!, body: text, protocol }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  it('stores a record sent over TLS and answers 202', async () => {
    const car = gw.cars[0]!;
    const res = await post('{"speed":12}', `${car.vin}:${car.secret}`);
    expect(res.status).toBe(202);
    expect(res.protocol).toMatch(/^TLSv1\.[23]$/);
    expect(await gw.app.store.getRecord(JSON.parse(res.body).recordId)).toBeDefined();
  });

  it('does not answer plain HTTP on the TLS port', async () => {
    const err = await fetch(`http://127.0.0.1:${gw.app.httpPort}/healthz`).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
  });
});
