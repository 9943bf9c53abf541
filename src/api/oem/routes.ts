/**
 * The OEM forwarding API's routes. Tenant isolation: every answer is about `req.apiKey.scope`
 * (the key's OEM) only; another OEM's record, delivery, vehicle or command is 404, exactly as
 * one that does not exist, so an OEM cannot even learn what another OEM has.
 *
 * Each OEM's requests (all its keys together) share one token bucket (`oems[].apiRateLimit`);
 * over it the answer is 429 with Retry-After, before anything else is done.
 */
import type { FastifyInstance } from 'fastify';
import { oemOf, type OemDeps, type OemSettings } from './deps.js';
import { createRateLimiter, type RateLimiter } from '../../ingest/rate-limit.js';
import { notFound, ShekaraError } from '../../errors.js';
import { iso } from '../../time.js';
import { pageQuery } from '../paging.js';
import { toApiEntry } from '../views/egress-entry.js';
import type { EgressEntry } from '../../store/index.js';
import { VIN_PATH } from '../../policy/selectors.js';
import { Type } from '@sinclair/typebox';
import { registerFeed } from './feed.js';
import { registerCommands } from './commands.js';
import * as S from './schemas.js';

/** What an OEM may read of its own log entries: no record id; the pseudonym only where it crossed. */
function toOemEntry(e: EgressEntry): S.OemEntry {
  const { recordId: _recordId, ...rest } = toApiEntry(e);
  return { ...rest, pseudonym: e.fieldsSent.includes(VIN_PATH) ? e.pseudonym : null };
}

export function registerOemRoutes(app: FastifyInstance, deps: OemDeps): void {
  const { store, now } = deps;
  // One bucket per OEM, made on its first request (an OEM registered through the admin API is
  // limited from its first request on) and made again when its limit changes.
  const limiters = new Map<string, { rate: OemSettings['apiRateLimit']; limiter: RateLimiter }>();
  const limiterOf = (s: OemSettings): RateLimiter => {
    const l = limiters.get(s.id);
    if (l && l.rate.requestsPerSecond === s.apiRateLimit.requestsPerSecond && l.rate.burst === s.apiRateLimit.burst)
      return l.limiter;
    const limiter = createRateLimiter(s.apiRateLimit.requestsPerSecond, s.apiRateLimit.burst);
    limiters.set(s.id, { rate: { ...s.apiRateLimit }, limiter });
    return limiter;
  };
  app.addHook('onRequest', async (req) => {
    const oem = req.apiKey?.scope;
    // Deny by default: an OEM key made without its OEM speaks for no tenant at all.
    if (!oem)
      throw new ShekaraError(
        'SHK_AUTH_FORBIDDEN',
        `OEM key ${req.apiKey!.id} is bound to no OEM; the operator makes OEM keys with --oem ID`,
      );
    const settings = await deps.oemSettings(oem);
    // A key bound to an OEM the gateway does not run: every route answers 404 below.
    if (!settings) return;
    const limiter = limiterOf(settings);
    const t = now();
    if (limiter.take(oem, t)) return;
    const waitMs = limiter.retryAfterMs(oem, t);
    throw new ShekaraError(
      'SHK_RATE_LIMITED',
      `OEM ${oem} is over its API rate (${settings.apiRateLimit.requestsPerSecond}/s); retry after ${waitMs} ms`,
      { retriable: true, headers: { 'retry-after': String(Math.max(1, Math.ceil(waitMs / 1000))) } },
    );
  });

  app.get(
    '/policy',
    {
      schema: {
        summary: 'What your active policy allows: purposes, fields and transforms, commands',
        response: { 200: S.PolicyReply },
      },
    },
    async (req) => {
      const oem = oemOf(req);
      const p = deps.policyOf(oem);
      if (!p) throw notFound(`no active policy for OEM ${oem}`);
      const activation = (await store.listPolicyActivations(oem)).find((a) => a.policyHash === p.hash);
      return {
        oem,
        hash: p.hash,
        version: p.version === undefined ? null : String(p.version),
        activatedAt: activation ? iso(activation.activatedAt) : null,
        purposes: p.purposes.map((u) => ({
          id: u.id,
          description: u.description,
          legalBasis: u.legalBasis ?? null,
          consentRequired: u.consentRequired,
          retention: u.retention ?? null,
          minIntervalMs: u.minIntervalMs,
          timeBucketMs: u.timeBucketMs,
          fields: Object.entries(u.rules).map(([selector, rule]) => {
            // `rules` holds "transform {options as JSON}", as `policy check` prints it.
            const space = rule.indexOf(' ');
            return space < 0
              ? { selector, transform: rule, options: {} }
              : { selector, transform: rule.slice(0, space), options: JSON.parse(rule.slice(space + 1)) as object };
          }),
        })),
        sensitiveZones: p.zones.length,
        commands: {
          maxTtlSeconds: Math.floor(p.commands.maxTtlMs / 1000),
          types: [...p.commands.types.values()].map((t) => ({
            type: t.type,
            description: t.description ?? null,
            restricting: t.restricting,
            purpose: t.purpose ?? null,
            maxPerVehiclePerHour: t.maxPerVehiclePerHour ?? null,
            params: t.params,
          })),
        },
      };
    },
  );

  app.get<{ Params: { deliveryId: string } }>(
    '/deliveries/:deliveryId',
    {
      schema: {
        summary: 'Every attempt of one delivery to you (by the deliveryId of its body), and its latest outcome',
        params: S.DeliveryParams,
        response: {
          200: Type.Object({
            deliveryId: Type.String(),
            latest: Type.Array(Type.Object({ purpose: Type.String(), outcome: Type.String(), at: Type.String() })),
            entries: Type.Array(S.OemEntry),
          }),
        },
      },
    },
    async (req) => {
      const entries = await store.searchEgress({ oem: oemOf(req), deliveryId: req.params.deliveryId }, 0, 1_000);
      if (entries.length === 0) throw notFound('no such delivery to you is logged');
      const latest = new Map(
        entries.map((e) => [e.purpose, { purpose: e.purpose, outcome: e.outcome, at: iso(e.at) }]),
      );
      return { deliveryId: req.params.deliveryId, latest: [...latest.values()], entries: entries.map(toOemEntry) };
    },
  );

  app.get<{ Querystring: S.DeliveriesQuery }>(
    '/deliveries',
    {
      schema: {
        summary: 'Your deliveries from the egress log (cursor pagination, oldest first)',
        querystring: S.DeliveriesQuery,
        response: {
          200: Type.Object({ entries: Type.Array(S.OemEntry), nextCursor: Type.Union([Type.String(), Type.Null()]) }),
        },
      },
    },
    async (req) => {
      const q = req.query;
      const filter = {
        oem: oemOf(req),
        ...(q.from !== undefined ? { from: Date.parse(q.from) } : {}),
        ...(q.to !== undefined ? { to: Date.parse(q.to) } : {}),
        ...(q.outcome !== undefined ? { outcome: q.outcome } : {}),
      };
      const { page, nextCursor } = await pageQuery(
        q,
        0,
        (after, limit) => store.searchEgress(filter, after, limit),
        (e) => e.seq,
      );
      return { entries: page.map(toOemEntry), nextCursor };
    },
  );

  app.post<{ Body: { overlapSeconds: number } }>(
    '/webhook-secret/rotate',
    {
      schema: {
        summary: 'A new webhook signing key (shown once); the previous one keeps signing during the overlap',
        body: S.RotateBody,
        response: { 200: S.RotateReply },
      },
      // No body at all means every default (an hour of overlap).
      preValidation: async (req) => {
        req.body ??= { overlapSeconds: 3_600 };
      },
    },
    async (req, reply) => {
      const oem = oemOf(req);
      if (!(await deps.oemSettings(oem))) throw notFound(`no OEM ${oem} on this gateway`);
      const t = now();
      // SHK_CONFLICT (409): the OEM's key lives in a signingKeyFile, rotated by the operator.
      const row = await deps.egress.signing.rotate(oem, t, req.body.overlapSeconds * 1000);
      req.log.info({ oem, version: row.version, apiKey: req.apiKey!.id }, 'oem api: webhook signing key rotated');
      return reply.header('cache-control', 'no-store').send({
        oem,
        version: row.version,
        key: row.key.toString('base64url'),
        createdAt: iso(row.createdAt),
        previousKeySignsUntil: iso(t + req.body.overlapSeconds * 1000),
      });
    },
  );

  registerFeed(app, deps);
  registerCommands(app, deps);
}
