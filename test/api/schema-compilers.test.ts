/**
 * Route schemas are compiled once per process (src/api/schema-compilers.ts): a second fastify
 * instance with an equal schema gets the same compiled validator and serializer, and each
 * instance still validates and serializes by its own routes' schemas. In-process (inject).
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildHttp } from '../../src/api/http.js';
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
