/**
 * The owner's rights on /owner/v1, for the vehicles bound to the owner (binding.ts): consent per
 * OEM purpose (consents.ts), what left the country (report.ts), objections to automated
 * processing (objections.ts) and erasure (erasure.ts). Every change is a leaf of the egress
 * log naming the vehicle's pseudonym, never its VIN (docs/audit.md).
 */
import type { FastifyInstance } from 'fastify';
import { badRequest, notFound } from '../../errors.js';
import type { RightsContext, RightsDeps } from './context.js';
import { registerConsentRoutes } from './consents.js';
import { registerReportRoutes } from './report.js';
import { registerObjectionRoutes } from './objections.js';
import { registerErasureRoutes } from './erasure.js';

export function registerOwnerRights(app: FastifyInstance, deps: RightsDeps): void {
  const ctx: RightsContext = {
    ...deps,
    async vehicle(req) {
      const vin = (req.params as { vin: string }).vin;
      const v = await deps.store.getVehicle(vin);
      // Bound to the owner but not (or no longer) registered: nothing to show or change.
      if (!v) throw notFound(`vehicle ${vin} is not registered with the gateway`);
      return v;
    },
    pseudonym(v, at) {
      const p = deps.policy.pseudonymFor(v.oem, v.vin, at);
      // Every configured OEM has a pseudonymizer; a vehicle of an OEM no longer configured gets
      // a stand-in that still names no VIN.
      return p ?? `unconfigured-oem:${v.oem}`;
    },
    actor: (req) => ({ source: 'owner-app', apiKey: req.apiKey?.id ?? null, owner: req.owner?.id ?? null }),
    purpose(v, oem, id) {
      if (oem !== v.oem) throw badRequest('body.oem', `vehicle ${v.vin} belongs to OEM "${v.oem}", not "${oem}"`);
      const purposes = deps.policy.policyOf(v.oem)?.purposes ?? [];
      const p = purposes.find((x) => x.id === id);
      if (!p)
        throw badRequest(
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
