/**
 * Route schemas are compiled once per process (src/api/schema-compilers.ts), on first use: a
 * second fastify instance with an equal schema gets the same compiled validator and serializer,
 * and each instance still validates and serializes by its own routes' schemas. In-process (inject).
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildHttp } from '../../src/api/http.js';
import { compiledOnce } from '../../src/api/schema-compilers.js';
import { createLogger } from '../../src/log.js';

const compiled: { instance: number; validator: unknown; serializer: unknown }[] = [];

/** An instance with POST /thing: a body with `required` (built anew each time, equal content). */
function instance(n: number, required: string): FastifyInstance {
  const http = buildHttp({ host: '127.0.0.1', port: 0, tls: { enabled: false } } as never, createLogger('silent'));
  http.post(
    '/thing',
    {
      schema: {
        body: {
          type: 'object',
          properties: { [required]: { type: 'string' } },
          required: [required],
          additionalProperties: false,
        },
        response: { 200: { type: 'object', properties: { ok: { type: 'boolean' } } } },
      },
    },
    async (req, reply) => {
      compiled.push({
        instance: n,
        validator: req.getValidationFunction('body'),
        serializer: reply.getSerializationFunction('200'),
      });
      return { ok: true, secret: 'not in the response schema' };
    },
  );
  return http;
}

const apps = [instance(0, 'name'), instance(1, 'name'), instance(2, 'label')];
afterAll(() => Promise.all(apps.map((a) => a.close())));

const post = (app: FastifyInstance, body: unknown) =>
  app.inject({ method: 'POST', url: '/thing', payload: body as object });

describe('route schemas compiled once per process', () => {
  it('gives a second instance with an equal schema the same compiled validator and serializer', async () => {
    compiled.length = 0;
    for (const app of apps.slice(0, 2)) expect((await post(app, { name: 'x' })).json()).toEqual({ ok: true });
    expect(compiled).toHaveLength(2);
    expect(typeof compiled[0]!.validator).toBe('function');
    expect(compiled[1]!.validator).toBe(compiled[0]!.validator);
    expect(compiled[1]!.serializer).toBe(compiled[0]!.serializer);
  });

  it('gives an instance with another schema its own, and each instance validates by its own', async () => {
    compiled.length = 0;
    expect((await post(apps[2]!, { label: 'x' })).json()).toEqual({ ok: true });
    expect((await post(apps[0]!, { name: 'y' })).json()).toEqual({ ok: true });
    expect(compiled.map((c) => c.instance)).toEqual([2, 0]);
    expect(compiled[0]!.validator).not.toBe(compiled[1]!.validator);
    const refused = await post(apps[2]!, { name: 'x' });
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toMatchObject({
      code: 'SHK_BAD_REQUEST',
      message: 'body.label: required',
    });
    const refusedToo = await post(apps[1]!, { label: 'x' });
    expect(refusedToo.statusCode).toBe(400);
    expect(refusedToo.json()).toMatchObject({ message: 'body.name: required' });
  });
});

describe('route schemas compiled on first use', () => {
  /** A compiler factory that counts what it builds: compilers, and schemas compiled. */
  const counting = () => {
    const built = { compilers: 0, schemas: 0 };
    const factory = () => {
      built.compilers++;
      return (route: { schema: unknown }) => {
        built.schemas++;
        const required = (route.schema as { required: string[] }).required;
        const validate = (data: Record<string, unknown>) => {
          validate.errors = required.filter((k) => !(k in data));
          return validate.errors.length === 0;
        };
        validate.errors = [] as string[];
        return validate;
      };
    };
    return { built, factory };
  };

  it('builds neither the compiler nor the function until the route first uses it, then once', () => {
    const { built, factory } = counting();
    const perProcess = compiledOnce(factory);
    const schema = { required: ['name'] };
    const first = perProcess({}, {})({ schema }) as ((d: unknown) => boolean) & { errors: string[] };
    const second = perProcess({}, {})({ schema: { required: ['name'] } }) as typeof first;
    expect(built).toEqual({ compilers: 0, schemas: 0 }); // what fastify does at ready() costs nothing
    expect(second).toBe(first); // an equal schema in another instance: the same function

    expect(first({ label: 'x' })).toBe(false);
    expect(first.errors).toEqual(['name']); // what the validator says, read after the call
    expect(second({ name: 'x' })).toBe(true);
    expect(second.errors).toEqual([]);
    expect(built).toEqual({ compilers: 1, schemas: 1 });
  });
});
