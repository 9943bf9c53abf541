/**
 * The OEM forwarding API's one door: `registerOemApi(http, deps)` mounts /oem/v1/ behind OEM
 * keys. An OEM key is bound to one OEM (its scope): every route answers only about that OEM's
 * vehicles and data (docs/oem-api.md).
 */
import type { FastifyInstance } from 'fastify';
import type { OutboxRow, Store } from '../../store/index.js';
import type { OemConfig } from '../../config/schema.js';
import type { CompiledPolicy } from '../../policy/index.js';
import type { Egress } from '../../egress/index.js';
import type { Downlink } from '../../downlink/index.js';
import { mountSurface } from '../surface.js';
import { OEM_WEBHOOKS } from './webhooks.js';
import { registerOemRoutes } from './routes.js';

export const OEM_PREFIX = '/oem/v1';

export interface OemDeps {
  readonly store: Store;
  readonly now: () => number;
  /** The OEMs this gateway runs (delivery mode, allowed countries, API rate limit). */
  readonly oems: readonly OemConfig[];
  readonly policyOf: (oem: string) => CompiledPolicy | undefined;
  /** The pull feed settles through the egress workers' path; webhook keys rotate in egress. */
  readonly egress: Pick<Egress, 'settle' | 'signing'>;
  readonly downlink: Downlink;
  /** Consent and objection re-check at pull time (the one the egress workers run before a push): true, or why not. */
  readonly isStillAllowed: (row: OutboxRow) => Promise<boolean | string>;
}

export async function registerOemApi(http: FastifyInstance, deps: OemDeps): Promise<void> {
  await mountSurface(http, {
    prefix: OEM_PREFIX,
    role: 'oem',
    store: deps.store,
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
