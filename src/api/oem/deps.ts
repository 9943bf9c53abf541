/**
 * What the OEM surface's routes (routes.ts, feed.ts, commands.ts) are given, and the OEM a
 * request speaks for. Apart from index.ts and routes.ts so no route file imports its parent.
 */
import type { FastifyRequest } from 'fastify';
import type {
  ApiKeyStore,
  AuditQueryStore,
  AuditStore,
  OemFeedStore,
  OutboxRow,
  PolicyHistoryStore,
} from '../../store/index.js';
import type { OemConfig } from '../../config/schema.js';
import type { CompiledPolicy } from '../../policy/index.js';
import type { Egress } from '../../egress/index.js';
import type { Downlink } from '../../downlink/index.js';

/** An OEM's delivery mode, allowed countries and API rate limit (a config OEM's entry satisfies it). */
export type OemSettings = Pick<
  OemConfig,
  'id' | 'delivery' | 'allowedCountries' | 'allowPrivateNetworks' | 'apiRateLimit'
>;

/**
 * What the OEM surface may ask of the store: its pull feed, its deliveries in the egress log, its
 * policy's activations, the 'access' leaves and the key check at its door.
 */
export type OemStore = OemFeedStore &
  Pick<AuditQueryStore, 'searchEgress'> &
  Pick<PolicyHistoryStore, 'listPolicyActivations'> &
  Pick<AuditStore, 'appendAuditEvent'> &
  Pick<ApiKeyStore, 'authenticateApiKey'>;

export interface OemDeps {
  readonly store: OemStore;
  readonly now: () => number;
  /**
   * What the routes need to know of an OEM this gateway runs, config or API-registered alike,
   * as of now (an OEM registered or changed through the admin API counts at once); undefined
   * for an OEM the gateway does not run.
   */
  readonly oemSettings: (oem: string) => Promise<OemSettings | undefined>;
  readonly policyOf: (oem: string) => CompiledPolicy | undefined;
  /** The pull feed settles through the egress workers' path; webhook keys rotate in egress. */
  readonly egress: Pick<Egress, 'settle' | 'signing'>;
  readonly downlink: Downlink;
  /** Consent and objection re-check at pull time (the one the egress workers run before a push): true, or why not. */
  readonly isStillAllowed: (row: OutboxRow) => Promise<boolean | string>;
}

/** The OEM a request speaks for. The surface's onRequest hook (routes.ts) refused keys without one. */
export const oemOf = (req: FastifyRequest): string => req.apiKey!.scope!;
