/**
 * The owner's rights on /owner/v1, for the vehicles bound to the owner (binding.ts): consent per
 * OEM purpose (consents.ts), what left the country (report.ts), objections to automated
 * processing (objections.ts) and erasure (erasure.ts). Every change is a leaf of the egress
 * log naming the vehicle's pseudonym, never its VIN (docs/audit.md).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RightsActor, Store, VehicleRow } from '../../store/index.js';
import type { CompiledPurpose, PolicyEngine } from '../../policy/index.js';
import { registerConsentRoutes } from './consents.js';
import { registerReportRoutes } from './report.js';
import { registerObjectionRoutes } from './objections.js';
import { registerErasureRoutes } from './erasure.js';

export interface RightsDeps {
  readonly store: Store;
  readonly policy: Pick<PolicyEngine, 'policyOf' | 'pseudonymFor'>;
  readonly now: () => number;
}

export interface RightsContext extends RightsDeps {
  /** The vehicle named by `:vin` (already checked to be the owner's), or a 404 sent. */
  vehicle(req: FastifyRequest, reply: FastifyReply): Promise<VehicleRow | undefined>;
  /** The vehicle's pseudonym for its OEM now: what every leaf names instead of the VIN. */
  pseudonym(v: VehicleRow, at: number): string;
  actor(req: FastifyRequest): RightsActor;
  /** The purpose named in a body for the vehicle's OEM (`oem` must be the vehicle's), or a 400 sent naming the field. */
  purpose(reply: FastifyReply, v: VehicleRow, oem: string, id: string): CompiledPurpose | undefined;
}

export const bad = (reply: FastifyReply, field: string, reason: string) =>
  reply.code(400).send({ code: 'SHK_BAD_REQUEST', message: `${field}: ${reason}` });
export const notFound = (reply: FastifyReply, message: string) =>
  reply.code(404).send({ code: 'SHK_NOT_FOUND', message });
export const iso = (ms: number): string => new Date(ms).toISOString();

export function registerOwnerRights(app: FastifyInstance, deps: RightsDeps): void {
  const ctx: RightsContext = {
    ...deps,
    async vehicle(req, reply) {
      const vin = (req.params as { vin: string }).vin;
      const v = await deps.store.getVehicle(vin);
      // Bound to the owner but not (or no longer) registered: nothing to show or change.
      if (!v) notFound(reply, `vehicle ${vin} is not registered with the gateway`);
      return v;
    },
    pseudonym(v, at) {
      const p = deps.policy.pseudonymFor(v.oem, v.vin, at);
      // Every configured OEM has a pseudonymizer; a vehicle of an OEM no longer configured gets
      // a stand-in that still names no VIN.
      return p ?? `unconfigured-oem:${v.oem}`;
    },
    actor: (req) => ({ source: 'owner-app', apiKey: req.apiKey?.id ?? null, owner: req.owner?.id ?? null }),
    purpose(reply, v, oem, id) {
      if (oem !== v.oem) return void bad(reply, 'body.oem', `vehicle ${v.vin} belongs to OEM "${v.oem}", not "${oem}"`);
      const purposes = deps.policy.policyOf(v.oem)?.purposes ?? [];
      const p = purposes.find((x) => x.id === id);
      if (!p)
        bad(
          reply,
          'body.purpose',
          `OEM "${v.oem}" has no purpose "${id}" (its purposes: ${purposes.map((x) => x.id).join(', ') || 'none'})`,
        );
      return p;
    },
  };
  registerConsentRoutes(app, ctx);
  registerReportRoutes(app, ctx);
  registerObjectionRoutes(app, ctx);
  registerErasureRoutes(app, ctx);
}
