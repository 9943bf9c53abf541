/** HTTPS ingest over a real socket: same payload, same auth, same durability as MQTT. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';

describe('https ingest', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({
      config: { limits: { maxPacketBytes: 4096, messagesPerSecond: 2, messageBurst: 3 } },
    });
  });
  afterAll(async () => gw?.stop());

  const post = (vin: string, body: string, auth?: { user: string; pass: string }) =>
    fetch(`${gw.httpUrl}/v1/vehicles/${vin}/telemetry`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(auth ? { authorization: `Basic ${Buffer.from(`${auth.user}:${auth.pass}`).toString('base64')}` } : {}),
      },
      body,
    });

  it('answers 202 with the record id only after the record is stored, and egresses it', async () => {
    const car = gw.cars[0]!;
    const res = await post(car.vin, JSON.stringify({ speed: 61.5, account: { owner: { name: 'Asel' } } }), {
      user: car.vin,
      pass: car.secret,
    });
    expect(res.status).toBe(202);
    const { recordId } = (await res.json()) as { recordId: string };
    expect((await gw.app.store.getRecord(recordId))!.record).toMatchObject({
      channel: 'https',
      account: { 'Account.Owner.Name': 'Asel' },
    });
    const [logged] = await eventually(async () => {
      const rows = await gw.app.store.listEgressLog({ recordId });
      return rows.length > 0 && rows;
    });
    const d = gw.sink.deliveries.find((x) => (x.body as { deliveryId: string }).deliveryId === logged!.deliveryId)!;
    expect((d.body as { signals: unknown }).signals).toEqual({ 'Vehicle.Speed': 61.5 });
  });

  it('answers 401 with a Basic challenge when credentials are missing or wrong', async () => {
    const car = gw.cars[0]!;
    const none = await post(car.vin, '{}');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic/);
    const wrong = await post(car.vin, '{}', { user: car.vin, pass: 'wrong-wrong-wrong-wrong-wrong' });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ code: 'SHK_INGEST_AUTH' });
  });

  it("answers 403 when a car posts to another car's route", async () => {
    const [a, b] = gw.cars;
    const res = await post(b!.vin, '{"speed":1}', { user: a!.vin, pass: a!.secret });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ code: 'SHK_INGEST_ACL' });
  });

  it('answers 422 with the reason for a malformed payload, and keeps it in quarantine', async () => {
    const car = gw.cars[1]!;
    const res = await post(car.vin, '{"speed":', { user: car.vin, pass: car.secret });
    expect(res.status).toBe(422);
    const body = (await res.json()) as { code: string; message: string; stored: string };
    expect(body).toMatchObject({ code: 'SHK_INGEST_DECODE', stored: 'quarantine' });
    expect(body.message).toMatch(/not valid JSON/);
    expect((await gw.app.store.listQuarantine(1))[0]!.raw.toString()).toBe('{"speed":');
  });

  it('answers 413 for a body over maxPacketBytes', async () => {
    const car = gw.cars[1]!;
    const res = await post(car.vin, JSON.stringify({ pad: 'x'.repeat(5000) }), { user: car.vin, pass: car.secret });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ code: 'SHK_INGEST_LIMIT' });
  });

  it('answers 429 with Retry-After when a car exceeds its rate', async () => {
    const car = gw.cars[0]!;
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push((await post(car.vin, '{"speed":1}', { user: car.vin, pass: car.secret })).status);
    expect(statuses).toContain(429);
  });

  it('answers 404 with a code for any route nobody registered', async () => {
    const res = await fetch(`${gw.httpUrl}/admin`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: 'SHK_NOT_FOUND' });
  });

  it('answers 200 on /healthz once ready', async () => {
    const res = await fetch(`${gw.httpUrl}/healthz`);
    expect(res.status).toBe(200);
  });
});
