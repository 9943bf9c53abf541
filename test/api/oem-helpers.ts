/**
 * Fixtures for the OEM API tests: a real gateway (test/helpers/gateway.ts) running several OEMs,
 * each with its own policy file, cars registered per OEM, API keys, and fetch over the real socket.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { registerSimCars } from '../../src/sim/simulate.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import type { ApiRole } from '../../src/store/index.js';

/** A policy for `oem`: one purpose without consent, one that needs it, and a command policy. */
export const oemPolicy = (oem: string, commands = COMMANDS) => `
oem: ${oem}
purposes:
  - id: speed-profile
    description: Speed profile, no location.
    fields:
      Vehicle.VehicleIdentification.VIN: pseudonymize
      Vehicle.Speed: pass
  - id: battery-research
    description: Battery ageing research.
    legalBasis: consent
    retention: P365D
    fields:
      Vehicle.Powertrain.TractionBattery.StateOfCharge.Current: { transform: round, step: 10 }
${commands}`;

export const COMMANDS = `
commands:
  maxTtl: PT10M
  types:
    - type: climate-on
      description: Precondition the cabin.
      maxPerVehiclePerHour: 3
      params:
        temperatureC: { type: number, minimum: 16, maximum: 28, required: true }
    - type: immobilize
      description: Keep the engine from starting.
`;

export interface OemSpec {
  readonly id: string;
  readonly cars?: number;
  /** Extra OEM config (delivery, allowPrivateNetworks, apiRateLimit, endpoint…). */
  readonly config?: Record<string, unknown>;
  readonly policy?: string;
}

export interface OemGateway {
  readonly gw: TestGateway;
  readonly cars: Record<string, { vin: string; secret: string }[]>;
  key(role: ApiRole, oem?: string): string;
  /** fetch against the gateway; `key` null sends no Authorization header. */
  call(
    method: string,
    url: string,
    key: string | null,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: any; headers: Headers }>;
  pseudonym(oem: string, vin: string): string;
  stop(): Promise<void>;
}

const PREFIXES = ['LAAAA', 'LBBBB', 'LCCCC', 'LDDDD', 'LEEEE', 'LFFFF'];

/** `config`: more gateway config (e.g. a GB/T 32960 listener), beside the OEMs. */
export async function startOemGateway(
  oems: readonly OemSpec[],
  sinkUrl?: string,
  config: Record<string, unknown> = {},
): Promise<OemGateway> {
  const dir = mkdtempSync(path.join(tmpdir(), 'shekara-oem-api-'));
  const oemConfigs = oems.map((o) => {
    const file = path.join(dir, `${o.id}.yaml`);
    writeFileSync(file, o.policy ?? oemPolicy(o.id));
    return {
      id: o.id,
      endpoint: sinkUrl ?? 'http://127.0.0.1:9/unused',
      policyFile: file,
      allowPrivateNetworks: true,
      ...o.config,
    };
  });
  const gw = await startTestGateway({ cars: 0, config: { ...config, oems: oemConfigs } });
  const cars: Record<string, { vin: string; secret: string }[]> = {};
  for (const [i, o] of oems.entries()) cars[o.id] = await registerSimCars(gw.app.store, o.cars ?? 0, o.id, PREFIXES[i]);
  // Every key a test may ask for, made up front so `key()` can answer synchronously.
  const keys = new Map<string, string>();
  const wanted: [ApiRole, string | undefined][] = [
    ['regulator', undefined],
    ['operator', undefined],
    ['owner-app', undefined],
    ['oem', undefined],
    ...oems.map((o) => ['oem', o.id] as [ApiRole, string]),
  ];
  for (const [role, oem] of wanted) {
    keys.set(
      `${role}/${oem ?? ''}`,
      (
        await gw.app.store.createApiKey({
          role,
          scope: oem ?? null,
          label: `test ${role}/${oem ?? ''}`,
          now: Date.now(),
        })
      ).key,
    );
  }
  return {
    gw,
    cars,
    key(role, oem) {
      const key = keys.get(`${role}/${oem ?? ''}`);
      if (key === undefined) throw new Error(`no test key for ${role}/${oem ?? ''}`);
      return key;
    },
    async call(method, url, key, body, headers = {}) {
      const res = await fetch(`${gw.httpUrl}${url}`, {
        method,
        headers: {
          ...(key ? { authorization: `Bearer ${key}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
    },
    pseudonym: (oem, vin) => gw.app.policy.pseudonymFor(oem, vin, Date.now())!,
    async stop() {
      await gw.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls a (possibly async) check until it returns something other than undefined/false. */
export { eventually as until } from '../egress/helpers.js';

/** Every leaf of the egress log whose kind is `kind`, as exported for the verifier. */
export async function leavesOf(gw: TestGateway, kind: string): Promise<Record<string, unknown>[]> {
  const size = await gw.app.store.auditTreeSize();
  return (await gw.app.store.exportLeaves(-1, size, size + 1)).map((l) => l.entry).filter((e) => e.kind === kind);
}
