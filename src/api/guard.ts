/**
 * Deny by default for every API surface (/regulator/v1, /admin/v1, /oem/v1, /owner/v1): a
 * bearer API key of the surface's role, and a query string with only the parameters the route's
 * schema names. Tenant checks (an OEM key sees only its OEM; an owner only their vehicles) are
 * each surface's own, on top of this.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ShekaraError } from '../errors.js';
import type { ApiKeyRow, ApiRole, Store } from '../store/index.js';

declare module 'fastify' {
  interface FastifyRequest {
    apiKey?: ApiKeyRow;
  }
}

export function installGuard(app: FastifyInstance, store: Pick<Store, 'authenticateApiKey'>, role: ApiRole): void {
  const realm = `Bearer realm="shekara-${role}"`;
  app.decorateRequest('apiKey', undefined);
  app.addHook('onRequest', async (req: FastifyRequest) => {
    const m = /^Bearer ([^\s]+)$/.exec(req.headers.authorization ?? '');
    const key = m ? await store.authenticateApiKey(m[1]!) : undefined;
    if (!key) {
      throw new ShekaraError(
        'SHK_AUTH_REQUIRED',
        m ? 'unknown or revoked API key' : 'send Authorization: Bearer <API key>',
        { headers: { 'www-authenticate': realm } },
      );
    }
    if (key.role !== role) {
      // The attempt is still an action of that key: the access log (src/api/access-log.ts) records it.
      req.refusedKey = { id: key.id, role: key.role };
      throw new ShekaraError('SHK_AUTH_FORBIDDEN', `this route needs a ${role} key; key ${key.id} is ${key.role}`);
    }
    req.apiKey = key;
  });
  // Fastify would silently drop unknown query parameters (removeAdditional); a typo must not
  // widen a search, so each one is refused by name.
  app.addHook('preValidation', async (req: FastifyRequest) => {
    if (req.routeOptions.url === undefined) return; // no such route: the 404/405 answer says so
    const schema = req.routeOptions.schema?.querystring as { properties?: Record<string, unknown> } | undefined;
    const allowed = Object.keys(schema?.properties ?? {});
    const unknown = Object.keys((req.query ?? {}) as object).filter((k) => !allowed.includes(k));
    if (unknown.length > 0) {
      throw new ShekaraError(
        'SHK_BAD_REQUEST',
        `unknown query parameter${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}; this route accepts ${allowed.length ? allowed.join(', ') : 'none'}`,
      );
    }
    const bad = badNumber(req.query, schema) ?? badNumber(req.params, req.routeOptions.schema?.params);
    if (bad) throw new ShekaraError('SHK_BAD_REQUEST', bad);
  });
}

const INTEGER = /^-?(?:0|[1-9][0-9]*)$/;
const DECIMAL = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?$/;

/**
 * The first numeric parameter whose raw text is not a plain finite number, described; undefined
 * when all are. Ajv coerces `Infinity`, `1e400` and `0x10` to numbers and lets ±Infinity past
 * `type: integer`, which then reached the store as a datatype mismatch (a 500). Checked on the
 * text, before coercion, once for every route of every surface.
 */
function badNumber(values: unknown, schema: unknown): string | undefined {
  const props = (schema as { properties?: Record<string, { type?: unknown; anyOf?: { type?: unknown }[] }> })
    ?.properties;
  if (!props || values === null || typeof values !== 'object') return undefined;
  for (const [name, raw] of Object.entries(values as Record<string, unknown>)) {
    const p = Object.hasOwn(props, name) ? props[name] : undefined;
    const types = [p?.type, ...(p?.anyOf ?? []).map((a) => a.type)];
    const integer = types.includes('integer');
    if (!integer && !types.includes('number')) continue;
    for (const text of Array.isArray(raw) ? raw : [raw]) {
      if (typeof text !== 'string') continue;
      const ok = integer ? INTEGER.test(text) && Number.isSafeInteger(Number(text)) : DECIMAL.test(text);
      if (!ok) return `${name}: expected ${integer ? 'an integer' : 'a finite decimal number'}`;
    }
  }
  return undefined;
}
