/**
 * The owner API's one door: `registerOwnerApi(http, deps)` mounts /owner/v1/ for the operator's
 * owner-facing app: an owner-app key, plus the owner's vehicle binding on every request. An owner
 * sees and changes only the vehicles bound to them (docs/owner-api.md).
 */
import type { FastifyInstance } from 'fastify';
import type { Store } from '../../store/index.js';
import type { RightsStore } from './context.js';
import { mountSurface } from '../surface.js';
import { installOwnerBinding, OWNER_TOKEN_HEADER } from './binding.js';
import { registerCommandApprovals, type CommandApprovalDeps } from './command-approvals.js';
import { registerOwnerRights } from './rights.js';
import type { PolicyEngine } from '../../policy/index.js';

export const OWNER_PREFIX = '/owner/v1';

/**
 * What the owner API uses of the store: the owner's rights, the command approvals, the owner
 * binding and the API surface's key check and access log. Nothing else of it is in reach.
 */
export type OwnerStore = RightsStore &
  CommandApprovalDeps['store'] &
  Pick<Store, 'authenticateOwner' | 'authenticateApiKey' | 'appendAuditEvent'>;

export interface OwnerDeps {
  readonly store: OwnerStore;
  readonly now: () => number;
  /** The OEM policies (what each purpose sends) and the pseudonyms the leaves name. */
  readonly policy: Pick<PolicyEngine, 'policyOf' | 'pseudonymFor'>;
  /**
   * A revocation (consent) or withdrawal (approval) of this vehicle's owner took effect: its
   * queued commands the send-time check no longer allows end now (src/downlink `recheckQueued`).
   * Awaited before the answer, so the command status API shows them blocked once it answered.
   */
  readonly recheckCommands?: (vin: string) => Promise<void>;
}

export async function registerOwnerApi(http: FastifyInstance, deps: OwnerDeps): Promise<void> {
  await mountSurface(http, {
    prefix: OWNER_PREFIX,
    role: 'owner-app',
    store: deps.store,
    now: deps.now,
    info: {
      title: 'Shekara owner API',
      description:
        'Consent per OEM purpose, what left the country about your car, objections to automated processing, erasure. See docs/owner-api.md.',
      keyHint: 'an owner-app key from `shekara apikey create --role owner-app`',
      headers: [
        {
          name: OWNER_TOKEN_HEADER,
          description: "the owner's token, issued by the operator when binding the owner to a vehicle",
        },
      ],
      notFound: "no such route, or the vehicle is not among this owner's vehicles",
    },
    routes: (app) => {
      installOwnerBinding(app, deps.store);
      registerCommandApprovals(app, deps);
      registerOwnerRights(app, deps);
    },
  });
}
