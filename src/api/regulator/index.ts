/**
 * The regulator API's one door: `registerRegulatorApi(http, deps)` mounts the read-only routes
 * under /regulator/v1/ on the gateway's HTTP server, behind regulator API keys, with the
 * OpenAPI document at /regulator/v1/openapi.json (docs/regulator.md).
 */
import type { FastifyInstance } from 'fastify';
import { installGuard } from './guard.js';
import { openApiDocument, type RouteDoc } from './openapi.js';
import { registerRoutes, type RegulatorDeps } from './routes.js';

export const REGULATOR_PREFIX = '/regulator/v1';

export type { RegulatorDeps };

export async function registerRegulatorApi(http: FastifyInstance, deps: RegulatorDeps): Promise<void> {
  await http.register(async (app) => {
    const routes: RouteDoc[] = [];
    app.addHook('onRoute', (r) => {
      if (r.method === 'GET' && r.schema) routes.push({ method: 'GET', url: r.url, schema: r.schema as RouteDoc['schema'] });
    });
    installGuard(app, deps.store, 'regulator');
    registerRoutes(app, deps);
    app.get('/openapi.json', { schema: { summary: 'This document' } }, async () => openApiDocument(routes, '1'));
    // Read-only and deny by default: anything else under the prefix is refused after the key check.
    app.setNotFoundHandler((req, reply) => {
      const readOnly = req.method !== 'GET' && req.method !== 'HEAD';
      reply.code(readOnly ? 405 : 404).send({
        code: readOnly ? 'SHK_BAD_REQUEST' : 'SHK_NOT_FOUND',
        message: readOnly ? `the regulator API is read-only: ${req.method} is not allowed` : `no route GET ${req.url.split('?')[0]}`,
      });
    });
  }, { prefix: REGULATOR_PREFIX });
}
