/**
 * The owner's half of /owner/v1 authentication. The owner-app key (guard.ts) says the request
 * comes from the operator's app; the owner token says for whom. Deny by default: without a valid
 * token nothing answers, and a route naming a vehicle (`:vin`) answers only for the token's own
 * vehicles — another vehicle is 404, so an owner cannot even learn which VINs exist.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { notFound, ShekaraError } from '../../errors.js';
import type { OwnerBindingRow, Store } from '../../store/index.js';

export const OWNER_TOKEN_HEADER = 'shekara-owner-token';

declare module 'fastify' {
  interface FastifyRequest {
    owner?: OwnerBindingRow;
  }
}

export function installOwnerBinding(app: FastifyInstance, store: Pick<Store, 'authenticateOwner'>): void {
  app.decorateRequest('owner', undefined);
  app.addHook('onRequest', async (req: FastifyRequest) => {
    if (req.routeOptions.url?.endsWith('/openapi.json')) return;
    const header = req.headers[OWNER_TOKEN_HEADER];
    const owner = typeof header === 'string' ? await store.authenticateOwner(header) : undefined;
    if (!owner) {
      throw new ShekaraError(
        'SHK_AUTH_REQUIRED',
        header === undefined
          ? `send the owner's token in the ${OWNER_TOKEN_HEADER} header`
          : 'unknown or revoked owner token',
      );
    }
    req.owner = owner;
  });
  app.addHook('preHandler', async (req: FastifyRequest) => {
    const vin = (req.params as { vin?: unknown } | undefined)?.vin;
    if (vin !== undefined && !req.owner!.vins.includes(String(vin)))
      throw notFound(`no vehicle ${String(vin)} among this owner's vehicles`);
  });
}
