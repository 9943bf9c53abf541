/**
 * The access log (Order 672/НҚ of 22 Dec 2025: log users' actions): every request an API key
 * makes on a route that reads or changes personal data, keys, policies or the registry is an
 * `access` leaf of the egress log — {action: 'request', apiKey (the id, never the key), role,
 * method, route (the template, never the values: no VIN in the leaf), category, status} —
 * appended when the answer is ready, before it is sent. A request refused for its role (403) is
 * logged too, under the key that tried. Not logged: routes that touch no personal data (the
 * OpenAPI documents, the log's public key, checkpoints and consistency proofs, the list of report
 * names, an OEM's own policy) and the OEM feed, whose every item is already an `egress` leaf.
 *
 * If the leaf cannot be appended, the answer is not sent: the request fails with a 500.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiRole, Store } from '../store/index.js';

/** Route templates (after the surface's prefix) that touch no personal data, per role. */
const NOT_LOGGED: Readonly<Record<ApiRole, readonly string[]>> = {
  regulator: ['/openapi.json', '/pubkey', '/checkpoints/latest', '/checkpoints/:size', '/consistency', '/reports'],
  operator: ['/openapi.json', '/reports'],
  oem: ['/openapi.json', '/policy', '/feed'],
  'owner-app': ['/openapi.json'],
};

/**
 * What a route touches, from its template: `egress-log`, `reports`, `incidents`, `keys`,
 * `policies`, `registry`, `vehicles`, `owners`, `objections`, `deliveries`, `commands`,
 * `consents`, `erasure`, …; null when it is not logged. A route not named here is logged under
 * its first path segment: a new route is in the access log unless it is listed above.
 */
export function accessCategory(role: ApiRole, route: string): string | null {
  if (NOT_LOGGED[role].includes(route)) return null;
  const words = route.split('/').filter((w) => w !== '' && !w.startsWith(':'));
  const [first = 'other', second] = words;
  if (route === '/reports/summary' || first === 'entries' || first === 'log') return 'egress-log';
  if (first === 'api-keys' || first === 'webhook-secret') return 'keys';
  if (first === 'oems') return words.includes('policies') ? 'policies' : 'registry';
  if (first === 'vehicles' && role === 'owner-app') return second ?? 'vehicles';
  if (first === 'vehicles' && role === 'oem') return second ?? 'vehicles';
  return first;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** A valid key of another role, refused by the guard: its attempt is logged under it. */
    refusedKey?: { readonly id: string; readonly role: ApiRole };
  }
}

export function installAccessLog(
  app: FastifyInstance,
  opts: { store: Pick<Store, 'appendAuditEvent'>; role: ApiRole; prefix: string; now: () => number },
): void {
  app.decorateRequest('refusedKey', undefined);
  app.addHook('onSend', async (req: FastifyRequest, reply: FastifyReply, payload) => {
    const key = req.apiKey ?? req.refusedKey;
    const template = req.routeOptions.url;
    if (!key || template === undefined || !template.startsWith(opts.prefix)) return payload;
    const route = template.slice(opts.prefix.length);
    const category = accessCategory(opts.role, route);
    if (category === null) return payload;
    await opts.store.appendAuditEvent('access', opts.now(), {
      action: 'request',
      apiKey: key.id,
      role: key.role,
      method: req.method,
      route: template,
      category,
      status: reply.statusCode,
    });
    return payload;
  });
}
