/**
 * The regulator API's one door: `registerRegulatorApi(http, deps)` mounts the read-only routes
 * under /regulator/v1/ on the gateway's HTTP server, behind regulator API keys, with the
 * OpenAPI document at /regulator/v1/openapi.json (docs/regulator.md).
 */
import type { FastifyInstance } from 'fastify';
import { mountSurface } from '../surface.js';
import { registerRoutes, type RegulatorDeps } from './routes.js';
import { registerWorkbench } from '../workbench/index.js';

export const REGULATOR_PREFIX = '/regulator/v1';

export type { RegulatorDeps };

export async function registerRegulatorApi(http: FastifyInstance, deps: RegulatorDeps): Promise<void> {
  await mountSurface(http, {
    prefix: REGULATOR_PREFIX,
    role: 'regulator',
    store: deps.store,
    now: deps.now,
    readOnly: true,
    info: {
      title: 'Shekara regulator API',
      description:
        'The egress log of a Shekara gateway: what left the country, about which vehicle, to whom, under which policy, with RFC 9162 proofs. See docs/regulator.md.',
      keyHint: 'a regulator key from `shekara apikey create --role regulator`',
      notFound: 'no such entry or checkpoint',
    },
    routes: (app) => {
      registerRoutes(app, deps);
      if (deps.workbench) registerWorkbench(app, deps.workbench, 'regulator');
    },
  });
}
