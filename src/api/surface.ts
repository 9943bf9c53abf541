/**
 * One door for every API surface: `mountSurface(http, spec)` registers a prefix behind the
 * role's guard (src/api/guard.ts), the access log of its requests (src/api/access-log.ts), the
 * surface's routes, its OpenAPI document at `{prefix}/openapi.json`, and a deny-by-default
 * answer for everything else under the prefix.
 */
import type { FastifyInstance } from 'fastify';
import type { ApiRole, Store } from '../store/index.js';
import { installGuard } from './guard.js';
import { installAccessLog } from './access-log.js';
import { notFound, ShekaraError } from '../errors.js';
import { openApiDocument, type ApiInfo, type RouteDoc } from './openapi.js';

export interface SurfaceSpec {
  readonly prefix: string;
  readonly role: ApiRole;
  readonly store: Pick<Store, 'authenticateApiKey' | 'appendAuditEvent'>;
  /** The clock of the access log's leaves (default Date.now). */
  readonly now?: () => number;
  readonly info: ApiInfo;
  /** Read-only surfaces answer 405 to any other method under the prefix. */
  readonly readOnly?: boolean;
  /** Registers the surface's routes, after the guard. */
  readonly routes: (app: FastifyInstance) => void | Promise<void>;
}

export async function mountSurface(http: FastifyInstance, spec: SurfaceSpec): Promise<void> {
  await http.register(
    async (app) => {
      const docs: RouteDoc[] = [];
      app.addHook('onRoute', (r) => {
        const methods = Array.isArray(r.method) ? r.method : [r.method];
        for (const method of methods)
          if (method !== 'HEAD' && r.schema) docs.push({ method, url: r.url, schema: r.schema as RouteDoc['schema'] });
      });
      installAccessLog(app, { store: spec.store, role: spec.role, prefix: spec.prefix, now: spec.now ?? Date.now });
      installGuard(app, spec.store, spec.role);
      await spec.routes(app);
      app.get('/openapi.json', { schema: { summary: 'This document' } }, async () =>
        openApiDocument(docs, '1', spec.info),
      );
      app.setNotFoundHandler(async (req) => {
        const path = req.url.split('?')[0];
        if (spec.readOnly && req.method !== 'GET' && req.method !== 'HEAD')
          throw new ShekaraError('SHK_BAD_REQUEST', `${spec.prefix} is read-only: ${req.method} is not allowed`, {
            status: 405,
          });
        throw notFound(`no route ${req.method} ${path}`);
      });
    },
    { prefix: spec.prefix },
  );
}
