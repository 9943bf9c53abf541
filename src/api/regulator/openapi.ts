/**
 * The OpenAPI 3.1 document of the regulator API, built from the routes' own TypeBox schemas
 * (JSON Schema), so the document cannot drift from what the server enforces.
 */
import type { FastifySchema } from 'fastify';

declare module 'fastify' {
  interface FastifySchema {
    /** One line for the OpenAPI document. */
    summary?: string;
    /** Media types of a streaming (non-JSON) answer. */
    produces?: readonly string[];
  }
}

export interface RouteDoc {
  readonly method: string;
  readonly url: string;
  readonly schema: FastifySchema;
}

type JsonSchema = { properties?: Record<string, JsonSchema & { description?: string }>; required?: string[] } & Record<string, unknown>;

export function openApiDocument(routes: readonly RouteDoc[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = r.url.replace(/:([A-Za-z]+)/g, '{$1}');
    const params = (where: 'query' | 'path', s: unknown) => {
      const schema = s as JsonSchema | undefined;
      return Object.entries(schema?.properties ?? {}).map(([name, p]) => ({
        name, in: where, required: where === 'path' || (schema?.required ?? []).includes(name), schema: strip(p),
        ...(p.description ? { description: p.description } : {}),
      }));
    };
    const ok = (r.schema.response as Record<string, unknown> | undefined)?.[200];
    const content = r.schema.produces
      ? Object.fromEntries(r.schema.produces.map((t) => [t, { schema: { type: 'string' } }]))
      : { 'application/json': { schema: strip(ok) } };
    (paths[path] ??= {})[r.method.toLowerCase()] = {
      summary: r.schema.summary,
      parameters: [...params('path', r.schema.params), ...params('query', r.schema.querystring)],
      responses: {
        200: { description: 'OK', content },
        400: { description: 'invalid request, or an unknown query parameter (named in the message)', content: errorContent },
        401: { description: 'no API key, or an unknown or revoked one (SHK_AUTH_REQUIRED)', content: errorContent },
        403: { description: 'the key is not a regulator key (SHK_AUTH_FORBIDDEN)', content: errorContent },
        404: { description: 'no such entry or checkpoint', content: errorContent },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Shekara regulator API', version, description: 'The egress log of a Shekara gateway: what left the country, about which vehicle, to whom, under which policy, with RFC 9162 proofs. See docs/regulator.md.' },
    servers: [{ url: '/' }],
    components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'a regulator key from `shekara apikey create --role regulator`' } } },
    security: [{ apiKey: [] }],
    paths,
  };
}

const errorContent = { 'application/json': { schema: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } }, required: ['code', 'message'] } } };

/** A plain JSON copy (TypeBox's symbol keys dropped). */
const strip = (s: unknown): unknown => (s === undefined ? {} : JSON.parse(JSON.stringify(s)));
