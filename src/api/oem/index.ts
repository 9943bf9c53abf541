/**
 * The OEM forwarding API's one door: `registerOemApi(http, deps)` mounts /oem/v1/ behind OEM
 * keys. An OEM key is bound to one OEM (its scope): every route answers only about that OEM's
 * vehicles and data (docs/oem-api.md).
 */
import type { FastifyInstance } from 'fastify';
import { mountSurface } from '../surface.js';
import { OEM_WEBHOOKS } from './webhooks.js';
import { registerOemRoutes } from './routes.js';
import type { OemDeps } from './deps.js';

export type { OemDeps } from './deps.js';

export const OEM_PREFIX = '/oem/v1';

export async function registerOemApi(http: FastifyInstance, deps: OemDeps): Promise<void> {
  await mountSurface(http, {
    prefix: OEM_PREFIX,
    role: 'oem',
    store: deps.store,
    now: deps.now,
    info: {
      title: 'Shekara OEM forwarding API',
      description:
        'What your active policy allows, a pull feed of your approved projections, delivery status, webhook secret rotation and guarded downlink commands. See docs/oem-api.md.',
      keyHint: 'an OEM key from the gateway operator (`shekara apikey create --role oem --oem ID`)',
      webhooks: OEM_WEBHOOKS,
    },
    routes: (app) => registerOemRoutes(app, deps),
  });
}
