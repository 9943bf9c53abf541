/**
 * The OEM forwarding API's one door: `registerOemApi(http, deps)` mounts /oem/v1/ behind OEM
 * keys. An OEM key is bound to one OEM (its scope): every route answers only about that OEM's
 * vehicles and data (docs/oem-api.md).
 */
import type { FastifyInstance } from 'fastify';
import type { Store } from '../../store/index.js';
import { mountSurface } from '../surface.js';

export const OEM_PREFIX = '/oem/v1';

export interface OemDeps {
  readonly store: Store;
  readonly now: () => number;
}

export async function registerOemApi(http: FastifyInstance, deps: OemDeps): Promise<void> {
  await mountSurface(http, {
    prefix: OEM_PREFIX, role: 'oem', store: deps.store,
    info: {
      title: 'Shekara OEM forwarding API',
      description: 'What your active policy allows, a pull feed of your approved projections, delivery status, webhook secret rotation and guarded downlink commands. See docs/oem-api.md.',
      keyHint: 'an OEM key from the gateway operator (`shekara apikey create --role oem --oem ID`)',
    },
    routes: () => undefined,
  });
}
