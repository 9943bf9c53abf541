/**
 * Every OEM is equal on /oem/v1: one registered through the admin API, from the moment it is
 * registered and without a restart, is rate limited like a config OEM, and its webhook-secret
 * and feed routes answer as a config OEM's do (not 404).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OEM_API_RATE_LIMIT } from '../../src/config/schema.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { adminClient } from './admin-helpers.js';

describe('oem api › config and API-registered OEMs alike', () => {
  let gw: TestGateway;
  let configKey: string;
  let apiKey: string;
  const get = (path: string, key: string, init: RequestInit = {}) =>
    fetch(`${gw.httpUrl}/oem/v1${path}`, { ...init, headers: { authorization: `Bearer ${key}`, ...init.headers } });
  /** 300 requests at once: how many were answered, how many refused with 429 + Retry-After. */
  const burst = async (key: string) => {
    const statuses = await Promise.all(
      Array.from({ length: 300 }, async () => {
        const res = await get('/policy', key);
        await res.arrayBuffer();
        if (res.status === 429) expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
        return res.status;
      }),
    );
    return { refused: statuses.filter((s) => s === 429).length, answered: statuses.filter((s) => s !== 429).length };
  };

  beforeAll(async () => {
    gw = await startTestGateway({ cars: 0 });
    const operator = (await gw.app.store.createApiKey({ role: 'operator', label: 'ops', now: Date.now() })).key;
    const api = adminClient(() => gw.httpUrl, operator);
    // Registered while the gateway runs: no restart follows.
    await api.ok('POST', '/oems', { id: 'oem-b', endpoint: 'https://oem-b.example/in', allowedCountries: ['DE'] }, 201);
    const mk = async (scope: string) =>
      (await gw.app.store.createApiKey({ role: 'oem', scope, label: scope, now: Date.now() })).key;
    configKey = await mk('demo-oem');
    apiKey = await mk('oem-b');
  });
  afterAll(async () => gw?.stop());

  it('rate limits an API-registered OEM as it does a config OEM (the default burst, then 429)', async () => {
    for (const key of [configKey, apiKey]) {
      const { refused, answered } = await burst(key);
      expect(answered).toBeGreaterThanOrEqual(OEM_API_RATE_LIMIT.burst);
      expect(refused).toBeGreaterThan(0);
    }
  });

  it('lets an API-registered OEM rotate its webhook secret', async () => {
    let res;
    do {
      res = await get('/webhook-secret/rotate', apiKey, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"overlapSeconds":60}',
      });
      if (res.status === 429) await new Promise((r) => setTimeout(r, Number(res!.headers.get('retry-after')) * 1000));
    } while (res.status === 429);
    const body = (await res.json()) as { oem: string; version: number; key: string };
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ oem: 'oem-b', version: expect.any(Number) as number });
    expect(Buffer.from(body.key, 'base64url').length).toBeGreaterThanOrEqual(32);
  });

  it("answers an API-registered OEM's feed as a config push OEM's (409 push delivery, not 404)", async () => {
    const answers = [];
    for (const key of [configKey, apiKey]) {
      let res;
      do {
        res = await get('/feed', key);
        if (res.status === 429) await new Promise((r) => setTimeout(r, Number(res!.headers.get('retry-after')) * 1000));
      } while (res.status === 429);
      answers.push([res.status, ((await res.json()) as { code: string }).code]);
    }
    expect(answers).toEqual([
      [409, 'SHK_CONFLICT'],
      [409, 'SHK_CONFLICT'],
    ]);
  });
});
