/**
 * The operator's side of objections to automated processing: the list (open ones first to
 * answer, overdue ones flagged) and the answer — upheld or rejected, with the reply to the
 * owner. Resolving is an 'objection' leaf, in the same transaction. Upheld keeps an automated
 * purpose stopped for that vehicle; rejected lets it resume. Same as `shekara objections`.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { ObjectionStatus, Store } from '../../store/index.js';
import { badRequest, notFound } from '../../errors.js';
import { Objection, operatorObjection } from '../views/objection.js';

const strict = { additionalProperties: false } as const;
const Status = Type.Union([Type.Literal('open'), Type.Literal('upheld'), Type.Literal('rejected')]);

const ListQuery = Type.Object(
  {
    status: Type.Optional(Status),
    overdue: Type.Optional(Type.Boolean({ description: 'true: only open objections past their deadline' })),
    vin: Type.Optional(Type.String({ pattern: '^[A-HJ-NPR-Z0-9]{17}$' })),
    limit: Type.Integer({ minimum: 1, maximum: 1_000, default: 100 }),
  },
  strict,
);
const AdminObjection = Type.Object(
  {
    ...Objection.properties,
    vin: Type.String(),
    pseudonym: Type.String({ description: "the vehicle's pseudonym in the objection's leaves" }),
    resolvedBy: Type.Union([Type.String({ description: 'the API key id, or "cli"' }), Type.Null()]),
  },
  strict,
);
const IdParams = Type.Object({ id: Type.String({ pattern: '^[0-9a-f-]{36}$', description: 'objection id' }) }, strict);
const ResolveBody = Type.Object(
  {
    status: Type.Union([Type.Literal('upheld'), Type.Literal('rejected')]),
    answer: Type.String({
      minLength: 1,
      maxLength: 4_000,
      description: 'the reply the owner sees; only its SHA-256 is in the log',
    }),
  },
  strict,
);

export function registerObjectionAdmin(app: FastifyInstance, deps: { store: Store; now: () => number }): void {
  const { store, now } = deps;

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/objections',
    {
      schema: {
        summary: "Owners' objections to automated processing, oldest first; overdue ones flagged",
        querystring: ListQuery,
        response: { 200: Type.Object({ objections: Type.Array(AdminObjection) }, strict) },
      },
    },
    async (req) => {
      const t = now();
      const { status, overdue, vin, limit } = req.query;
      const rows = await store.listObjections({
        ...(status !== undefined ? { status: status as ObjectionStatus } : {}),
        ...(overdue ? { overdueAt: t } : {}),
        ...(vin !== undefined ? { vin } : {}),
        limit,
      });
      return { objections: rows.map((o) => operatorObjection(o, t)) };
    },
  );

  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof ResolveBody> }>(
    '/objections/:id/resolve',
    {
      schema: {
        summary:
          'Answer an open objection: upheld (the automated purpose stays stopped for the vehicle) or rejected (it resumes)',
        params: IdParams,
        body: ResolveBody,
        response: { 200: Type.Object({ objection: AdminObjection, leafIndex: Type.Integer() }, strict) },
      },
    },
    async (req) => {
      const { status, answer } = req.body;
      if (answer.trim() === '') throw badRequest('body.answer', 'must say why, in words');
      const t = now();
      // SHK_OBJECTION_RESOLVED (409) from the store is answered as it is.
      const r = await store.resolveObjection({
        id: req.params.id,
        status,
        answer,
        resolvedAt: t,
        actor: { source: 'operator', apiKey: req.apiKey!.id, owner: null },
      });
      if (!r) throw notFound(`no objection ${req.params.id}`);
      req.log.info(
        { objection: r.objection.id, status, apiKey: req.apiKey!.id, leafIndex: r.leafIndex },
        'operator: objection resolved',
      );
      return { objection: operatorObjection(r.objection, t), leafIndex: r.leafIndex };
    },
  );
}
