/**
 * One OEM ('oem-a') whose command types serve purposes that need consent, its cars bound to one
 * owner, and the calls the command tests make: the OEM asks for and reads commands, the owner app
 * grants and revokes. Shared by commands-consent.test.ts and commands-resend.test.ts.
 */
import { expect } from 'vitest';
import { OWNER_TOKEN_HEADER } from '../../src/api/owner/binding.js';
import { leavesOf, oemPolicy, startOemGateway, type OemGateway } from './oem-helpers.js';

// battery-research (in oemPolicy) has legalBasis: consent.
export const CONSENT_COMMANDS_POLICY = oemPolicy(
  'oem-a',
  `
commands:
  maxTtl: PT10M
  types:
    - type: climate-on
      params:
        temperatureC: { type: number, minimum: 16, maximum: 28, required: true }
    - type: battery-check
      purpose: battery-research
    - type: battery-report
      purpose: battery-research
      maxPerVehiclePerHour: 1
    - type: horn
      purpose: speed-profile
    - type: immobilize
      restricting: true
    - type: gbt32960-set-parameters
      params:
        heartbeatIntervalSeconds: { type: integer, minimum: 1, maximum: 240 }
    - type: gbt32960-query-parameters
      purpose: battery-research
      params:
        parameters: { type: string, maxLength: 200, required: true }
`,
);

export interface CommandWorld {
  g: OemGateway;
  ownerToken: string;
}

/** Starts the gateway with `cars` cars of oem-a, all bound to owner-1; `config`: more gateway config. */
export async function startCommandWorld(cars: number, config: Record<string, unknown> = {}): Promise<CommandWorld> {
  const g = await startOemGateway(
    [
      {
        id: 'oem-a',
        cars,
        policy: CONSENT_COMMANDS_POLICY,
        config: { apiRateLimit: { requestsPerSecond: 1_000, burst: 1_000 } },
      },
    ],
    undefined,
    config,
  );
  const vins = g.cars['oem-a']!.map((c) => c.vin);
  const { token } = await g.gw.app.store.createOwnerToken({ ownerRef: 'owner-1', vins, now: Date.now() });
  return { g, ownerToken: token };
}

/** The calls, against the world `get` returns once it is started. */
export function commandCalls(get: () => CommandWorld) {
  const car = (i: number) => get().g.cars['oem-a']![i]!;
  const pA = (i: number) => get().g.pseudonym('oem-a', car(i).vin);
  const oemKey = () => get().g.key('oem', 'oem-a');
  const owner = (method: string, path: string, body?: unknown) =>
    get().g.call(method, `/owner/v1/vehicles/${path}`, get().g.key('owner-app'), body, {
      [OWNER_TOKEN_HEADER]: get().ownerToken,
    });
  return {
    car,
    send: (i: number, body: unknown) => get().g.call('POST', `/oem/v1/vehicles/${pA(i)}/commands`, oemKey(), body),
    status: (i: number, id: string) => get().g.call('GET', `/oem/v1/vehicles/${pA(i)}/commands/${id}`, oemKey()),
    owner,
    leaves: async (id: string) => (await leavesOf(get().g.gw, 'command')).filter((l) => l.commandId === id),
    grant: async (i: number) =>
      expect((await owner('POST', `${car(i).vin}/consents`, { purpose: 'battery-research' })).status).toBe(201),
    revoke: async (i: number) =>
      expect((await owner('DELETE', `${car(i).vin}/consents/battery-research`)).status).toBe(200),
  };
}
