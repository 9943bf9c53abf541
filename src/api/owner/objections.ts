/**
 * Objections to automated processing. The owner objects to one OEM purpose of their vehicle;
 * the operator answers within three days (objection-model.ts), on /admin/v1/objections or with
 * `shekara objections resolve`. While an objection is open — and for good once upheld — a
 * purpose flagged `automatedDecisions` sends nothing more about that vehicle: checked at ingest
 * (src/policy/evaluate.ts) and again at send time (src/policy/consent.ts), and its queued
 * deliveries are stopped when the objection is received.
 */
import type { FastifyInstance } from 'fastify';
import { badRequest } from '../../errors.js';
import type { RightsContext } from './context.js';
import { objectionDueAt, ownerObjection } from '../views/objection.js';
import * as S from './schemas.js';

export function registerObjectionRoutes(app: FastifyInstance, ctx: RightsContext): void {
  const { store, now } = ctx;

  app.post<{ Params: { vin: string }; Body: S.ObjectionBody }>(
    '/vehicles/:vin/objections',
    {
      schema: {
        summary:
          "Object to automated processing of this vehicle's data for one OEM purpose (answered within three days)",
        params: S.VinParams,
        body: S.ObjectionBody,
        response: { 201: S.ObjectionReply },
      },
    },
    async (req, reply) => {
      const v = await ctx.vehicle(req);
      const { oem, purpose: id, reason } = req.body;
      const purpose = ctx.purpose(v, oem, id);
      if (reason.trim() === '') throw badRequest('body.reason', 'must say why, in words');
      const t = now();
      // Recorded whether or not the purpose is flagged automated: the operator still answers it.
      const { objection, leafIndex } = await store.openObjection({
        vin: v.vin,
        oem: v.oem,
        purpose: id,
        pseudonym: ctx.pseudonym(v, t),
        reason,
        receivedAt: t,
        dueAt: objectionDueAt(t),
        automated: purpose.automatedDecisions,
        actor: ctx.actor(req),
      });
      req.log.info(
        {
          owner: req.owner!.id,
          oem: v.oem,
          purpose: id,
          objection: objection.id,
          automated: purpose.automatedDecisions,
          leafIndex,
        },
        'owner: objection received',
      );
      return reply
        .code(201)
        .send({ objection: ownerObjection(objection, t), stopsProcessing: purpose.automatedDecisions, leafIndex });
    },
  );

  app.get<{ Params: { vin: string } }>(
    '/vehicles/:vin/objections',
    {
      schema: {
        summary: "This vehicle's objections, their deadlines, status and the operator's answers (oldest first)",
        params: S.VinParams,
        response: { 200: S.ObjectionsReply },
      },
    },
    async (req) => {
      const v = await ctx.vehicle(req);
      const t = now();
      return { objections: (await store.listObjections({ vin: v.vin })).map((o) => ownerObjection(o, t)) };
    },
  );
}
