/**
 * The OEM forwarding API over real sockets: real MQTT cars → SQLite → egress (a real HTTP OEM
 * sink for the push OEM) and OEMs calling /oem/v1 with fetch. Pull feed with cursor and
 * acknowledgement, delivery status, the policy view, webhook key rotation, tenant isolation,
 * auth, bad input and the per-OEM rate limit.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../src/ingest/index.js';
import { newCar, nextTelemetry, type SimCar } from '../../src/sim/telemetry.js';
import { currentSigningKey, verifySignature } from '../../src/egress/sign.js';
import { startTestSink, type TestSink } from '../egress/helpers.js';
import { startOemGateway, until, type OemGateway } from './oem-helpers.js';

interface FeedPage {
  items: { cursor: string; body: { deliveryId: string; purpose: string; vehicle: string; observedAt: string } }[];
  nextCursor: string;
  more: boolean;
}

describe('OEM forwarding API (/oem/v1) over HTTP', () => {
  let g: OemGateway;
  let sink: TestSink;
  const sims = new Map<string, SimCar>();
  const publish = async (oem: string, i: number, n: number) => {
    const car = g.cars[oem]![i]!;
    const client = await g.gw.connect(car);
    const sim = sims.get(car.vin) ?? newCar(car.vin, i);
    sims.set(car.vin, sim);
    for (let k = 0; k < n; k++)
      await client.publishAsync(telemetryTopic(car.vin), JSON.stringify(nextTelemetry(sim, Date.now())), { qos: 1 });
    await client.endAsync();
  };
  const store = () => g.gw.app.store;
  const feedOf = async (oem: string, q = '') => {
    const r = await g.call('GET', `/oem/v1/feed${q}`, g.key('oem', oem));
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body as FeedPage;
  };
  const vinA = () => g.cars['oem-a']![0]!.vin;

  beforeAll(async () => {
    sink = await startTestSink();
    g = await startOemGateway(
      [
        { id: 'oem-a', cars: 2, config: { delivery: 'pull' } },
        { id: 'oem-b', cars: 1 },
        { id: 'oem-c', config: { delivery: 'pull', allowPrivateNetworks: false } },
        { id: 'oem-d', config: { delivery: 'pull' } },
        { id: 'oem-e', config: { apiRateLimit: { requestsPerSecond: 0.001, burst: 3 } } },
      ],
      sink.url,
    );
    await store().grantConsent({ vin: vinA(), oem: 'oem-a', purpose: 'battery-research', atMs: Date.now() - 1_000 });
    await publish('oem-a', 0, 4); // 4 records × 2 purposes
    await publish('oem-a', 1, 1); // no consent: speed-profile only
    await publish('oem-b', 0, 2);
    await until(
      async () => (await store().pullFeed('oem-a', 0, 100)).length === 9,
      10_000,
      'oem-a rows parked in its feed',
    );
    await until(() => sink.hits.length >= 2, 10_000, 'oem-b deliveries');
    // The 2xx comes before the outcome is durable (the egress thread commits it after).
    await until(
      async () => (await store().listEgressLog({ oem: 'oem-b' })).filter((e) => e.outcome === 'delivered').length >= 2,
      10_000,
      'oem-b outcomes logged',
    );
  }, 30_000);
  afterAll(async () => {
    await g?.stop();
    await sink?.close();
  });

  describe('pull feed', () => {
    it('never pushes to an OEM configured for pull: its projections wait in its feed, nothing is logged until pulled', async () => {
      for (const h of sink.hits) {
        const [logged] = await store().listEgressLog({ deliveryId: h.body.deliveryId });
        expect((await store().getRecord(logged!.recordId))!.record.oem).toBe('oem-b');
      }
      expect(await store().searchEgress({ oem: 'oem-a' }, 0, 100)).toEqual([]);
    });

    it('serves items in order, logs each as a delivered crossing from the requester, and serves them again until acknowledged', async () => {
      const first = await feedOf('oem-a', '?limit=4');
      expect(first.items).toHaveLength(4);
      expect(first.more).toBe(true);
      const cursors = first.items.map((i) => Number(i.cursor));
      expect([...cursors].sort((a, b) => a - b)).toEqual(cursors);
      expect(first.nextCursor).toBe(String(cursors.at(-1)));

      const logged = await store().searchEgress({ oem: 'oem-a' }, 0, 100);
      expect(logged).toHaveLength(4);
      for (const [i, e] of logged.entries()) {
        const item = first.items.find((x) => x.body.deliveryId === e.deliveryId)!;
        expect(item.body.purpose).toBe(e.purpose);
        expect(e).toMatchObject({
          outcome: 'delivered',
          destination: 'pull:127.0.0.1',
          destinationIp: '127.0.0.1',
          destinationCountry: 'private',
          attempt: 1,
          httpStatus: 200,
        });
        // The log's digest is over exactly the bytes served (what a push would POST).
        expect(e.payloadSha256).toBe(createHash('sha256').update(JSON.stringify(item.body)).digest('hex'));
        expect(i === 0 || logged[i - 1]!.seq < e.seq).toBe(true);
      }

      const again = await feedOf('oem-a', '?limit=4');
      expect(again.items.map((i) => i.cursor)).toEqual(first.items.map((i) => i.cursor));
      const twice = await store().searchEgress({ oem: 'oem-a' }, 0, 100);
      expect(twice).toHaveLength(8);
      expect(twice.slice(4).map((e) => e.attempt)).toEqual([2, 2, 2, 2]);

      const rest = await feedOf('oem-a', `?limit=100&cursor=${first.nextCursor}`);
      expect(rest.items).toHaveLength(5);
      expect(rest.items.every((i) => Number(i.cursor) > Number(first.nextCursor))).toBe(true);
      expect(rest.more).toBe(false);
      const car0 = [...first.items, ...rest.items].filter(
        (i) => i.body.vehicle === g.pseudonym('oem-a', vinA()) && i.body.purpose === 'speed-profile',
      );
      expect(car0.map((i) => i.body.observedAt)).toEqual(car0.map((i) => i.body.observedAt).sort());

      const done = await feedOf('oem-a', `?cursor=${rest.nextCursor}`);
      expect(done).toEqual({ items: [], nextCursor: rest.nextCursor, more: false });
    });

    it('re-checks consent per item at pull time: a revoked purpose is not served and is logged as blocked', async () => {
      await publish('oem-a', 0, 2);
      const { acked } = await store().feedPosition('oem-a');
      await until(async () => (await store().pullFeed('oem-a', acked, 100)).length === 4, 10_000, 'new rows parked');
      await store().revokeConsent({ vin: vinA(), oem: 'oem-a', purpose: 'battery-research', atMs: Date.now() });

      const page = await feedOf('oem-a');
      expect(page.items.map((i) => i.body.purpose)).toEqual(['speed-profile', 'speed-profile']);
      const blocked = await store().searchEgress({ oem: 'oem-a', outcome: 'blocked' }, 0, 100);
      expect(blocked).toHaveLength(2);
      expect(
        blocked.every(
          (e) =>
            e.purpose === 'battery-research' && e.error === 'consent revoked' && e.destination === 'pull:127.0.0.1',
        ),
      ).toBe(true);
      // Not acknowledged yet: the allowed items come again, the blocked ones never.
      expect((await feedOf('oem-a')).items.map((i) => i.cursor)).toEqual(page.items.map((i) => i.cursor));
    });

    it('refuses a cursor past what the feed has served, naming the parameter', async () => {
      const r = await g.call('GET', '/oem/v1/feed?cursor=999999', g.key('oem', 'oem-a'));
      expect(r.status).toBe(400);
      expect(r.body.message).toMatch(/^querystring\.cursor: 999999 is past what this feed has served/);
    });

    it("serves nothing to a requester whose address the OEM's allowedCountries do not allow", async () => {
      const r = await g.call('GET', '/oem/v1/feed', g.key('oem', 'oem-c'));
      expect(r.status).toBe(403);
      expect(r.body).toMatchObject({ code: 'SHK_EGRESS_DEST_COUNTRY' });
      expect(r.body.message).toContain('allowPrivateNetworks is false');
    });

    it('answers 409 to an OEM that is pushed to', async () => {
      const r = await g.call('GET', '/oem/v1/feed', g.key('oem', 'oem-b'));
      expect(r.status).toBe(409);
      expect(r.body.code).toBe('SHK_CONFLICT');
    });

    it("never serves one OEM another OEM's items", async () => {
      expect(
        (await store().pullFeed('oem-a', (await store().feedPosition('oem-a')).acked, 100)).length,
      ).toBeGreaterThan(0);
      expect((await feedOf('oem-d')).items).toEqual([]);
    });
  });

  describe('policy view', () => {
    it('shows the active policy: hash, purposes with fields and transforms, commands', async () => {
      const r = await g.call('GET', '/oem/v1/policy', g.key('oem', 'oem-a'));
      expect(r.status).toBe(200);
      const p = g.gw.app.policy.policyOf('oem-a')!;
      expect(r.body).toMatchObject({ oem: 'oem-a', hash: p.hash, version: null, sensitiveZones: 0 });
      expect(Date.parse(r.body.activatedAt)).toBeGreaterThan(0);
      expect(r.body.purposes).toEqual([
        {
          id: 'speed-profile',
          description: 'Speed profile, no location.',
          legalBasis: null,
          consentRequired: false,
          retention: null,
          minIntervalMs: 0,
          timeBucketMs: 0,
          fields: [
            { selector: 'Vehicle.VehicleIdentification.VIN', transform: 'pseudonymize', options: {} },
            { selector: 'Vehicle.Speed', transform: 'pass', options: {} },
          ],
        },
        {
          id: 'battery-research',
          description: 'Battery ageing research.',
          legalBasis: 'consent',
          consentRequired: true,
          retention: 'P365D',
          minIntervalMs: 0,
          timeBucketMs: 0,
          fields: [
            {
              selector: 'Vehicle.Powertrain.TractionBattery.StateOfCharge.Current',
              transform: 'round',
              options: { step: 10 },
            },
          ],
        },
      ]);
      expect(r.body.commands).toEqual({
        maxTtlSeconds: 600,
        types: [
          {
            type: 'climate-on',
            description: 'Precondition the cabin.',
            restricting: false,
            purpose: null,
            maxPerVehiclePerHour: 3,
            params: { temperatureC: { type: 'number', minimum: 16, maximum: 28, required: true } },
          },
          {
            type: 'immobilize',
            description: 'Keep the engine from starting.',
            restricting: true,
            purpose: null,
            maxPerVehiclePerHour: null,
            params: {},
          },
        ],
      });
    });

    it('shows each OEM its own policy only', async () => {
      const r = await g.call('GET', '/oem/v1/policy', g.key('oem', 'oem-b'));
      expect(r.body).toMatchObject({ oem: 'oem-b', hash: g.gw.app.policy.policyOf('oem-b')!.hash });
    });
  });

  describe('delivery status', () => {
    it("shows one delivery's attempts to this OEM by the id it received, never the record id, and 404 to another OEM", async () => {
      const [e] = await store().searchEgress({ oem: 'oem-a' }, 0, 1);
      const mine = await g.call('GET', `/oem/v1/deliveries/${e!.deliveryId}`, g.key('oem', 'oem-a'));
      expect(mine.status).toBe(200);
      expect(mine.body.entries.length).toBeGreaterThan(0);
      expect(
        mine.body.entries.every(
          (x: { oem: string; deliveryId: string }) => x.oem === 'oem-a' && x.deliveryId === e!.deliveryId,
        ),
      ).toBe(true);
      expect(mine.body.latest.map((l: { purpose: string }) => l.purpose)).toEqual([e!.purpose]);
      // The gateway's record id (UUIDv7: the receipt time) stays in the country.
      expect(JSON.stringify(mine.body)).not.toContain(e!.recordId);
      expect((await g.call('GET', `/oem/v1/deliveries/${e!.recordId}`, g.key('oem', 'oem-a'))).status).toBe(404);
      const other = await g.call('GET', `/oem/v1/deliveries/${e!.deliveryId}`, g.key('oem', 'oem-b'));
      expect(other.status).toBe(404);
      expect(other.body.code).toBe('SHK_NOT_FOUND');
    });

    it("lists this OEM's deliveries only, filtered by outcome and time, page by page", async () => {
      const blocked = await g.call('GET', '/oem/v1/deliveries?outcome=blocked', g.key('oem', 'oem-a'));
      expect(blocked.body.entries).toHaveLength(2);
      const b = await g.call(
        'GET',
        `/oem/v1/deliveries?from=${new Date(Date.now() - 60_000).toISOString()}`,
        g.key('oem', 'oem-b'),
      );
      expect(b.body.entries.length).toBe((await store().searchEgress({ oem: 'oem-b' }, 0, 100)).length);
      expect(b.body.entries.every((x: { oem: string }) => x.oem === 'oem-b')).toBe(true);
      const seen: number[] = [];
      for (let cursor: string | null = ''; cursor !== null;) {
        const page: { status: number; body: { entries: { seq: number }[]; nextCursor: string | null } } = await g.call(
          'GET',
          `/oem/v1/deliveries?limit=3${cursor ? `&cursor=${cursor}` : ''}`,
          g.key('oem', 'oem-a'),
        );
        seen.push(...page.body.entries.map((x) => x.seq));
        cursor = page.body.nextCursor;
      }
      expect(seen).toEqual((await store().searchEgress({ oem: 'oem-a' }, 0, 1000)).map((x) => x.seq));
    });
  });

  describe('webhook secret rotation', () => {
    // The deliveries of n new records: hits with a delivery id not seen before. A POST the sink
    // answered after the gateway's request timeout is sent again with the same id (at least
    // once); such a repeat, signed before a rotation, is not one of the new deliveries.
    const deliveredTo = async (n: number) => {
      const seen = new Set(sink.hits.map((h) => h.body.deliveryId));
      const fresh = () => sink.hits.filter((h) => !seen.has(h.body.deliveryId));
      await publish('oem-b', 0, n);
      await until(() => new Set(fresh().map((h) => h.body.deliveryId)).size >= n, 10_000, 'new oem-b deliveries');
      return fresh();
    };

    it('signs with both keys during the overlap, and with the new one alone after a hard switch', async () => {
      const original = await currentSigningKey({ id: 'oem-b' }, store());
      const untouched = g.gw.app.egress.signing.keysFor('oem-a', Date.now());
      const r1 = await g.call('POST', '/oem/v1/webhook-secret/rotate', g.key('oem', 'oem-b'), { overlapSeconds: 3600 });
      expect(r1.status).toBe(200);
      expect(r1.headers.get('cache-control')).toBe('no-store');
      expect(r1.body).toMatchObject({ oem: 'oem-b', version: 1 });
      const rotated = Buffer.from(r1.body.key, 'base64url');
      expect(rotated.length).toBe(32);
      expect(Date.parse(r1.body.previousKeySignsUntil) - Date.parse(r1.body.createdAt)).toBe(3_600_000);

      const [overlap] = await deliveredTo(1);
      const header = overlap!.headers['shekara-signature'] as string;
      expect(header.match(/v1=/g)).toHaveLength(2);
      expect(verifySignature(rotated, overlap!.raw, header, Date.now())).toBe(true);
      expect(verifySignature(original, overlap!.raw, header, Date.now())).toBe(true);
      expect(await currentSigningKey({ id: 'oem-b' }, store())).toEqual(rotated);

      const r2 = await g.call('POST', '/oem/v1/webhook-secret/rotate', g.key('oem', 'oem-b'), { overlapSeconds: 0 });
      const hard = Buffer.from(r2.body.key, 'base64url');
      const [after] = await deliveredTo(1);
      const h2 = after!.headers['shekara-signature'] as string;
      expect(h2.match(/v1=/g)).toHaveLength(1);
      expect(verifySignature(hard, after!.raw, h2, Date.now())).toBe(true);
      expect(verifySignature(rotated, after!.raw, h2, Date.now())).toBe(false);
      expect(verifySignature(original, after!.raw, h2, Date.now())).toBe(false);
      expect(g.gw.app.egress.signing.keysFor('oem-a', Date.now())).toEqual(untouched);
    });

    it('takes an empty body or none (an hour of overlap) and refuses a bad overlap by name', async () => {
      for (const body of [{}, undefined]) {
        const ok = await g.call('POST', '/oem/v1/webhook-secret/rotate', g.key('oem', 'oem-d'), body);
        expect(ok.status).toBe(200);
        expect(Date.parse(ok.body.previousKeySignsUntil) - Date.parse(ok.body.createdAt)).toBe(3_600_000);
      }
      const bad = await g.call('POST', '/oem/v1/webhook-secret/rotate', g.key('oem', 'oem-d'), { overlapSeconds: -5 });
      expect(bad.status).toBe(400);
      expect(bad.body).toEqual({ code: 'SHK_BAD_REQUEST', message: 'body.overlapSeconds: must be >= 0' });
      const extra = await g.call('POST', '/oem/v1/webhook-secret/rotate', g.key('oem', 'oem-d'), { overlap: 5 });
      expect(extra.body.message).toBe('body.overlap: unknown field');
    });
  });

  describe('auth, input and limits', () => {
    const routes: [string, string, unknown?][] = [
      ['GET', '/oem/v1/policy'],
      ['GET', '/oem/v1/feed'],
      ['GET', '/oem/v1/deliveries'],
      ['GET', '/oem/v1/deliveries/0190c5e1-0000-7000-8000-000000000000'],
      ['POST', '/oem/v1/webhook-secret/rotate', {}],
      ['POST', '/oem/v1/vehicles/AAAAAAAAAAAAAAAAAAAAAA/commands', { type: 'climate-on' }],
      ['GET', '/oem/v1/vehicles/AAAAAAAAAAAAAAAAAAAAAA/commands/0190c5e1-0000-7000-8000-000000000000'],
    ];

    it('lists every route in its OpenAPI document', async () => {
      const doc = await g.call('GET', '/oem/v1/openapi.json', g.key('oem', 'oem-d'));
      for (const [method, url] of routes) {
        const path = url
          .replace('/oem/v1', '')
          .replace(/AAAAAAAAAAAAAAAAAAAAAA/, '{pseudonym}')
          .replace(/\/0190c5e1[^/]*$/, url.includes('deliveries') ? '/{deliveryId}' : '/{id}');
        expect(doc.body.paths[`/oem/v1${path}`]?.[method.toLowerCase()], `${method} ${path}`).toBeDefined();
      }
    });

    it('documents the push it receives, single and batched (all or nothing), as OpenAPI webhooks', async () => {
      const doc = await g.call('GET', '/oem/v1/openapi.json', g.key('oem', 'oem-d'));
      expect(doc.body.webhooks.projection.post.requestBody.content['application/json']).toBeDefined();
      const batch = doc.body.webhooks.projectionBatch.post;
      const item = batch.requestBody.content['application/vnd.shekara.batch+json'].schema.properties.items.items;
      expect(item.required).toContain('idempotencyKey');
      expect(batch.responses['2XX'].description).toContain('EVERY item');
    });

    it('answers 401 without a key and 403 to every other role, on every route', async () => {
      for (const [method, url, body] of routes) {
        expect((await g.call(method, url, null, body)).status, `${method} ${url}`).toBe(401);
        for (const role of ['operator', 'regulator', 'owner-app'] as const) {
          const r = await g.call(method, url, g.key(role), body);
          expect(r.status, `${role} ${method} ${url}`).toBe(403);
          expect(r.body.code).toBe('SHK_AUTH_FORBIDDEN');
        }
      }
    });

    it('refuses unknown query parameters and out-of-range ones by name', async () => {
      expect((await g.call('GET', '/oem/v1/feed?limit=0', g.key('oem', 'oem-d'))).body.message).toBe(
        'querystring.limit: must be >= 1',
      );
      expect((await g.call('GET', '/oem/v1/deliveries?oem=oem-b', g.key('oem', 'oem-d'))).body.message).toMatch(
        /unknown query parameter "oem"/,
      );
    });

    it("limits each OEM's requests with a token bucket: 429 with Retry-After, other OEMs unaffected", async () => {
      const statuses: number[] = [];
      let last;
      for (let i = 0; i < 4; i++) {
        last = await g.call('GET', '/oem/v1/policy', g.key('oem', 'oem-e'));
        statuses.push(last.status);
      }
      expect(statuses).toEqual([200, 200, 200, 429]);
      expect(last!.body.code).toBe('SHK_RATE_LIMITED');
      expect(Number(last!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      // The bucket is the OEM's, not the key's: a second key of the same OEM waits too.
      const other = (
        await g.gw.app.store.createApiKey({ role: 'oem', scope: 'oem-e', label: 'second', now: Date.now() })
      ).key;
      expect((await g.call('GET', '/oem/v1/policy', other)).status).toBe(429);
      expect((await g.call('GET', '/oem/v1/policy', g.key('oem', 'oem-b'))).status).toBe(200);
    });
  });
});
