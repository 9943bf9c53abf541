/** /admin/v1/api-keys: API keys per role (docs/admin.md). */
import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import type { Admin } from '../../admin/index.js';
import * as S from './schemas.js';
import { actorOf } from './request.js';

export function registerKeyRoutes(app: FastifyInstance, admin: Admin): void {
  const { access } = admin;

  app.get(
    '/api-keys',
    { schema: { summary: 'List API keys (never the keys themselves)', response: { 200: S.ApiKeyList } } },
    async () => ({ keys: await access.listApiKeys() }),
  );

  app.post<{ Body: S.ApiKeyCreateBody }>(
    '/api-keys',
    {
      schema: {
        summary: 'Create an API key; returned once. An oem key is bound to a registry OEM',
        body: S.ApiKeyCreateBody,
        response: { 201: S.ApiKeyCreated },
      },
    },
    async (req, reply) => reply.code(201).send(await access.createApiKey(req.body, actorOf(req))),
  );

  // The last active operator key is refused (409): revoking it would lock every operator out.
  app.delete<{ Params: Static<typeof S.KeyParams> }>(
    '/api-keys/:id',
    {
      schema: {
        summary: 'Revoke an API key at once (not the last active operator key)',
        params: S.KeyParams,
        response: { 200: S.ApiKey },
      },
    },
    async (req) => access.revokeApiKey(req.params.id, { keepLastOperator: true }, actorOf(req)),
  );
}
