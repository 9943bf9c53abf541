/**
 * Admin OEM changes are checked before they are saved: mTLS files must be regular files the
 * gateway can read that parse, the key belonging to the certificate. And a stored OEM whose files
 * broke later (a file replaced by a directory) never stops the gateway from starting: that OEM
 * alone is held disabled, the reason logged and shown in /admin/v1, until it is fixed.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { captureLog } from '../helpers/log-capture.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';
import { adminClient, type AdminClient } from './admin-helpers.js';

describe('admin › OEM mTLS files checked before saving; a broken stored OEM never stops the start', () => {
  let gw: TestGateway;
  let api: AdminClient;
  let pki: TestPki;
  let files: string;
  const oem = (id: string, mtls: Record<string, string>) => ({ id, endpoint: 'https://127.0.0.1:22091/', mtls });

  beforeAll(async () => {
    pki = createTestPki();
    files = mkdtempSync(path.join(tmpdir(), 'shekara-mtls-'));
    copyFileSync(pki.serverCert, path.join(files, 'cert.pem'));
    copyFileSync(pki.serverKey, path.join(files, 'key.pem'));
    gw = await startTestGateway({ cars: 0 });
    const key = (await gw.app.store.createApiKey({ role: 'operator', label: 'ops', now: Date.now() })).key;
    api = adminClient(() => gw.httpUrl, key);
  });
  afterAll(async () => {
    await gw?.stop();
    rmSync(files, { recursive: true, force: true });
    rmSync(pki.dir, { recursive: true, force: true });
  });

  it.each([
    [
      'a directory as certificate',
      { certFile: '/root', keyFile: '/root' },
      /^body\.mtls\.certFile: \/root is not a regular file/,
    ],
    [
      '/etc/passwd as certificate',
      { certFile: '/etc/passwd', keyFile: '/etc/passwd' },
      /^body\.mtls\.certFile: .* does not hold a PEM or DER certificate$/,
    ],
    [
      'a certificate as key',
      () => ({ certFile: pki.serverCert, keyFile: pki.serverCert }),
      /^body\.mtls\.keyFile: .* does not hold an unencrypted PEM or DER private key$/,
    ],
    [
      'another certificate’s key',
      () => ({ certFile: pki.caFile, keyFile: pki.serverKey }),
      /^body\.mtls\.keyFile: .* is not the private key of mtls\.certFile$/,
    ],
    [
      'a directory as CA',
      () => ({ certFile: pki.serverCert, keyFile: pki.serverKey, caFile: pki.dir }),
      /^body\.mtls\.caFile: .* is not a regular file/,
    ],
  ] as const)('refuses %s with 400 and a reason, and saves nothing', async (_what, mtls, reason) => {
    const id = `bad-${Math.random().toString(36).slice(2, 8)}`;
    const res = await api.call('POST', '/oems', oem(id, typeof mtls === 'function' ? mtls() : mtls));
    const body = (await res.json()) as { code: string; message: string };
    expect(res.status, JSON.stringify(body)).toBe(400);
    expect(body.code).toBe('SHK_BAD_REQUEST');
    expect(body.message).toMatch(reason);
    expect((await api.call('GET', `/oems/${id}`)).status).toBe(404);
  });

  it('refuses a change to a directory with 400, and the stored definition stays', async () => {
    const mtls = { certFile: path.join(files, 'cert.pem'), keyFile: path.join(files, 'key.pem') };
    await api.ok('POST', '/oems', oem('m-5', mtls), 201);
    const res = await api.call('PATCH', '/oems/m-5', { mtls: { ...mtls, keyFile: files } });
    expect(res.status).toBe(400);
    expect((await api.ok<{ mtls: unknown }>('GET', '/oems/m-5')).mtls).toEqual(mtls);
  });

  it('starts with a stored OEM whose certificate became a directory: that OEM disabled, the reason logged and shown', async () => {
    const cap = captureLog('info');
    await gw.stop({ keepDir: true });
    rmSync(path.join(files, 'cert.pem'));
    mkdirSync(path.join(files, 'cert.pem'));
    gw = await startTestGateway({ cars: 0, dir: gw.dir, log: cap.log });
    const shown = await api.ok<{ enabled: boolean; problem: string | null }>('GET', '/oems/m-5');
    expect(shown.enabled).toBe(false);
    expect(shown.problem).toMatch(/^mtls\.certFile: .*cert\.pem is not a regular file/);
    const listed = await api.ok<{ oems: { id: string; problem: string | null }[] }>('GET', '/oems');
    expect(listed.oems.find((o) => o.id === 'm-5')?.problem).toBe(shown.problem);
    expect(listed.oems.find((o) => o.id === 'demo-oem')?.problem).toBeNull();
    const logged = cap.lines().filter((l) => l.msg === 'OEM disabled: its stored configuration cannot be used');
    expect(logged).toMatchObject([{ oem: 'm-5', problem: shown.problem }]);
    expect((await fetch(`${gw.httpUrl}/readyz`)).status).toBe(200);

    // Fixed through the API: usable at once.
    const fixed = await api.ok<{ enabled: boolean; problem: string | null }>('PATCH', '/oems/m-5', {
      mtls: { certFile: pki.serverCert, keyFile: path.join(files, 'key.pem') },
    });
    expect(fixed).toMatchObject({ enabled: true, problem: null });
  });
});
