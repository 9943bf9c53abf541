/**
 * What the OEM surface's routes (routes.ts, feed.ts, commands.ts) are given, and the OEM a
 * request speaks for. Apart from index.ts and routes.ts so no route file imports its parent.
 */
import type { FastifyRequest } from 'fastify';
import type { OutboxRow, Store } from '../../store/index.js';
import type { OemConfig } from '../../config/schema.js';
import type { CompiledPolicy } from '../../policy/index.js';
import type { Egress } from '../../egress/index.js';
import type { Downlink } from '../../downlink/index.js';

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

/** The OEM a request speaks for. The surface's onRequest hook (routes.ts) refused keys without one. */
export const oemOf = (req: FastifyRequest): string => req.apiKey!.scope!;
