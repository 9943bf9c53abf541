/**
 * Consent per OEM purpose: what the vehicle's OEM policy offers and what is in force (GET),
 * a grant with a validity period no longer than the purpose allows (POST), a revocation
 * (DELETE). A revocation that answered has closed the grant, stopped the vehicle's queued
 * deliveries for that purpose and logged itself, in one transaction; what is already in Kafka
 * is stopped by the send-time check (src/policy/consent.ts), so nothing leaves after the answer.
 * The vehicle's queued commands serving the purpose are blocked before the answer too
 * (`recheckCommands`); one already sent is stopped before it could go to the car again.
 */
import type { FastifyInstance } from 'fastify';
import type { CompiledPurpose } from '../../policy/index.js';
import type { ConsentRow } from '../../store/index.js';
import { badRequest, notFound } from '../../errors.js';
import { iso } from '../../time.js';
import type { RightsContext } from './context.js';
import * as S from './schemas.js';

const DAY_MS = 86_400_000;

function apiConsent(c: ConsentRow, now: number): S.Consent {
  const inForce =
    c.grantedAt <= now && (c.revokedAt === null || c.revokedAt > now) && (c.validUntil === null || c.validUntil > now);
  return {
    id: c.id,
    purpose: c.purpose,
    grantedAt: iso(c.grantedAt),
    validUntil: c.validUntil === null ? null : iso(c.validUntil),
    revokedAt: c.revokedAt === null ? null : iso(c.revokedAt),
    endedBy: c.endedBy,
    inForce,
    source: c.source,
  };
}

function apiPurpose(p: CompiledPurpose, grant: S.Consent | undefined) {
  return {
    id: p.id,
    description: p.description,
    legalBasis: p.legalBasis ?? null,
    consentRequired: p.consentRequired,
    automatedDecisions: p.automatedDecisions,
    retention: p.retention ?? null,
    consentMaxDays: p.consentMaxDays,
    fields: { ...p.rules },
    consent: grant ?? null,
  };
}

export function registerConsentRoutes(app: FastifyInstance, ctx: RightsContext): void {
  const { store, policy, now } = ctx;

  app.get<{ Params: { vin: string } }>(
    '/vehicles/:vin/consents',
    {
      schema: {
        summary: "The purposes the vehicle's OEM policy offers, what leaves for each and how, and the consent in force",
        params: S.VinParams,
        response: { 200: S.ConsentsReply },
      },
    },
    async (req) => {
      const v = await ctx.vehicle(req);
      const t = now();
      const history = (await store.listConsents(v.vin)).filter((c) => c.oem === v.oem).map((c) => apiConsent(c, t));
      const p = policy.policyOf(v.oem);
      return {
        vin: v.vin,
        oem: v.oem,
        policyHash: p?.hash ?? null,
        purposes: (p?.purposes ?? []).map((x) =>
          apiPurpose(
            x,
            history.find((c) => c.purpose === x.id && c.inForce),
          ),
        ),
        history,
      };
    },
  );

  app.post<{ Params: { vin: string }; Body: S.GrantBody }>(
    '/vehicles/:vin/consents',
    {
      schema: {
        summary: "Grant consent to one purpose, until validUntil (at most the purpose's consentMaxDays)",
        params: S.VinParams,
        body: S.GrantBody,
        response: { 201: S.GrantReply },
      },
    },
    async (req, reply) => {
      const v = await ctx.vehicle(req);
      const { oem = v.oem, purpose: id } = req.body;
      const purpose = ctx.purpose(v, oem, id);
      if (!purpose.consentRequired) {
        throw badRequest(
          'body.purpose',
          `purpose "${id}" does not ask for consent (legal basis ${purpose.legalBasis ?? 'not stated'}): there is nothing to grant; an objection is the owner's remedy`,
        );
      }
      const t = now();
      const max = t + purpose.consentMaxDays * DAY_MS;
      let validUntil = max;
      if (req.body.validUntil !== undefined) {
        validUntil = Date.parse(req.body.validUntil);
        if (!(validUntil > t)) throw badRequest('body.validUntil', `must be in the future (now is ${iso(t)})`);
        if (validUntil > max)
          throw badRequest(
            'body.validUntil',
            `purpose "${id}" allows consent for at most ${purpose.consentMaxDays} days: until ${iso(max)} at the latest`,
          );
      }
      const { grant, leafIndex } = await store.grantConsentLogged({
        vin: v.vin,
        oem: v.oem,
        purpose: id,
        atMs: t,
        validUntil,
        pseudonym: ctx.pseudonym(v, t),
        actor: ctx.actor(req),
      });
      req.log.info(
        { owner: req.owner!.id, oem: v.oem, purpose: id, grant: grant.id, leafIndex },
        'owner: consent granted',
      );
      return reply.code(201).send({ grant: apiConsent(grant, t), leafIndex });
    },
  );

  app.delete<{ Params: { vin: string; purpose: string } }>(
    '/vehicles/:vin/consents/:purpose',
    {
      schema: {
        summary: 'Revoke consent to one purpose: nothing more of it leaves, queued deliveries included',
        params: S.PurposeParams,
        response: { 200: S.RevokeReply },
      },
    },
    async (req) => {
      const v = await ctx.vehicle(req);
      const id = req.params.purpose;
      const purpose = policy.policyOf(v.oem)?.purposes.find((p) => p.id === id);
      // Not built on consent: nothing to revoke, and its deliveries do not wait on one.
      if (purpose && !purpose.consentRequired) {
        throw badRequest(
          'params.purpose',
          `purpose "${id}" does not ask for consent (legal basis ${purpose.legalBasis ?? 'not stated'}): there is nothing to revoke; an objection is the owner's remedy`,
        );
      }
      // A purpose the policy no longer has may still hold a grant: that one can be revoked too.
      if (!purpose && !(await store.listConsents(v.vin)).some((c) => c.oem === v.oem && c.purpose === id)) {
        throw notFound(`OEM "${v.oem}" has no purpose "${id}" and this vehicle never consented to one of that name`);
      }
      const t = now();
      const r = await store.revokeConsentLogged({
        vin: v.vin,
        oem: v.oem,
        purpose: id,
        atMs: t,
        pseudonym: ctx.pseudonym(v, t),
        actor: ctx.actor(req),
      });
      // Queued commands serving the purpose end now, not when the car comes back.
      await ctx.recheckCommands?.(v.vin);
      req.log.info(
        {
          owner: req.owner!.id,
          oem: v.oem,
          purpose: id,
          revoked: r.revoked,
          blockedPending: r.blockedPending,
          leafIndex: r.leafIndex,
        },
        'owner: consent revoked',
      );
      return {
        purpose: id,
        revokedAt: iso(t),
        revoked: r.revoked,
        blockedPending: r.blockedPending,
        leafIndex: r.leafIndex,
      };
    },
  );
}
