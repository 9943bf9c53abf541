/**
 * The authorization matrix over EVERY route of every API surface, read from the surfaces' own
 * OpenAPI documents (so a route added later is covered without editing this file), × every role,
 * × another tenant's resources. One real gateway, two OEMs with a car each, real MQTT cars, fetch
 * over the real socket. What a user must never see: an answer to no key, to the wrong role, or
 * about another OEM's or another owner's vehicle. The count of such successes must be zero.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../src/ingest/index.js';
import { newCar, nextTelemetry } from '../../src/sim/telemetry.js';
import { OWNER_TOKEN_HEADER } from '../../src/api/owner/binding.js';
import type { ApiRole } from '../../src/store/index.js';
import { startOemGateway, until, type OemGateway } from './oem-helpers.js';

interface Route {
  readonly surface: Surface;
  readonly method: string;
  readonly path: string;
  readonly params: readonly string[];
}
type Surface = 'regulator' | 'admin' | 'oem' | 'owner';

const SURFACES: Record<Surface, { prefix: string; role: ApiRole }> = {
  regulator: { prefix: '/regulator/v1', role: 'regulator' },
  admin: { prefix: '/admin/v1', role: 'operator' },
  oem: { prefix: '/oem/v1', role: 'oem' },
  owner: { prefix: '/owner/v1', role: 'owner-app' },
};
const ROLES: readonly ApiRole[] = ['regulator', 'operator', 'oem', 'owner-app'];
/** Path parameters that name a tenant's resource: a route with one is about one vehicle or record. */
const TENANT_PARAMS = new Set(['vin', 'pseudonym', 'recordId', 'id', 'commandId']);

describe('authorization › every route × every role × another tenant', () => {
  let g: OemGateway;
  let routes: Route[] = [];
  let tokenA = '';
  let tokenB = '';
  /** What belongs to OEM B and owner B: none of it may appear in an answer to A. */
  const b = { vin: '', pseudonym: '', deliveryIds: [] as string[], commandId: '' };
  const unauthorized: string[] = [];
  let checks = 0;

  const publish = async (oem: string, n: number) => {
    const car = g.cars[oem]![0]!;
    const client = await g.gw.connect(car);
    const sim = newCar(car.vin, 0);
    for (let k = 0; k < n; k++)
      await client.publishAsync(telemetryTopic(car.vin), JSON.stringify(nextTelemetry(sim, Date.now())), { qos: 1 });
    await client.endAsync();
  };
  /** The route's URL with every path parameter set to one of B's resources. */
  const urlFor = (r: Route) =>
    `${r.path.replace(/\{([A-Za-z]+)\}/g, (_m, name: string) => encodeURIComponent(paramValue(name)))}`;
  const paramValue = (name: string): string => {
    switch (name) {
      case 'vin':
        return b.vin;
      case 'pseudonym':
        return b.pseudonym;
      case 'deliveryId':
        return b.deliveryIds[0]!;
      case 'id':
      case 'commandId':
        return b.commandId;
      case 'seq':
      case 'size':
        return '1';
      case 'type':
        return 'climate-on';
      case 'purpose':
        return 'battery-research';
      case 'oem':
        return 'oem-b';
      default:
        return 'x';
    }
  };
  const call = (r: Route, key: string | null, headers: Record<string, string> = {}) =>
    g.call(r.method, urlFor(r), key, r.method === 'GET' || r.method === 'DELETE' ? undefined : {}, headers);
  const expectRefused = (what: string, status: number, allowed: readonly number[]) => {
    checks += 1;
    if (status >= 200 && status < 300) unauthorized.push(`${what} → ${status}`);
    expect(allowed, what).toContain(status);
  };
  const leaksB = (text: string) =>
    [b.vin, b.pseudonym, b.commandId, ...b.deliveryIds].filter((s) => s && text.includes(s));

  beforeAll(async () => {
    g = await startOemGateway([
      { id: 'oem-a', cars: 1, config: { delivery: 'pull' } },
      { id: 'oem-b', cars: 1, config: { delivery: 'pull' } },
    ]);
    const store = g.gw.app.store;
    const [carA, carB] = [g.cars['oem-a']![0]!, g.cars['oem-b']![0]!];
    b.vin = carB.vin;
    b.pseudonym = g.pseudonym('oem-b', carB.vin);
    tokenA = (await store.createOwnerToken({ ownerRef: 'owner-a', vins: [carA.vin], now: Date.now() })).token;
    tokenB = (await store.createOwnerToken({ ownerRef: 'owner-b', vins: [carB.vin], now: Date.now() })).token;
    await publish('oem-a', 3);
    await publish('oem-b', 3);
    await until(
      async () =>
        (await store.pullFeed('oem-b', 0, 100)).length >= 3 && (await store.pullFeed('oem-a', 0, 100)).length >= 3,
      10_000,
      'both feeds filled',
    );
    // B pulls once, so B has deliveries in the egress log; B sends a command, so B has a command.
    const pulled = await g.call('GET', '/oem/v1/feed', g.key('oem', 'oem-b'));
    expect(pulled.status).toBe(200);
    b.deliveryIds = (pulled.body as { items: { body: { deliveryId: string } }[] }).items.map((i) => i.body.deliveryId);
    expect(b.deliveryIds.length).toBeGreaterThan(0);
    const cmd = await g.call('POST', `/oem/v1/vehicles/${b.pseudonym}/commands`, g.key('oem', 'oem-b'), {
      type: 'climate-on',
      params: { temperatureC: 20 },
    });
    expect(cmd.status, JSON.stringify(cmd.body)).toBe(202);
    b.commandId = (cmd.body as { id: string }).id;

    for (const [surface, { prefix, role }] of Object.entries(SURFACES) as [
      Surface,
      { prefix: string; role: ApiRole },
    ][]) {
      const headers: Record<string, string> = surface === 'owner' ? { [OWNER_TOKEN_HEADER]: tokenA } : {};
      const doc = await g.call(
        'GET',
        `${prefix}/openapi.json`,
        g.key(role, role === 'oem' ? 'oem-a' : undefined),
        undefined,
        headers,
      );
      expect(doc.status, `${prefix}/openapi.json`).toBe(200);
      for (const [path, ops] of Object.entries(
        (doc.body as { paths: Record<string, Record<string, unknown>> }).paths,
      )) {
        for (const method of Object.keys(ops)) {
          routes.push({
            surface,
            method: method.toUpperCase(),
            path,
            params: [...path.matchAll(/\{([A-Za-z]+)\}/g)].map((m) => m[1]!),
          });
        }
      }
    }
    routes = routes.filter((r) => !r.path.endsWith('/openapi.json'));
  }, 60_000);
  afterAll(async () => {
    // The number a reader looks for: how many requests were tried, and how many wrongly succeeded.
    console.log(
      `authorization matrix: ${routes.length} routes, ${checks} refusals checked, ${unauthorized.length} unauthorized successes`,
    );
    await g?.stop();
  });

  it('finds the routes of all four surfaces in their OpenAPI documents', () => {
    const by = (s: Surface) => routes.filter((r) => r.surface === s).length;
    expect(by('regulator')).toBeGreaterThanOrEqual(8);
    expect(by('oem')).toBeGreaterThanOrEqual(7);
    expect(by('owner')).toBeGreaterThanOrEqual(3);
    expect(by('admin')).toBeGreaterThanOrEqual(0);
  });

  it('no route answers without a key, or with a malformed or unknown one (401)', async () => {
    for (const r of routes) {
      for (const key of [null, 'nonsense', 'shk_0000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA']) {
        expectRefused(`${r.method} ${r.path} with key ${String(key)}`, (await call(r, key)).status, [401]);
      }
    }
  });

  it('no route answers a key of another role (403)', async () => {
    for (const r of routes) {
      for (const role of ROLES.filter((x) => x !== SURFACES[r.surface].role)) {
        const headers: Record<string, string> = r.surface === 'owner' ? { [OWNER_TOKEN_HEADER]: tokenA } : {};
        expectRefused(
          `${r.method} ${r.path} as ${role}`,
          (await call(r, g.key(role, role === 'oem' ? 'oem-a' : undefined), headers)).status,
          [403],
        );
      }
    }
  });

  it('an OEM key bound to no OEM is refused on every OEM route', async () => {
    for (const r of routes.filter((x) => x.surface === 'oem')) {
      expectRefused(`${r.method} ${r.path} with an unscoped oem key`, (await call(r, g.key('oem'))).status, [401, 403]);
    }
  });

  it("OEM A can never read, pull or command OEM B's vehicles, records or commands", async () => {
    for (const r of routes.filter((x) => x.surface === 'oem')) {
      const res = await call(r, g.key('oem', 'oem-a'));
      const what = `${r.method} ${r.path} as oem-a with B's resources`;
      if (r.params.some((p) => TENANT_PARAMS.has(p))) {
        expectRefused(what, res.status, [400, 404]);
      } else {
        checks += 1;
        const leaked = leaksB(JSON.stringify(res.body ?? ''));
        if (leaked.length > 0) unauthorized.push(`${what} → ${res.status} holding ${leaked.join(', ')}`);
        expect(leaked, what).toEqual([]);
      }
    }
  });

  it('an owner sees and changes only their own vehicles; no owner token, no answer', async () => {
    for (const r of routes.filter((x) => x.surface === 'owner')) {
      const what = `${r.method} ${r.path}`;
      expectRefused(`${what} without an owner token`, (await call(r, g.key('owner-app'))).status, [401]);
      expectRefused(
        `${what} with a made-up owner token`,
        (await call(r, g.key('owner-app'), { [OWNER_TOKEN_HEADER]: 'sho_0000000000000000_x' })).status,
        [401],
      );
      const res = await call(r, g.key('owner-app'), { [OWNER_TOKEN_HEADER]: tokenA });
      if (r.params.includes('vin')) {
        expectRefused(`${what} as owner A on B's vehicle`, res.status, [400, 404]);
      } else {
        checks += 1;
        const leaked = leaksB(JSON.stringify(res.body ?? ''));
        if (leaked.length > 0) unauthorized.push(`${what} as owner A → ${res.status} holding ${leaked.join(', ')}`);
        expect(leaked, what).toEqual([]);
      }
    }
    // Owner B's own token does reach B's vehicle: the refusals above are about the tenant, not the route.
    const mine = routes.find((r) => r.surface === 'owner' && r.method === 'GET' && r.params.includes('vin'));
    expect(mine, 'an owner GET route naming a vehicle').toBeDefined();
    expect((await call(mine!, g.key('owner-app'), { [OWNER_TOKEN_HEADER]: tokenB })).status).toBe(200);
  });

  it('zero unauthorized successes over the whole matrix', () => {
    expect(checks).toBeGreaterThan(routes.length * 4);
    expect(unauthorized).toEqual([]);
  });
});
