/**
 * The owner API as the operator's owner-facing app meets it: a real gateway (MQTT cars →
 * SQLite → egress → a real HTTP OEM sink), an owner-app key, and owner tokens each bound to
 * one car. Requests go over the real socket with fetch.
 */
import { telemetryTopic } from '../../src/ingest/index.js';
import { newCar, nextTelemetry, type SimCar } from '../../src/sim/telemetry.js';
import { OWNER_TOKEN_HEADER } from '../../src/api/owner/binding.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import type { MqttClient } from 'mqtt';

/** speed needs consent (30 days at most); battery-score decides automatically; odometer is contract-based. */
export const OWNER_POLICY = `
oem: demo-oem
purposes:
  - id: speed
    description: Speed profile for driver-assistance tuning, with the owner's consent.
    legalBasis: consent
    consentMaxDays: 30
    retention: P90D
    fields:
      Vehicle.VehicleIdentification.VIN: pseudonymize
      Vehicle.Speed: { transform: round, step: 5 }
  - id: battery-score
    description: Battery health score that decides warranty offers automatically.
    legalBasis: contract
    automatedDecisions: true
    fields:
      Vehicle.VehicleIdentification.VIN: pseudonymize
      Vehicle.Powertrain.TractionBattery.StateOfCharge.Current: pass
  - id: odometer
    description: Mileage for service planning.
    legalBasis: contract
    fields:
      Vehicle.VehicleIdentification.VIN: pseudonymize
      Vehicle.TraveledDistance: pass
`;

export interface Reply<T = Record<string, unknown>> {
  status: number;
  body: T;
}

export interface OwnerGateway {
  readonly gw: TestGateway;
  readonly keys: { ownerApp: string; operator: string; regulator: string };
  /** tokens[i]: the owner of cars[i] (each owner has exactly one car). */
  readonly tokens: string[];
  readonly tokenIds: string[];
  owner<T = Record<string, unknown>>(
    method: string,
    path: string,
    opts?: { body?: unknown; token?: string | null; key?: string | null },
  ): Promise<Reply<T>>;
  admin<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<Reply<T>>;
  /** Publishes `n` telemetry messages of car `i` at QoS 1 (each acknowledged: stored); a string payload is sent as it is. */
  publish(i: number, n: number, payload?: (car: SimCar) => unknown): Promise<void>;
  /** The pseudonym the OEM knows car `i` by now. */
  pseudonym(i: number): string;
  /** Sink deliveries of car `i` (by pseudonym) for one purpose: when the sink took each, and the record's `observedAt` (ms). */
  delivered(i: number, purpose: string): { at: number; observedAt: number; deliveryId: string }[];
  stop(): Promise<void>;
}

export async function startOwnerGateway(
  opts: { cars?: number; policy?: string; config?: Record<string, unknown> } = {},
): Promise<OwnerGateway> {
  const gw = await startTestGateway({
    cars: opts.cars ?? 3,
    policy: opts.policy ?? OWNER_POLICY,
    config: { limits: { messagesPerSecond: 200 }, ...opts.config },
  });
  const now = Date.now();
  const keys = {
    ownerApp: (await gw.app.store.createApiKey({ role: 'owner-app', label: 'owner app', now })).key,
    operator: (await gw.app.store.createApiKey({ role: 'operator', label: 'operator', now })).key,
    regulator: (await gw.app.store.createApiKey({ role: 'regulator', label: 'regulator', now })).key,
  };
  const tokens: string[] = [];
  const tokenIds: string[] = [];
  for (const [i, car] of gw.cars.entries()) {
    const t = await gw.app.store.createOwnerToken({ ownerRef: `customer-${i}`, vins: [car.vin], now });
    tokens.push(t.token);
    tokenIds.push(t.id);
  }
  const clients = new Map<number, { client: MqttClient; sim: SimCar }>();
  const call = async <T>(
    url: string,
    method: string,
    headers: Record<string, string>,
    body: unknown,
  ): Promise<Reply<T>> => {
    const res = await fetch(url, {
      method,
      headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as T };
  };
  return {
    gw,
    keys,
    tokens,
    tokenIds,
    owner(method, path, o = {}) {
      const key = o.key === undefined ? keys.ownerApp : o.key;
      const token = o.token === undefined ? tokens[0]! : o.token;
      return call(
        `${gw.httpUrl}/owner/v1${path}`,
        method,
        {
          ...(key !== null ? { authorization: `Bearer ${key}` } : {}),
          ...(token !== null ? { [OWNER_TOKEN_HEADER]: token } : {}),
        },
        o.body,
      );
    },
    admin(method, path, body) {
      return call(`${gw.httpUrl}/admin/v1${path}`, method, { authorization: `Bearer ${keys.operator}` }, body);
    },
    async publish(i, n, payload) {
      let c = clients.get(i);
      if (!c) {
        c = { client: await gw.connect(gw.cars[i]!), sim: newCar(gw.cars[i]!.vin, i) };
        clients.set(i, c);
      }
      for (let k = 0; k < n; k++) {
        const body = payload ? payload(c.sim) : nextTelemetry(c.sim, Date.now());
        await c.client.publishAsync(
          telemetryTopic(gw.cars[i]!.vin),
          typeof body === 'string' ? body : JSON.stringify(body),
          { qos: 1 },
        );
      }
    },
    pseudonym: (i) => gw.app.policy.pseudonymFor('demo-oem', gw.cars[i]!.vin, Date.now())!,
    delivered(i, purpose) {
      const p = gw.app.policy.pseudonymFor('demo-oem', gw.cars[i]!.vin, Date.now());
      // What the OEM holds: one per delivery id. Delivery is at least once: a POST that outlived the
      // tests' 1 s request timeout under load is sent again with the same id, and the sink keeps both.
      const seen = new Set<string>();
      return gw.sink.deliveries
        .map((d) => ({
          at: Date.parse(d.receivedAt),
          body: d.body as { vehicle: string; purpose: string; deliveryId: string; observedAt: string },
        }))
        .filter((d) => d.body.vehicle === p && d.body.purpose === purpose)
        .filter((d) => !seen.has(d.body.deliveryId) && Boolean(seen.add(d.body.deliveryId)))
        .map((d) => ({ at: d.at, observedAt: Date.parse(d.body.observedAt), deliveryId: d.body.deliveryId }));
    },
    stop: () => gw.stop(),
  };
}

/** Waits until the egress queue has settled every record committed so far (nothing pending). */
export async function drained(gw: TestGateway, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while ((await gw.app.store.counts()).outboxPending > 0 || gw.app.egress.inFlight > 0) {
    if (Date.now() > until) throw new Error(`egress did not drain in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
