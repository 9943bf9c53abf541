/**
 * Erasure on the owner's request: the vehicle's local personal data — records with their raw
 * payloads, route points, account data, quarantined payloads — is deleted and its deliveries
 * not yet made are stopped (Store.eraseVehicle), then the erasure is logged as an 'erasure'
 * leaf with the counts. The egress log itself stays as it is, and verifiable: it holds
 * pseudonyms and digests, not the data erased.
 */
import type { FastifyInstance } from 'fastify';
import { erasureLeaf } from '../../audit/events.js';
import { iso } from '../../time.js';
import type { RightsContext } from './context.js';
import * as S from './schemas.js';

export function registerErasureRoutes(app: FastifyInstance, ctx: RightsContext): void {
  const { store, now } = ctx;

  app.post<{ Params: { vin: string } }>(
    '/vehicles/:vin/erasure',
    {
      schema: {
        summary:
          "Erase this vehicle's local personal data (records, raw payloads, route points, account data, quarantine); answers with the counts",
        params: S.VinParams,
        response: { 200: S.ErasureReply },
      },
    },
    async (req) => {
      const v = await ctx.vehicle(req);
      const t = now();
      const erased = await store.eraseVehicle(v.vin);
      // After the erasure, not with it (the store's contract is the erasure alone): a crash in
      // between leaves the data erased and the leaf missing, never the reverse.
      const leafIndex = await store.appendAuditEvent(
        'erasure',
        t,
        erasureLeaf({ pseudonym: ctx.pseudonym(v, t), oem: v.oem, counts: erased, actor: ctx.actor(req) }),
      );
      req.log.info({ owner: req.owner!.id, ...erased, leafIndex }, 'owner: vehicle data erased');
      return { erasedAt: iso(t), erased, leafIndex };
    },
  );
}
