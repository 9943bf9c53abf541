/**
 * Deny by default for every API surface (/regulator/v1, /admin/v1, /oem/v1, /owner/v1): a
 * bearer API key of the surface's role, and a query string with only the parameters the route's
 * schema names. Tenant checks (an OEM key sees only its OEM; an owner only their vehicles) are
 * each surface's own, on top of this.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiKeyRow, ApiRole, Store } from '../store/index.js';

declare module 'fastify' {
  interface FastifyRequest {
    apiKey?: ApiKeyRow;
  }
}

export function installGuard(app: FastifyInstance, store: Pick<Store, 'authenticateApiKey'>, role: ApiRole): void {
  const realm = `Bearer realm="shekara-${role}"`;
  app.decorateRequest('apiKey', undefined);
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const m = /^Bearer ([^\s]+)$/.exec(req.headers.authorization ?? '');
    const key = m ? await store.authenticateApiKey(m[1]!) : undefined;
    if (!key) {
      return reply
        .code(401)
        .header('www-authenticate', realm)
        .send({
          code: 'SHK_AUTH_REQUIRED',
          message: m ? 'unknown or revoked API key' : 'send Authorization: Bearer <API key>',
        });
    }
    if (key.role !== role) {
      return reply
        .code(403)
        .send({ code: 'SHK_AUTH_FORBIDDEN', message: `this route needs a ${role} key; key ${key.id} is ${key.role}` });
    }
    req.apiKey = key;
  });
  // Fastify would silently drop unknown query parameters (removeAdditional); a typo must not
  // widen a search, so each one is refused by name.
  app.addHook('preValidation', async (req: FastifyRequest, reply: FastifyReply) => {
    if (req.routeOptions.url === undefined) return; // no such route: the 404/405 answer says so
    const schema = req.routeOptions.schema?.querystring as { properties?: Record<string, unknown> } | undefined;
    const allowed = Object.keys(schema?.properties ?? {});
    const unknown = Object.keys((req.query ?? {}) as object).filter((k) => !allowed.includes(k));
    if (unknown.length > 0) {
      return reply.code(400).send({
        code: 'SHK_BAD_REQUEST',
        message: `unknown query parameter${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}; this route accepts ${allowed.length ? allowed.join(', ') : 'none'}`,
      });
    }
  });
}
