/**
 * Input the APIs once misread: a duplicate JSON key (last one won: a "regulator" key request
 * created an operator key) and a numeric query parameter of `Infinity` or `1e400` (a 500 from the
 * store). Both are 400s naming the place, on every surface, over real HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOwnerGateway, type OwnerGateway } from './owner-helpers.js';
import { OWNER_TOKEN_HEADER } from '../../src/api/owner/binding.js';

describe('strict API input', () => {
  let og: OwnerGateway;
  let oemKey: string;
  beforeAll(async () => {
    og = await startOwnerGateway({ cars: 1 });
    oemKey = (await og.gw.app.store.createApiKey({ role: 'oem', scope: 'demo-oem', label: 'oem', now: Date.now() }))
      .key;
  });
  afterAll(async () => og?.stop());

  const adminPost = (path: string, body: string) =>
    fetch(`${og.gw.httpUrl}/admin/v1${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${og.keys.operator}`, 'content-type': 'application/json' },
      body,
    });

  it('refuses a duplicate key in a JSON body with 400 naming its path, and creates nothing', async () => {
    const before = (await og.gw.app.store.listApiKeys()).length;
    const res = await adminPost('/api-keys', '{"role":"regulator","role":"operator","label":"dup"}');
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'SHK_BAD_REQUEST', message: 'body.role: duplicate key' });
    expect(await og.gw.app.store.listApiKeys()).toHaveLength(before);
  });

  it('names a nested duplicate, and still refuses __proto__ and malformed JSON with 400', async () => {
    const nested = await adminPost('/oems', '{"id":"x","mtls":{"cert":"a","cert":"b"}}');
    expect(nested.status).toBe(400);
    expect(((await nested.json()) as { message: string }).message).toBe('body.mtls.cert: duplicate key');
    const proto = await adminPost('/api-keys', '{"__proto__":{"role":"operator"},"label":"p"}');
    expect(proto.status).toBe(400);
    expect(((await proto.json()) as { message: string }).message).toBe('body.__proto__: reserved key');
    const broken = await adminPost('/api-keys', '{"role":');
    expect(broken.status).toBe(400);
    const empty = await adminPost('/api-keys', '');
    expect(empty.status).toBe(400);
  });

  it('still accepts a well-formed body', async () => {
    const res = await adminPost('/api-keys', '{"role":"regulator","label":"ok"}');
    expect(res.status).toBe(201);
  });

  const routes = (): [string, Record<string, string>][] => [
    [`/regulator/v1/entries`, { authorization: `Bearer ${og.keys.regulator}` }],
    [`/oem/v1/deliveries`, { authorization: `Bearer ${oemKey}` }],
    [
      `/owner/v1/vehicles/${og.gw.cars[0]!.vin}/report`,
      { authorization: `Bearer ${og.keys.ownerApp}`, [OWNER_TOKEN_HEADER]: og.tokens[0]! },
    ],
    [`/admin/v1/objections`, { authorization: `Bearer ${og.keys.operator}` }],
  ];

  it.each(['Infinity', '-Infinity', '1e400', '1e2', '0x10', '10.5', ' 10', '99999999999999999999'])(
    'answers limit=%s with 400 naming the parameter on all four list routes',
    async (limit) => {
      for (const [path, headers] of routes()) {
        const res = await fetch(`${og.gw.httpUrl}${path}?limit=${encodeURIComponent(limit)}`, { headers });
        expect(res.status, `${path}: ${await res.clone().text()}`).toBe(400);
        expect(await res.json()).toMatchObject({ code: 'SHK_BAD_REQUEST', message: 'limit: expected an integer' });
      }
    },
  );

  it('answers a plain integer limit with 200 on all four', async () => {
    for (const [path, headers] of routes()) {
      const res = await fetch(`${og.gw.httpUrl}${path}?limit=5`, { headers });
      expect(res.status, `${path}: ${await res.clone().text()}`).toBe(200);
    }
  });
});
