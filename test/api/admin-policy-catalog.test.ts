/**
 * A policy uploaded through the admin API is checked against the config's signal catalog, private
 * branches included, exactly as a config policy file is: a `personal` extension signal named
 * without a reason is refused, with the line and the reason (before, uploads compiled against the
 * default catalog, where the private path was merely "not in the catalog").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startTestSink, type TestSink } from '../egress/helpers.js';
import { adminClient, policyText, type AdminClient } from './admin-helpers.js';

const NOTE = 'Vehicle.Private.DriverNote';

describe('admin policy uploads and the config catalog', () => {
  let gw: TestGateway;
  let sink: TestSink;
  let api: AdminClient;
  beforeAll(async () => {
    gw = await startTestGateway({
      cars: 0,
      config: { catalog: { extensions: [{ path: NOTE, datatype: 'string', class: 'personal' }] } },
    });
    sink = await startTestSink();
    api = adminClient(
      () => gw.httpUrl,
      (await gw.app.store.createApiKey({ role: 'operator', label: 'ops', now: Date.now() })).key,
    );
    await api.ok('POST', '/oems', { id: 'acme', name: 'Acme', endpoint: sink.url, allowPrivateNetworks: true }, 201);
  });
  afterAll(async () => {
    await gw?.stop();
    await sink?.close();
  });

  it('refuses a personal extension signal named without a reason, and takes it with one', async () => {
    const refused = await api.ok<{ problems: string[] }>(
      'POST',
      '/oems/acme/policies',
      { text: policyText('acme', [`${NOTE}: pass`]) },
      400,
    );
    expect(refused.problems.join('\n')).toMatch(/line \d+ .*Vehicle\.Private\.DriverNote.*reason/);
    const taken = await api.ok<{ warnings?: string[] }>(
      'POST',
      '/oems/acme/policies',
      { text: policyText('acme', [`${NOTE}: { transform: pass, reason: the fleet desk reads it }`]) },
      201,
    );
    expect(JSON.stringify(taken)).not.toContain('not in the catalog');
  });
});
