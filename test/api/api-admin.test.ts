/**
 * The operator admin API over real sockets: a real gateway (MQTT endpoint, fastify, SQLite), real MQTT
 * cars, and real HTTP OEM sinks. An OEM registered through the API receives, without a
 * restart, exactly what the policy activated through the API lets leave.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../src/ingest/index.js';
import { verifySignature } from '../../src/egress/index.js';
import { closedByServer, eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startTestSink, type TestSink } from '../egress/helpers.js';
import { adminClient, policyText, type AdminClient } from './admin-helpers.js';

const VIN = 'LACME000000000001';
const V1 = policyText('acme', ['Vehicle.Speed: pass']);
const V2 = policyText('acme', ['Vehicle.Speed: pass', 'Vehicle.TraveledDistance: pass']);
const PAYLOAD = {
  speed: 42,
  odometer: 1234,
  battery: { soc: 80 },
  position: { lat: 43.2389, lon: 76.8897 },
  account: { owner: { name: 'Asel Nurlanovna' } },
};

describe('operator admin API over HTTP', () => {
  let gw: TestGateway;
  let sink: TestSink;
  let sink2: TestSink;
  let api: AdminClient;
  let regulatorKey: string;
  let signingKey: string;
  let secret: string;
  let car: MqttClient;
  const hashes: Record<'v1' | 'v2', string> = { v1: '', v2: '' };

  const connect = (password: string) =>
    mqtt.connectAsync(gw.mqttUrl, {
      clientId: VIN,
      username: VIN,
      password,
      protocolVersion: 4,
      keepalive: 30,
      reconnectPeriod: 0,
      connectTimeout: 5_000,
    });
  /** Publishes one record (QoS 1: stored once acknowledged) and waits until the sink has it. */
  const deliver = async (target: TestSink, speed: number) => {
    const before = target.hits.length;
    await car.publishAsync(telemetryTopic(VIN), JSON.stringify({ ...PAYLOAD, speed }), { qos: 1 });
    return eventually(
      () => target.hits.length > before && target.hits.find((h) => h.body.signals['Vehicle.Speed'] === speed),
      5_000,
      `delivery of speed ${speed}`,
    );
  };
  /** HTTPS ingest answers how many projections were queued for the record: 0 means nothing will leave. */
  const queuedFor = async (password: string) => {
    const res = await fetch(`${gw.httpUrl}/v1/vehicles/${VIN}/telemetry`, {
      method: 'POST',
      body: JSON.stringify(PAYLOAD),
      headers: {
        authorization: `Basic ${Buffer.from(`${VIN}:${password}`).toString('base64')}`,
        'content-type': 'application/json',
      },
    });
    expect(res.status, await res.clone().text()).toBe(202);
    return ((await res.json()) as { projections: number }).projections;
  };

  beforeAll(async () => {
    gw = await startTestGateway({ cars: 1 });
    [sink, sink2] = await Promise.all([startTestSink(), startTestSink()]);
    api = adminClient(
      () => gw.httpUrl,
      (await gw.app.store.createApiKey({ role: 'operator', label: 'ops', now: Date.now() })).key,
    );
    regulatorKey = (await gw.app.store.createApiKey({ role: 'regulator', label: 'reg', now: Date.now() })).key;
  });
  afterAll(async () => {
    await car?.endAsync(true).catch(() => undefined);
    await gw?.stop();
    await Promise.all([sink?.close(), sink2?.close()]);
  });

  it('registers an OEM at a real sink; until a policy is active nothing is queued for its cars (deny by default)', async () => {
    const created = await api.ok<{
      oem: { id: string; source: string; enabled: boolean; activePolicy: null };
      signingKey: string;
    }>('POST', '/oems', { id: 'acme', name: 'Acme Motors', endpoint: sink.url, allowPrivateNetworks: true }, 201);
    expect(created.oem).toMatchObject({ id: 'acme', source: 'api', enabled: true, activePolicy: null });
    expect(Buffer.from(created.signingKey, 'base64url').length).toBeGreaterThanOrEqual(32);
    signingKey = created.signingKey;
    // The key is shown once: never again in the OEM's view.
    expect(JSON.stringify(await api.ok('GET', '/oems/acme'))).not.toContain(signingKey);

    const v = await api.ok<{ vehicle: { vin: string; status: string }; secret: string }>(
      'POST',
      '/vehicles',
      { vin: VIN, oem: 'acme' },
      201,
    );
    expect(v.vehicle).toMatchObject({ vin: VIN, status: 'active' });
    secret = v.secret;
    expect(JSON.stringify(await api.ok('GET', `/vehicles/${VIN}`))).not.toContain(secret);

    expect(await queuedFor(secret)).toBe(0);
  });

  it("uploads and activates a policy; a real MQTT car's data reaches the sink with only the policy's fields, signed", async () => {
    const up = await api.ok<{
      hash: string;
      created: boolean;
      diff: { from: null; lines: { effect: string; what: string }[] };
      activation: { changed: boolean; from: null };
    }>('POST', '/oems/acme/policies', { text: V1, activate: true }, 201);
    expect(up).toMatchObject({ created: true, diff: { from: null }, activation: { changed: true, from: null } });
    expect(up.diff.lines.map((l) => `${l.effect} ${l.what}`)).toEqual([
      'opens new purpose, sends Vehicle.VehicleIdentification.VIN, Vehicle.Speed',
      // A line that sends a non-technical class is named on its own (src/policy/classes.ts).
      'opens Vehicle.VehicleIdentification.VIN sends identifier data (pseudonym)',
    ]);
    hashes.v1 = up.hash;

    car = await connect(secret);
    const hit = await deliver(sink, 42);
    expect(Object.keys(hit.body.signals).sort()).toEqual(['Vehicle.Speed', 'Vehicle.VehicleIdentification.VIN']);
    expect(hit.raw).not.toContain(VIN);
    expect(hit.raw).not.toContain('Asel');
    expect(hit.raw).not.toContain('1234');
    expect(hit.headers['shekara-policy-hash']).toBe(hashes.v1);
    expect(
      verifySignature(
        Buffer.from(signingKey, 'base64url'),
        hit.raw,
        hit.headers['shekara-signature'] as string,
        Date.now(),
      ),
    ).toBe(true);
  });

  it('rotating the secret disconnects the connected car at once and refuses the old secret', async () => {
    const closed = closedByServer(car);
    const r = await api.ok<{ secret: string; disconnected: number; vehicle: { status: string } }>(
      'POST',
      `/vehicles/${VIN}/credentials/rotate`,
      undefined,
      200,
    );
    expect(r.disconnected).toBe(1);
    await closed;
    await expect(connect(secret)).rejects.toThrow(/Bad username or password|Connection refused/);
    expect(r.secret).not.toBe(secret);
    secret = r.secret;
    car = await connect(secret);
    await deliver(sink, 43);
  });

  it('a new version changes what leaves; rolling back to the old hash restores the old fields; each activation is in the history', async () => {
    const up = await api.ok<{
      hash: string;
      activation: null;
      diff: { from: string; lines: { effect: string; what: string }[] };
    }>('POST', '/oems/acme/policies', { text: V2 }, 201);
    hashes.v2 = up.hash;
    expect(up.activation).toBeNull();
    expect(up.diff.from).toBe(hashes.v1);
    expect(up.diff.lines.map((l) => `${l.effect} ${l.what}`)).toEqual(['opens Vehicle.TraveledDistance: pass']);
    expect(await api.ok('GET', `/oems/acme/policies/${hashes.v2}/diff`)).toEqual(up.diff);
    expect(await api.ok('GET', '/oems/acme')).toMatchObject({ activePolicy: { hash: hashes.v1 } });

    expect(await api.ok('POST', `/oems/acme/policies/${hashes.v2}/activate`)).toMatchObject({
      from: hashes.v1,
      to: hashes.v2,
      changed: true,
    });
    expect(Object.keys((await deliver(sink, 44)).body.signals)).toContain('Vehicle.TraveledDistance');

    // Rollback: the activation of an older hash.
    expect(await api.ok('POST', `/oems/acme/policies/${hashes.v1}/activate`)).toMatchObject({
      from: hashes.v2,
      to: hashes.v1,
      changed: true,
    });
    expect(Object.keys((await deliver(sink, 45)).body.signals).sort()).toEqual([
      'Vehicle.Speed',
      'Vehicle.VehicleIdentification.VIN',
    ]);
    expect(await api.ok('POST', `/oems/acme/policies/${hashes.v1}/activate`)).toMatchObject({ changed: false });

    const history = await api.ok<{
      active: { hash: string };
      versions: { hash: string; active: boolean }[];
      activations: { hash: string; source: string }[];
    }>('GET', '/oems/acme/policies');
    expect(history.active.hash).toBe(hashes.v1);
    expect(history.activations.map((a) => a.hash)).toEqual([hashes.v1, hashes.v2, hashes.v1]);
    expect(history.activations[0]!.source).toBe(`admin-api:${api.keyId()}`);
    expect(history.versions.map((v) => [v.hash, v.active])).toEqual([
      [hashes.v2, false],
      [hashes.v1, true],
    ]);
    expect(await api.ok('GET', `/oems/acme/policies/${hashes.v2}`)).toMatchObject({ text: V2, active: false });
    // The same text again is the same version: nothing new is stored.
    expect(await api.ok('POST', '/oems/acme/policies', { text: V1 }, 200)).toMatchObject({
      hash: hashes.v1,
      created: false,
    });
  });

  it('refuses an invalid policy with line, path and reason, and the active version stays', async () => {
    const bad = await api.call('POST', '/oems/acme/policies', {
      text: policyText('acme', ['Vehicle.Speed: smudge']),
      activate: true,
    });
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as { code: string; problems: string[] };
    expect(body.code).toBe('SHK_POLICY_UNKNOWN_TRANSFORM');
    expect(body.problems[0]).toMatch(/^line 7 purposes\.0\.fields\.Vehicle\.Speed: unknown transform "smudge"/);

    const unsafe = await api.call('POST', '/oems/acme/policies', {
      text: policyText('acme', ['Vehicle.VehicleIdentification.VIN: pass'], { vin: false }),
    });
    expect(unsafe.status).toBe(400);
    expect(await unsafe.json()).toMatchObject({
      code: 'SHK_POLICY_UNSAFE',
      problems: [
        expect.stringMatching(
          /^line \d+ purposes\.0\.fields\.Vehicle\.VehicleIdentification\.VIN: the VIN may only be pseudonymized or dropped/,
        ),
      ],
    });

    const other = await api.call('POST', '/oems/acme/policies', {
      text: policyText('someone-else', ['Vehicle.Speed: pass']),
    });
    expect(await other.json()).toMatchObject({
      code: 'SHK_POLICY_INVALID',
      problems: ['oem: the policy is for OEM "someone-else", not "acme"'],
    });
    expect(await api.ok('GET', '/oems/acme')).toMatchObject({ activePolicy: { hash: hashes.v1 } });
  });

  it('a changed destination takes effect for the next delivery: a new endpoint, and a withdrawn allowance blocks', async () => {
    await api.ok('PATCH', '/oems/acme', { endpoint: sink2.url });
    await deliver(sink2, 46);

    await api.ok('PATCH', '/oems/acme', { allowPrivateNetworks: false });
    await car.publishAsync(telemetryTopic(VIN), JSON.stringify({ ...PAYLOAD, speed: 47 }), { qos: 1 });
    const blocked = await eventually(
      async () => (await gw.app.store.listEgressLog({ oem: 'acme' })).find((e) => e.outcome === 'blocked'),
      5_000,
      'a blocked delivery',
    );
    expect(blocked.error).toMatch(/SHK_EGRESS_DEST_COUNTRY: .*allowPrivateNetworks is false/);
    expect(sink2.hits.some((h) => h.body.signals['Vehicle.Speed'] === 47)).toBe(false);

    await api.ok('PATCH', '/oems/acme', { allowPrivateNetworks: true, endpoint: sink.url });
    await deliver(sink, 48);
  });

  it('a disabled OEM is sent nothing and nothing new is queued for it; what waited is delivered once it is enabled', async () => {
    sink.status = 503;
    await car.publishAsync(telemetryTopic(VIN), JSON.stringify({ ...PAYLOAD, speed: 49 }), { qos: 1 });
    await eventually(
      async () => (await gw.app.store.listEgressLog({ oem: 'acme' })).some((e) => e.outcome === 'failed'),
      5_000,
      'a failed attempt',
    );
    expect(await api.ok('POST', '/oems/acme/disable')).toMatchObject({
      enabled: false,
      disabledAt: expect.any(String),
    });
    await eventually(() => gw.app.egress.inFlight === 0, 5_000, 'no delivery in flight');
    sink.status = 200;

    expect(await queuedFor(secret)).toBe(0);
    // The waiting row is neither blocked nor dropped: still pending.
    expect((await gw.app.store.counts()).outboxPending).toBeGreaterThanOrEqual(1);
    expect(sink.hits.some((h) => h.body.signals['Vehicle.Speed'] === 49)).toBe(false);

    expect(await api.ok('POST', '/oems/acme/enable')).toMatchObject({ enabled: true, disabledAt: null });
    await eventually(
      () => sink.hits.find((h) => h.body.signals['Vehicle.Speed'] === 49),
      5_000,
      'the waiting delivery',
    );
    expect((await gw.app.store.listEgressLog({ oem: 'acme' })).filter((e) => e.outcome === 'dead-lettered')).toEqual(
      [],
    );
  });

  it('config OEMs are listed but read-only through the API', async () => {
    const { oems } = await api.ok<{ oems: { id: string; source: string }[] }>('GET', '/oems');
    expect(oems.map((o) => [o.id, o.source])).toEqual([
      ['acme', 'api'],
      ['demo-oem', 'config'],
    ]);
    for (const [method, path, body] of [
      ['PATCH', '/oems/demo-oem', { name: 'x' }],
      ['POST', '/oems/demo-oem/disable', undefined],
      ['POST', '/oems/demo-oem/policies', { text: policyText('demo-oem', ['Vehicle.Speed: pass']) }],
    ] as const) {
      const res = await api.call(method, path, body);
      expect(res.status, path).toBe(409);
      expect(await res.json()).toMatchObject({
        code: 'SHK_ADMIN_READ_ONLY',
        message: expect.stringContaining('defined in the config file'),
      });
    }
    const dup = await api.call('POST', '/oems', { id: 'demo-oem', endpoint: sink.url });
    expect(dup.status).toBe(409);
    expect(await dup.json()).toMatchObject({ code: 'SHK_ADMIN_CONFLICT' });
    expect((await api.call('POST', '/oems', { id: 'acme', endpoint: sink.url })).status).toBe(409);
  });

  it('revoking the credentials refuses the car over MQTT and HTTPS and disconnects it; rotating issues new ones', async () => {
    const closed = closedByServer(car);
    expect(await api.ok('POST', `/vehicles/${VIN}/credentials/revoke`)).toMatchObject({
      changed: true,
      disconnected: 1,
      vehicle: { status: 'revoked' },
    });
    await closed;
    await expect(connect(secret)).rejects.toThrow(/Bad username or password|Connection refused/);
    const res = await fetch(`${gw.httpUrl}/v1/vehicles/${VIN}/telemetry`, {
      method: 'POST',
      body: '{}',
      headers: { authorization: `Basic ${Buffer.from(`${VIN}:${secret}`).toString('base64')}` },
    });
    expect(res.status).toBe(401);
    expect(await api.ok('POST', `/vehicles/${VIN}/credentials/revoke`)).toMatchObject({ changed: false });

    const r = await api.ok<{ secret: string; vehicle: { status: string } }>(
      'POST',
      `/vehicles/${VIN}/credentials/rotate`,
      { secret: 'an-imported-secret-of-32-characters' },
    );
    expect(r).toMatchObject({ secret: 'an-imported-secret-of-32-characters', vehicle: { status: 'active' } });
    secret = r.secret;
    car = await connect(secret);
    const { vehicles } = await api.ok<{ vehicles: { vin: string }[] }>('GET', '/vehicles?oem=acme');
    expect(vehicles.map((v) => v.vin)).toEqual([VIN]);
  });

  it('creates, lists and revokes API keys; an OEM key is bound to a registry OEM; the last operator key stays', async () => {
    const oemKey = await api.ok<{ id: string; key: string; role: string; scope: string }>(
      'POST',
      '/api-keys',
      { role: 'oem', oem: 'acme', label: 'Acme integration' },
      201,
    );
    expect(oemKey).toMatchObject({ role: 'oem', scope: 'acme', label: 'Acme integration' });
    const asOem = (key: string) =>
      fetch(`${gw.httpUrl}/oem/v1/openapi.json`, { headers: { authorization: `Bearer ${key}` } });
    expect((await asOem(oemKey.key)).status).toBe(200);
    const listed = await api.ok<{ keys: { id: string }[] }>('GET', '/api-keys');
    expect(listed.keys.map((k) => k.id)).toContain(oemKey.id);
    // The secret is everything after `shk_<id>_`; base64url may itself hold `_`.
    expect(JSON.stringify(listed)).not.toContain(oemKey.key.slice('shk_'.length + 16 + 1));
    expect(await api.ok('DELETE', `/api-keys/${oemKey.id}`)).toMatchObject({
      id: oemKey.id,
      revokedAt: expect.any(String),
    });
    expect((await asOem(oemKey.key)).status).toBe(401);
    expect((await api.call('DELETE', `/api-keys/${oemKey.id}`)).status).toBe(404);

    // Only one operator key is active: revoking it would lock every operator out.
    const last = await api.call('DELETE', `/api-keys/${api.keyId()}`);
    expect(last.status).toBe(409);
    expect(await last.json()).toMatchObject({
      code: 'SHK_ADMIN_CONFLICT',
      message: expect.stringContaining('last active operator key'),
    });
    // With a second one, an operator may revoke even the key it is using (key rotation).
    const next = await api.ok<{ key: string }>('POST', '/api-keys', { role: 'operator', label: 'ops 2' }, 201);
    const old = api.keyId();
    await api.ok('DELETE', `/api-keys/${old}`);
    expect((await api.call('GET', '/oems')).status).toBe(401);
    api.useKey(next.key);
    expect((await api.call('GET', '/oems')).status).toBe(200);
  });

  it("binds an owner to a vehicle with a token shown once, lists the vehicle's owners and revokes the token", async () => {
    const o = await api.ok<{ id: string; token: string; vins: string[] }>(
      'POST',
      '/owners',
      { ownerRef: 'customer-0042', vins: [VIN] },
      201,
    );
    expect(o.vins).toEqual([VIN]);
    expect(await gw.app.store.authenticateOwner(o.token)).toMatchObject({ id: o.id, vins: [VIN] });
    const { owners } = await api.ok<{ owners: { id: string; ownerRef: string; revokedAt: null }[] }>(
      'GET',
      `/vehicles/${VIN}/owners`,
    );
    expect(owners).toEqual([expect.objectContaining({ id: o.id, ownerRef: 'customer-0042', revokedAt: null })]);
    expect(JSON.stringify(owners)).not.toContain(o.token);
    expect(await api.ok('DELETE', `/owners/${o.id}`)).toEqual({ id: o.id, revoked: true });
    expect(await gw.app.store.authenticateOwner(o.token)).toBeUndefined();
    expect((await api.call('DELETE', `/owners/${o.id}`)).status).toBe(404);
  });

  it('answers 404 with SHK_NOT_FOUND for what does not exist', async () => {
    for (const [method, path] of [
      ['GET', '/oems/nobody'],
      ['GET', '/vehicles/LACME000000000999'],
      ['GET', `/oems/acme/policies/sha256:${'0'.repeat(64)}`],
      ['POST', `/oems/acme/policies/sha256:${'0'.repeat(64)}/activate`],
      ['GET', '/vehicles/LACME000000000999/owners'],
      ['GET', '/no-such-route'],
    ] as const) {
      const res = await api.call(method, path);
      expect(res.status, path).toBe(404);
      expect(await res.json()).toMatchObject({ code: 'SHK_NOT_FOUND' });
    }
  });

  it('every route in the OpenAPI document answers 401 without a key and 403 to another role', async () => {
    const doc = await api.ok<{ paths: Record<string, Record<string, unknown>> }>('GET', '/openapi.json');
    const fill = (p: string) =>
      p.replace('{oem}', 'acme').replace('{hash}', hashes.v1).replace('{vin}', VIN).replace('{id}', '0'.repeat(16));
    const routes = Object.entries(doc.paths).flatMap(([p, methods]) =>
      Object.keys(methods).map((m) => [m.toUpperCase(), p.replace(/^\/admin\/v1/, '')] as const),
    );
    expect(routes.map(([m, p]) => `${m} ${p}`).sort()).toEqual(ADMIN_ROUTES);
    const others = [regulatorKey];
    for (const [role, scope] of [
      ['owner-app', null],
      ['oem', 'acme'],
      ['regulator', null],
    ] as const) {
      others.push((await gw.app.store.createApiKey({ role, scope, label: role, now: Date.now() })).key);
    }
    for (const [method, p] of routes) {
      const url = `${gw.httpUrl}/admin/v1${fill(p)}`;
      const body = method === 'GET' || method === 'DELETE' ? undefined : '{}';
      const none = await fetch(url, { method, body, headers: body ? { 'content-type': 'application/json' } : {} });
      expect(none.status, `${method} ${p} without a key`).toBe(401);
      expect(await none.json()).toMatchObject({ code: 'SHK_AUTH_REQUIRED' });
      for (const key of others) {
        const res = await fetch(url, {
          method,
          body,
          headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        });
        expect(res.status, `${method} ${p} with another role's key`).toBe(403);
        expect(await res.json()).toMatchObject({ code: 'SHK_AUTH_FORBIDDEN' });
      }
    }
  });

  it('refuses a bad body with 400 naming the field and the reason', async () => {
    const cases: [string, string, unknown, RegExp][] = [
      ['POST', '/oems', { id: 'Bad Id', endpoint: 'http://127.0.0.1/' }, /^body\.id: must match pattern/],
      ['POST', '/oems', { id: 'x1', endpoint: 'http://127.0.0.1/', colour: 'red' }, /^body\.colour: unknown field$/],
      ['POST', '/oems', { id: 'x2' }, /^body\.endpoint: required$/],
      [
        'POST',
        '/oems',
        { id: 'x3', endpoint: 'http://127.0.0.1/', allowedCountries: ['de'] },
        /^body\.allowedCountries\.0: must match pattern/,
      ],
      [
        'POST',
        '/oems',
        { id: 'x4', endpoint: 'http://127.0.0.1/', mtls: { certFile: '/etc/hostname', keyFile: '/etc/hostname' } },
        /^body\.mtls: a client certificate needs an https:\/\/ endpoint$/,
      ],
      [
        'POST',
        '/oems',
        { id: 'x5', endpoint: 'https://127.0.0.1/', mtls: { certFile: 'cert.pem', keyFile: '/etc/hostname' } },
        /^body\.mtls\.certFile: must be an absolute path/,
      ],
      [
        'POST',
        '/oems',
        { id: 'x6', endpoint: 'https://127.0.0.1/', mtls: { certFile: '/no/such/cert.pem', keyFile: '/etc/hostname' } },
        /^body\.mtls\.certFile: cannot read \/no\/such\/cert\.pem/,
      ],
      [
        'POST',
        '/oems',
        { id: 'x7', endpoint: 'https://127.0.0.1/', signingKey: 'c2hvcnQ' },
        /^body\.signingKey: must match pattern/,
      ],
      [
        'POST',
        '/oems',
        { id: 'x8', endpoint: 'https://user:pw@127.0.0.1/' },
        /^body\.endpoint: must not carry credentials/,
      ],
      ['PATCH', '/oems/acme', {}, /^body: must NOT have fewer than 1 properties$/],
      [
        'PATCH',
        '/oems/acme',
        { allowedCountries: ['DE', 'DE'] },
        /^body\.allowedCountries: must NOT have duplicate items/,
      ],
      ['POST', '/oems/acme/disable', { now: true }, /^body\.now: unknown field$/],
      ['POST', '/oems/acme/policies', {}, /^body\.text: required$/],
      ['POST', '/oems/acme/policies', { text: 'x', activate: 'yes' }, /^body\.activate: must be boolean$/],
      ['POST', `/oems/acme/policies/${hashes.v1}/activate`, { force: true }, /^body\.force: unknown field$/],
      ['POST', '/vehicles', { vin: 'short', oem: 'acme' }, /^body\.vin: must match pattern/],
      [
        'POST',
        '/vehicles',
        { vin: 'LACME000000000002', oem: 'nobody' },
        /^body\.oem: no OEM "nobody" in the registry$/,
      ],
      [
        'POST',
        '/vehicles',
        { vin: 'LACME000000000002', oem: 'acme', secret: 'short' },
        /^body\.secret: must NOT have fewer than 24 characters$/,
      ],
      [
        'POST',
        `/vehicles/${VIN}/credentials/rotate`,
        { secret: 'x'.repeat(300) },
        /^body\.secret: must NOT have more than 256 characters$/,
      ],
      ['POST', `/vehicles/${VIN}/credentials/revoke`, { force: true }, /^body\.force: unknown field$/],
      ['POST', '/api-keys', { role: 'root' }, /^body\.role: /],
      ['POST', '/api-keys', { role: 'oem' }, /^body\.oem: required with role oem/],
      ['POST', '/api-keys', { role: 'regulator', oem: 'acme' }, /^body\.oem: goes only with role oem/],
      ['POST', '/api-keys', { role: 'oem', oem: 'nobody' }, /^body\.oem: no OEM "nobody" in the registry$/],
      ['POST', '/owners', { ownerRef: 'c-1', vins: [] }, /^body\.vins: must NOT have fewer than 1 items$/],
      [
        'POST',
        '/owners',
        { ownerRef: 'c-1', vins: ['LACME000000000999'] },
        /^body\.vins\.0: no vehicle LACME000000000999 is registered$/,
      ],
      ['POST', '/owners', { vins: [VIN] }, /^body\.ownerRef: required$/],
    ];
    for (const [method, path, body, message] of cases) {
      const res = await api.call(method, path, body);
      const answer = (await res.json()) as { code: string; message: string };
      expect([res.status, answer.code], `${method} ${path} ${JSON.stringify(body)}: ${answer.message}`).toEqual([
        400,
        'SHK_BAD_REQUEST',
      ]);
      expect(answer.message).toMatch(message);
    }
    const q = await api.call('GET', '/vehicles?colour=red');
    expect(q.status).toBe(400);
    expect(await q.json()).toMatchObject({ message: expect.stringContaining('unknown query parameter "colour"') });
    expect((await api.call('GET', '/oems')).status).toBe(200); // nothing above changed the registry
    expect((await api.ok<{ oems: unknown[] }>('GET', '/oems')).oems).toHaveLength(2);
  });

  it('after a restart the API OEM is still registered and its last activated version (the rollback) is still active', async () => {
    await car.endAsync(true);
    const dir = gw.dir;
    await gw.stop({ keepDir: true });
    gw = await startTestGateway({ cars: 1, dir });
    const acme = await api.ok<{ source: string; enabled: boolean; activePolicy: { hash: string } }>(
      'GET',
      '/oems/acme',
    );
    expect(acme).toMatchObject({ source: 'api', enabled: true, activePolicy: { hash: hashes.v1 } });
    expect(gw.app.policy.policyOf('acme')!.hash).toBe(hashes.v1);
    // A restart is not an activation.
    expect((await api.ok<{ activations: unknown[] }>('GET', '/oems/acme/policies')).activations).toHaveLength(3);
    car = await connect(secret);
    const hit = await deliver(sink, 50);
    expect(Object.keys(hit.body.signals).sort()).toEqual(['Vehicle.Speed', 'Vehicle.VehicleIdentification.VIN']);
    expect(
      verifySignature(
        Buffer.from(signingKey, 'base64url'),
        hit.raw,
        hit.headers['shekara-signature'] as string,
        Date.now(),
      ),
    ).toBe(true);
  });
});

/** Every route this surface has (the lead's cross-surface matrix builds on the same document). */
const ADMIN_ROUTES = [
  'DELETE /api-keys/{id}',
  'DELETE /owners/{id}',
  'GET /api-keys',
  'GET /oems',
  'GET /oems/{oem}',
  'GET /oems/{oem}/policies',
  'GET /oems/{oem}/policies/{hash}',
  'GET /oems/{oem}/policies/{hash}/diff',
  'GET /objections',
  'GET /openapi.json',
  'GET /vehicles',
  'GET /vehicles/{vin}',
  'GET /vehicles/{vin}/owners',
  'PATCH /oems/{oem}',
  'POST /api-keys',
  'POST /oems',
  'POST /oems/{oem}/disable',
  'POST /oems/{oem}/enable',
  'POST /oems/{oem}/policies',
  'POST /oems/{oem}/policies/{hash}/activate',
  'POST /objections/{id}/resolve',
  'POST /owners',
  'POST /vehicles',
  'POST /vehicles/{vin}/credentials/revoke',
  'POST /vehicles/{vin}/credentials/rotate',
  'POST /vehicles/{vin}/gbt32960/iccid-pin/clear',
  'GET /reports',
  'GET /reports/{name}',
  'GET /incidents',
  'POST /incidents',
  'GET /incidents/{id}',
  'POST /incidents/{id}/notice',
  'POST /incidents/{id}/close',
].sort();
