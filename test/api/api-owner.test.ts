/**
 * The owner API over a real socket: a real gateway, real MQTT cars, a real HTTP OEM sink.
 * Owners see and change only their own vehicles; consent has a validity period; the report
 * says what left the country; every change is a leaf that never names the VIN.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/gateway.js';
import { drained, startOwnerGateway, type OwnerGateway } from './owner-helpers.js';

const DAY_MS = 86_400_000;

interface Consent {
  id: number;
  purpose: string;
  grantedAt: string;
  validUntil: string | null;
  revokedAt: string | null;
  endedBy: string | null;
  inForce: boolean;
  source: string;
}
interface Purpose {
  id: string;
  description: string;
  legalBasis: string | null;
  consentRequired: boolean;
  automatedDecisions: boolean;
  consentMaxDays: number;
  retention: string | null;
  fields: Record<string, string>;
  consent: Consent | null;
}
interface Consents {
  vin: string;
  oem: string;
  policyHash: string;
  purposes: Purpose[];
  history: Consent[];
}
interface Report {
  vin: string;
  from: string | null;
  to: string;
  totals: {
    oem: string;
    purpose: string;
    delivered: number;
    bytes: number;
    failed: number;
    deadLettered: number;
    blocked: number;
  }[];
  entries: {
    seq: number;
    at: string;
    oem: string;
    destination: string;
    destinationCountry: string | null;
    purpose: string;
    fieldsSent: string[];
    outcome: string;
    recordId: string;
    deliveryId: string | null;
  }[];
  nextCursor: string | null;
}

describe('owner API › who may ask', () => {
  let o: OwnerGateway;
  beforeAll(async () => {
    o = await startOwnerGateway({ cars: 2 });
  });
  afterAll(async () => o?.stop());

  // Every route this surface adds for owner rights, with a body that is valid for it (so that
  // the only reason to refuse is who asks).
  const routes = (vin: string) => [
    { method: 'GET', path: `/vehicles/${vin}/consents` },
    { method: 'POST', path: `/vehicles/${vin}/consents`, body: { purpose: 'speed' } },
    { method: 'DELETE', path: `/vehicles/${vin}/consents/speed` },
    { method: 'GET', path: `/vehicles/${vin}/report` },
    {
      method: 'POST',
      path: `/vehicles/${vin}/objections`,
      body: { oem: 'demo-oem', purpose: 'battery-score', reason: 'I do not want automated scoring.' },
    },
    { method: 'GET', path: `/vehicles/${vin}/objections` },
    { method: 'POST', path: `/vehicles/${vin}/erasure` },
  ];

  it("lists every route in the surface's OpenAPI document, with the owner-token header", async () => {
    const doc = await o.owner<{
      paths: Record<string, Record<string, { parameters: { name: string; in: string }[] }>>;
    }>('GET', '/openapi.json', { token: null });
    expect(doc.status).toBe(200);
    for (const r of routes('{vin}')) {
      const path = `/owner/v1${r.path.replace('/speed', '/{purpose}')}`;
      const op = doc.body.paths[path]?.[r.method.toLowerCase()];
      expect(op, `${r.method} ${path}`).toBeDefined();
      expect(op!.parameters).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ name: 'shekara-owner-token', in: 'header' }),
          expect.objectContaining({ name: 'vin', in: 'path' }),
        ]),
      );
    }
  });

  it("answers 404 on every route for another owner's vehicle, and changes nothing there", async () => {
    const other = o.gw.cars[1]!.vin;
    const leaves = await o.gw.app.store.auditTreeSize();
    for (const r of routes(other)) {
      const res = await o.owner(r.method, r.path, { body: r.body });
      expect(res.status, `${r.method} ${r.path}`).toBe(404);
      expect(res.body).toMatchObject({ code: 'SHK_NOT_FOUND' });
      expect(JSON.stringify(res.body)).not.toContain('customer-1');
    }
    // Only the access log grew: one `request` leaf per refused request (docs/audit.md).
    const size = await o.gw.app.store.auditTreeSize();
    const added = await o.gw.app.store.exportLeaves(leaves - 1, size, 1_000);
    expect(added.map((l) => [l.entry.kind, l.entry.action, l.entry.status])).toEqual(
      routes(other).map(() => ['access', 'request', 404]),
    );
    expect(await o.gw.app.store.listConsents(other)).toEqual([]);
    expect(await o.gw.app.store.listObjections({ vin: other })).toEqual([]);
  });

  it('answers 401 without the owner token, with an unknown token, or without a key; 403 with a key of another role', async () => {
    const vin = o.gw.cars[0]!.vin;
    for (const r of routes(vin)) {
      const what = `${r.method} ${r.path}`;
      expect((await o.owner(r.method, r.path, { body: r.body, token: null })).status, what).toBe(401);
      expect(
        (
          await o.owner(r.method, r.path, {
            body: r.body,
            token: 'sho_0000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
          })
        ).status,
        what,
      ).toBe(401);
      const noKey = await o.owner(r.method, r.path, { body: r.body, key: null });
      expect(noKey.status, what).toBe(401);
      expect(noKey.body).toMatchObject({ code: 'SHK_AUTH_REQUIRED' });
      for (const key of [o.keys.operator, o.keys.regulator]) {
        const wrong = await o.owner(r.method, r.path, { body: r.body, key });
        expect(wrong.status, what).toBe(403);
        expect(wrong.body).toMatchObject({ code: 'SHK_AUTH_FORBIDDEN' });
      }
    }
    expect(await o.gw.app.store.listObjections({})).toEqual([]);
    expect(await o.gw.app.store.listConsents(vin)).toEqual([]);
  });

  it('refuses bad bodies and queries with 400 naming the field and the reason', async () => {
    const vin = o.gw.cars[0]!.vin;
    const cases: [string, string, unknown, RegExp][] = [
      ['POST', `/vehicles/${vin}/consents`, {}, /^body\.purpose: required$/],
      ['POST', `/vehicles/${vin}/consents`, { purpose: 'speed', until: 'tomorrow' }, /^body\.until: unknown field$/],
      ['POST', `/vehicles/${vin}/consents`, { purpose: 'Speed!' }, /^body\.purpose: must match pattern/],
      [
        'POST',
        `/vehicles/${vin}/consents`,
        { purpose: 'towing' },
        /^body\.purpose: OEM "demo-oem" has no purpose "towing" \(its purposes: speed, battery-score, odometer\)$/,
      ],
      [
        'POST',
        `/vehicles/${vin}/consents`,
        { purpose: 'odometer' },
        /^body\.purpose: purpose "odometer" does not ask for consent \(legal basis contract\)/,
      ],
      [
        'POST',
        `/vehicles/${vin}/consents`,
        { purpose: 'speed', oem: 'other-oem' },
        /^body\.oem: vehicle \w+ belongs to OEM "demo-oem", not "other-oem"$/,
      ],
      [
        'POST',
        `/vehicles/${vin}/consents`,
        { purpose: 'speed', validUntil: 'next week' },
        /^body\.validUntil: must match format "date-time"$/,
      ],
      [
        'POST',
        `/vehicles/${vin}/consents`,
        { purpose: 'speed', validUntil: '2020-01-01T00:00:00Z' },
        /^body\.validUntil: must be in the future/,
      ],
      [
        'POST',
        `/vehicles/${vin}/consents`,
        { purpose: 'speed', validUntil: new Date(Date.now() + 31 * DAY_MS).toISOString() },
        /^body\.validUntil: purpose "speed" allows consent for at most 30 days: until \S+ at the latest$/,
      ],
      [
        'POST',
        `/vehicles/${vin}/objections`,
        { oem: 'demo-oem', purpose: 'battery-score' },
        /^body\.reason: required$/,
      ],
      [
        'POST',
        `/vehicles/${vin}/objections`,
        { oem: 'demo-oem', purpose: 'battery-score', reason: '' },
        /^body\.reason: must NOT have fewer than 1 characters$/,
      ],
      [
        'POST',
        `/vehicles/${vin}/objections`,
        { oem: 'demo-oem', purpose: 'battery-score', reason: '   ' },
        /^body\.reason: must say why, in words$/,
      ],
      [
        'POST',
        `/vehicles/${vin}/objections`,
        { oem: 'demo-oem', purpose: 'nope', reason: 'x' },
        /^body\.purpose: OEM "demo-oem" has no purpose "nope"/,
      ],
      // Not text: PostgreSQL could not store it, so neither store is handed it.
      [
        'POST',
        `/vehicles/${vin}/objections`,
        { oem: 'demo-oem', purpose: 'battery-score', reason: 'no\u0000' },
        /^body\.reason: holds U\+0000 or an unpaired surrogate, which is not text$/,
      ],
      [
        'POST',
        `/vehicles/${vin}/objections`,
        { oem: 'demo-oem', purpose: 'battery-score', reason: 'x\ud800' },
        /^body\.reason: holds U\+0000/,
      ],
      [
        'POST',
        `/vehicles/${vin}/objections`,
        { oem: 'acme', purpose: 'speed', reason: 'x' },
        /^body\.oem: vehicle \w+ belongs to OEM "demo-oem", not "acme"$/,
      ],
      [
        'DELETE',
        `/vehicles/${vin}/consents/odometer`,
        undefined,
        /^params\.purpose: purpose "odometer" does not ask for consent/,
      ],
      [
        'GET',
        `/vehicles/${vin}/report?from=yesterday`,
        undefined,
        /^querystring\.from: must match format "date-time"$/,
      ],
      [
        'GET',
        `/vehicles/${vin}/report?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z`,
        undefined,
        /^querystring\.to: must be after from/,
      ],
      [
        'GET',
        `/vehicles/${vin}/report?vin=${vin}`,
        undefined,
        /^unknown query parameter "vin"; this route accepts from, to, limit, cursor$/,
      ],
      ['GET', `/vehicles/${vin}/report?limit=0`, undefined, /^querystring\.limit: must be >= 1$/],
      ['GET', '/vehicles/not-a-vin/consents', undefined, /^params\.vin: must match pattern/],
    ];
    for (const [method, path, body, message] of cases) {
      const res = await o.owner(method, path, { body });
      expect(res.status, `${method} ${path} ${JSON.stringify(body)}`).toBe(400);
      expect(res.body.code).toBe('SHK_BAD_REQUEST');
      expect(res.body.message).toMatch(message);
    }
    expect(await o.gw.app.store.listConsents(vin)).toEqual([]);
    const admin: [string, unknown, RegExp][] = [
      ['/objections/00000000-0000-7000-8000-000000000000/resolve', { status: 'maybe', answer: 'x' }, /^body\.status: /],
      ['/objections/00000000-0000-7000-8000-000000000000/resolve', { status: 'upheld' }, /^body\.answer: required$/],
      [
        '/objections/00000000-0000-7000-8000-000000000000/resolve',
        { status: 'upheld', answer: 'ok', by: 'me' },
        /^body\.by: unknown field$/,
      ],
      [
        '/objections/00000000-0000-7000-8000-000000000000/resolve',
        { status: 'upheld', answer: 'ok\u0000' },
        /^body\.answer: holds U\+0000/,
      ],
    ];
    for (const [path, body, message] of admin) {
      const res = await o.admin('POST', path, body);
      expect(res.status, `${path} ${JSON.stringify(body)}`).toBe(400);
      expect(res.body.message).toMatch(message);
    }
    expect((await o.admin('GET', '/objections?status=closed')).body.message).toMatch(/^querystring\.status: /);
  });
});

describe('owner API › consent with a validity period', () => {
  let o: OwnerGateway;
  beforeAll(async () => {
    o = await startOwnerGateway({ cars: 2 });
  });
  afterAll(async () => o?.stop());

  it("shows each purpose of the OEM's policy: what it is for, its legal basis, what leaves and how, and no consent yet", async () => {
    const res = await o.owner<Consents>('GET', `/vehicles/${o.gw.cars[0]!.vin}/consents`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      vin: o.gw.cars[0]!.vin,
      oem: 'demo-oem',
      policyHash: o.gw.app.policy.policyOf('demo-oem')!.hash,
      history: [],
    });
    expect(res.body.purposes).toEqual([
      {
        id: 'speed',
        description: "Speed profile for driver-assistance tuning, with the owner's consent.",
        legalBasis: 'consent',
        consentRequired: true,
        automatedDecisions: false,
        retention: 'P90D',
        consentMaxDays: 30,
        fields: { 'Vehicle.VehicleIdentification.VIN': 'pseudonymize', 'Vehicle.Speed': 'round {"step":5}' },
        consent: null,
      },
      expect.objectContaining({
        id: 'battery-score',
        legalBasis: 'contract',
        consentRequired: false,
        automatedDecisions: true,
        consent: null,
      }),
      expect.objectContaining({
        id: 'odometer',
        consentRequired: false,
        automatedDecisions: false,
        fields: { 'Vehicle.VehicleIdentification.VIN': 'pseudonymize', 'Vehicle.TraveledDistance': 'pass' },
      }),
    ]);
  });

  it('without a grant, nothing of the consent purpose leaves; the others do', async () => {
    await o.publish(0, 3);
    await drained(o.gw);
    expect(o.delivered(0, 'odometer')).toHaveLength(3);
    expect(o.delivered(0, 'speed')).toEqual([]);
  });

  it("a grant lasts the purpose's maximum by default, is logged as a consent leaf without the VIN, and lets the purpose send", async () => {
    const vin = o.gw.cars[0]!.vin;
    const before = Date.now();
    const res = await o.owner<{ grant: Consent; leafIndex: number }>('POST', `/vehicles/${vin}/consents`, {
      body: { purpose: 'speed' },
    });
    expect(res.status).toBe(201);
    const { grant, leafIndex } = res.body;
    expect(grant).toMatchObject({
      purpose: 'speed',
      inForce: true,
      revokedAt: null,
      endedBy: null,
      source: 'owner-app',
    });
    const span = Date.parse(grant.validUntil!) - Date.parse(grant.grantedAt);
    expect(span).toBe(30 * DAY_MS);
    expect(Date.parse(grant.grantedAt)).toBeGreaterThanOrEqual(before);

    const [leaf] = await o.gw.app.store.exportLeaves(leafIndex - 1, leafIndex + 1, 1);
    expect(leaf!.entry).toEqual({
      v: 1,
      kind: 'consent',
      index: leafIndex,
      at: Date.parse(grant.grantedAt),
      action: 'grant',
      pseudonym: o.pseudonym(0),
      oem: 'demo-oem',
      purpose: 'speed',
      validUntil: Date.parse(grant.validUntil!),
      grant: grant.id,
      revoked: 0,
      blockedPending: 0,
      source: 'owner-app',
      apiKey: o.keys.ownerApp.split('_')[1],
      owner: o.tokenIds[0],
    });
    expect(JSON.stringify(leaf)).not.toContain(vin);

    await o.publish(0, 2);
    await drained(o.gw);
    expect(o.delivered(0, 'speed')).toHaveLength(2);
    const view = await o.owner<Consents>('GET', `/vehicles/${vin}/consents`);
    expect(view.body.purposes[0]!.consent).toEqual(grant);
  });

  it('a renewal with a shorter period supersedes the grant in force; history keeps both', async () => {
    const vin = o.gw.cars[0]!.vin;
    const until = new Date(Date.now() + 7 * DAY_MS).toISOString();
    const res = await o.owner<{ grant: Consent }>('POST', `/vehicles/${vin}/consents`, {
      body: { purpose: 'speed', oem: 'demo-oem', validUntil: until },
    });
    expect(res.status).toBe(201);
    expect(res.body.grant.validUntil).toBe(until);
    const view = await o.owner<Consents>('GET', `/vehicles/${vin}/consents`);
    expect(view.body.history.map((c) => [c.inForce, c.endedBy])).toEqual([
      [true, null],
      [false, 'superseded'],
    ]);
    expect(view.body.purposes[0]!.consent!.id).toBe(res.body.grant.id);
  });

  it('a grant past its validUntil is no longer in force: neither at ingest nor for what was queued before', async () => {
    const vin = o.gw.cars[1]!.vin;
    const token = o.tokens[1]!;
    const grant = (validUntil: number) =>
      o.owner<{ grant: Consent }>('POST', `/vehicles/${vin}/consents`, {
        token,
        body: { purpose: 'speed', validUntil: new Date(validUntil).toISOString() },
      });
    // A day first: what is sent and queued while it holds must not race its end on a busy machine.
    expect((await grant(Date.now() + DAY_MS)).status).toBe(201);
    await o.publish(1, 1);
    await drained(o.gw);
    expect(o.delivered(1, 'speed')).toHaveLength(1);
    // Queued while the grant holds, the OEM down until it lapses: the send-time check stops it.
    o.gw.sink.setStatus(503);
    await o.publish(1, 1);
    await eventually(
      async () => (await o.gw.app.store.listEgressLog()).some((r) => r.outcome === 'failed' && r.purpose === 'speed'),
      10_000,
      'a failed attempt while the grant holds',
    );
    // Then a renewal that ends shortly (it supersedes the day), and its end passes. The API refuses
    // an end already past when the request is handled (400): on a loaded machine that can be later
    // than planned, so each refusal doubles the margin (200 ms at first) instead of a fixed 2 s for all.
    let until = 0;
    for (let margin = 200, status = 0; status !== 201; margin *= 2) {
      expect(margin).toBeLessThan(60_000);
      until = Date.now() + margin;
      status = (await grant(until)).status;
      expect([201, 400]).toContain(status);
    }
    await eventually(() => Date.now() > until, 60_000, 'the renewal to lapse');
    o.gw.sink.setStatus(200);
    await o.publish(1, 1); // received after the lapse: no projection for speed at all
    await drained(o.gw);
    expect(o.delivered(1, 'speed')).toHaveLength(1);
    expect(o.delivered(1, 'odometer')).toHaveLength(3);
    expect(
      (await o.gw.app.store.listEgressLog())
        .filter((r) => r.purpose === 'speed' && r.outcome === 'blocked')
        .map((r) => r.error),
    ).toEqual(['consent revoked']);
    const view = await o.owner<Consents>('GET', `/vehicles/${vin}/consents`, { token });
    expect(view.body.purposes[0]!.consent).toBeNull();
    expect(view.body.history[0]).toMatchObject({ inForce: false, endedBy: null, revokedAt: null });
    expect(view.body.history[1]).toMatchObject({ inForce: false, endedBy: 'superseded' });
  });

  it('a revocation closes the grant, is a consent leaf, and nothing more of the purpose leaves', async () => {
    const vin = o.gw.cars[0]!.vin;
    const res = await o.owner<{ revoked: number; blockedPending: number; leafIndex: number; revokedAt: string }>(
      'DELETE',
      `/vehicles/${vin}/consents/speed`,
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ purpose: 'speed', revoked: 1, blockedPending: 0 });
    const [leaf] = await o.gw.app.store.exportLeaves(res.body.leafIndex - 1, res.body.leafIndex + 1, 1);
    expect(leaf!.entry).toMatchObject({
      kind: 'consent',
      action: 'revoke',
      pseudonym: o.pseudonym(0),
      purpose: 'speed',
      revoked: 1,
      validUntil: null,
      grant: null,
      owner: o.tokenIds[0],
    });
    const sent = o.delivered(0, 'speed').length;
    await o.publish(0, 3);
    await drained(o.gw);
    expect(o.delivered(0, 'speed')).toHaveLength(sent);
    const view = await o.owner<Consents>('GET', `/vehicles/${vin}/consents`);
    expect(view.body.purposes[0]!.consent).toBeNull();
    expect(view.body.history[0]).toMatchObject({ endedBy: 'revoked', inForce: false, revokedAt: res.body.revokedAt });
    // Again: nothing in force, still logged (the owner asked), and unknown purposes are 404.
    expect((await o.owner('DELETE', `/vehicles/${vin}/consents/speed`)).body).toMatchObject({ revoked: 0 });
    expect((await o.owner('DELETE', `/vehicles/${vin}/consents/towing`)).status).toBe(404);
  });

  it('reports what left the country about the car: entries and totals per OEM and purpose, logged as an access leaf', async () => {
    const vin = o.gw.cars[0]!.vin;
    const res = await o.owner<Report>('GET', `/vehicles/${vin}/report?limit=1000`);
    expect(res.status).toBe(200);
    const mine = o.gw.sink.deliveries.filter((d) => (d.body as { vehicle: string }).vehicle === o.pseudonym(0));
    const delivered = res.body.entries.filter((e) => e.outcome === 'delivered');
    expect(delivered.map((e) => e.deliveryId).sort()).toEqual(
      mine.map((d) => (d.body as { deliveryId: string }).deliveryId).sort(),
    );
    expect(res.body.entries.every((e) => e.oem === 'demo-oem' && e.destination === `127.0.0.1:${o.gw.sink.port}`)).toBe(
      true,
    );
    expect(delivered.find((e) => e.purpose === 'speed')!.fieldsSent.sort()).toEqual([
      'Vehicle.Speed',
      'Vehicle.VehicleIdentification.VIN',
    ]);
    expect(res.body.totals).toEqual([
      expect.objectContaining({
        oem: 'demo-oem',
        purpose: 'battery-score',
        delivered: o.delivered(0, 'battery-score').length,
        blocked: 0,
      }),
      expect.objectContaining({
        oem: 'demo-oem',
        purpose: 'odometer',
        delivered: o.delivered(0, 'odometer').length,
        blocked: 0,
      }),
      expect.objectContaining({ oem: 'demo-oem', purpose: 'speed', delivered: o.delivered(0, 'speed').length }),
    ]);
    expect(res.body.totals.every((t) => t.bytes > 0)).toBe(true);
    // The other car's crossings are not in it.
    const others = new Set(
      o.gw.sink.deliveries
        .filter((d) => (d.body as { vehicle: string }).vehicle !== o.pseudonym(0))
        .map((d) => (d.body as { deliveryId: string }).deliveryId),
    );
    expect(res.body.entries.some((e) => others.has(e.deliveryId!))).toBe(false);

    const size = await o.gw.app.store.auditTreeSize();
    // The owner report's leaf, then the access log's leaf of the request itself.
    const [leaf, request] = await o.gw.app.store.exportLeaves(size - 3, size, 2);
    expect(request!.entry).toMatchObject({
      kind: 'access',
      action: 'request',
      route: '/owner/v1/vehicles/:vin/report',
    });
    expect(leaf!.entry).toMatchObject({
      kind: 'access',
      action: 'owner-report',
      role: 'owner-app',
      owner: o.tokenIds[0],
      pseudonyms: [o.pseudonym(0)],
      route: '/owner/v1/vehicles/:vin/report',
    });
    expect(JSON.stringify(leaf)).not.toContain(vin);

    // A period filter and pages.
    const none = await o.owner<Report>('GET', `/vehicles/${vin}/report?to=2020-01-01T00:00:00Z`);
    expect(none.body.entries).toEqual([]);
    expect(none.body.totals).toEqual([]);
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const page: Report = (
        await o.owner<Report>('GET', `/vehicles/${vin}/report?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
      ).body;
      expect(page.entries.length).toBeLessThanOrEqual(2);
      seen.push(...page.entries.map((e) => e.seq));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(res.body.entries.map((e) => e.seq));
  });
});
