/**
 * Route schemas compiled once per process, shared by every fastify instance it builds. Fastify
 * compiles each route's validators (ajv) and response serializers (fast-json-stringify) per
 * instance: about 0.2 CPU-s for this API, paid again by every gateway a process starts (a test
 * file starts several; a production process starts one and gains nothing, loses nothing).
 * A compiled function holds no per-instance state — an ajv validator keeps its last `errors` on
 * itself, read synchronously right after the call, as fastify already does when two routes of
 * one instance share a schema — so one compiled function can serve every instance. Keyed by
 * the schema's JSON with the compiler's options and shared schemas, so an equal schema built
 * anew is found too; the key set is bounded by the routes the code declares.
 */
import AjvCompiler from '@fastify/ajv-compiler';
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import type { FastifyServerOptions } from 'fastify';

type Factories = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>;
type Factory = (externalSchemas: unknown, options: unknown) => (route: { schema: unknown }) => unknown;

function compiledOnce(factory: Factory): Factory {
  const compiled = new Map<string, unknown>();
  return (externalSchemas, options) => {
    const compile = factory(externalSchemas, options);
    const scope = JSON.stringify([externalSchemas, options]);
    return (route) => {
      const key = scope + JSON.stringify(route.schema);
      let fn = compiled.get(key);
      if (fn === undefined) compiled.set(key, (fn = compile(route)));
      return fn;
    };
  };
}

export const sharedSchemaCompilers: Factories = {
  buildValidator: compiledOnce(AjvCompiler() as unknown as Factory) as unknown as Factories['buildValidator'],
  buildSerializer: compiledOnce(SerializerSelector() as unknown as Factory) as unknown as Factories['buildSerializer'],
};
