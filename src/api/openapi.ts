/**
 * The OpenAPI 3.1 document of one API surface, built from the routes' own TypeBox schemas
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

export interface ApiInfo {
  readonly title: string;
  readonly description: string;
  /** How a caller gets a key, for the security scheme's description. */
  readonly keyHint: string;
  /** The 404 answer's meaning on this surface. */
  readonly notFound?: string;
  /** Extra request headers every route needs besides the key (e.g. the owner token). */
  readonly headers?: readonly { readonly name: string; readonly description: string }[];
  /** Requests this side sends to the caller (OpenAPI 3.1 `webhooks`): the OEM push. */
  readonly webhooks?: Readonly<Record<string, unknown>>;
}

type JsonSchema = { properties?: Record<string, JsonSchema & { description?: string }>; required?: string[] } & Record<
  string,
  unknown
>;

export function openApiDocument(routes: readonly RouteDoc[], version: string, info: ApiInfo): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = r.url.replace(/:([A-Za-z]+)/g, '{$1}');
    const params = (where: 'query' | 'path', s: unknown) => {
      const schema = s as JsonSchema | undefined;
      return Object.entries(schema?.properties ?? {}).map(([name, p]) => ({
        name,
        in: where,
        required: where === 'path' || (schema?.required ?? []).includes(name),
        schema: strip(p),
        ...(p.description ? { description: p.description } : {}),
      }));
    };
    const responses = (r.schema.response ?? {}) as Record<string, unknown>;
    const okStatus = Object.keys(responses).find((s) => s.startsWith('2')) ?? '200';
    const content = r.schema.produces
      ? Object.fromEntries(r.schema.produces.map((t) => [t, { schema: { type: 'string' } }]))
      : { 'application/json': { schema: strip(responses[okStatus]) } };
    (paths[path] ??= {})[r.method.toLowerCase()] = {
      summary: r.schema.summary,
      parameters: [
        ...params('path', r.schema.params),
        ...params('query', r.schema.querystring),
        ...(info.headers ?? []).map((h) => ({
          name: h.name,
          in: 'header',
          required: true,
          description: h.description,
          schema: { type: 'string' },
        })),
      ],
      ...(r.schema.body
        ? { requestBody: { required: true, content: { 'application/json': { schema: strip(r.schema.body) } } } }
        : {}),
      responses: {
        [okStatus]: { description: 'OK', content },
        400: {
          description: 'invalid request: the field and the reason are in the message (SHK_BAD_REQUEST)',
          content: errorContent,
        },
        401: { description: 'no API key, or an unknown or revoked one (SHK_AUTH_REQUIRED)', content: errorContent },
        403: {
          description: "the key is of another role, or the resource is another tenant's (SHK_AUTH_FORBIDDEN)",
          content: errorContent,
        },
        404: { description: info.notFound ?? 'no such resource', content: errorContent },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: info.title, version, description: info.description },
    servers: [{ url: '/' }],
    components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: info.keyHint } } },
    security: [{ apiKey: [] }],
    paths,
    ...(info.webhooks ? { webhooks: info.webhooks } : {}),
  };
}

const errorContent = {
  'application/json': {
    schema: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' } },
      required: ['code', 'message'],
    },
  },
};

/** A plain JSON copy (TypeBox's symbol keys dropped). */
const strip = (s: unknown): unknown => (s === undefined ? {} : JSON.parse(JSON.stringify(s)));
