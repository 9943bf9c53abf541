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
import { createRequire } from 'node:module';
import type AjvCompiler from '@fastify/ajv-compiler';
import type { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import type { FastifyServerOptions } from 'fastify';

type Factories = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>;
type Compiled = (...args: unknown[]) => unknown;
type Factory = (externalSchemas: unknown, options: unknown) => (route: { schema: unknown }) => unknown;

/**
 * Compiles on first use: fastify asks for every route's validator and serializer when the
 * instance gets ready, and answering with the compiled functions cost a gateway start about
 * 0.2-0.8 CPU-s (ajv and fast-json-stringify, a third of the main thread's start-up) for routes
 * most processes never serve. The stand-in forwards calls and properties (an ajv validator's
 * `errors` and `schemaEnv`, read by fastify around the call) to the function compiled the first
 * time it is called or read; the compiler, an Ajv instance included, is built then too. A schema
 * is code, not configuration: one that does not compile fails its route's first request, where
 * before it failed the start; `compilePending` lets the suite compile them all.
 */
function onFirstUse(compile: () => Compiled): Compiled {
  let fn: Compiled | undefined;
  const compiled = (): Compiled => {
    if (fn === undefined) {
      fn = compile();
      notYetCompiled.delete(compiled);
    }
    return fn;
  };
  notYetCompiled.add(compiled);
  // An arrow function as the target: it has no own `prototype`, so forwarding every property read
  // breaks no Proxy invariant.
  return new Proxy((() => undefined) as Compiled, {
    apply: (_t, self, args) => Reflect.apply(compiled(), self, args),
    get: (_t, key) => Reflect.get(compiled(), key),
    has: (_t, key) => Reflect.has(compiled(), key),
    set: (_t, key, value) => Reflect.set(compiled(), key, value),
  });
}

/** The stand-ins whose schema was not compiled yet (see compilePending). */
const notYetCompiled = new Set<() => Compiled>();

/**
 * Compiles every route schema of this process that no request has used yet, throwing on the
 * first that does not compile. A start no longer fails on a broken schema; the suite calls this
 * after building the whole gateway (test/route-schemas.test.ts), so a broken schema
 * fails the build's tests instead of an operator's first request. Returns how many it compiled.
 */
export function compilePending(): number {
  const pending = [...notYetCompiled];
  for (const compile of pending) compile();
  return pending.length;
}

/** Exported for its test (test/api/schema-compilers.test.ts). */
export function compiledOnce(factory: Factory): Factory {
  const compiled = new Map<string, Compiled>();
  return (externalSchemas, options) => {
    let compile: ReturnType<Factory> | undefined;
    const scope = JSON.stringify([externalSchemas, options]);
    return (route) => {
      const key = scope + JSON.stringify(route.schema);
      let fn = compiled.get(key);
      if (fn === undefined)
        compiled.set(key, (fn = onFirstUse(() => (compile ??= factory(externalSchemas, options))(route) as Compiled)));
      return fn;
    };
  };
}

/**
 * The compiler packages themselves (ajv, ajv-formats, fast-json-stringify: ~110 modules, 50-90
 * CPU-ms to load) come with the first schema compiled, not with the gateway: a gateway serving
 * no validated route (one only taking cars' data, a test of ingest or egress) never loads them
 * (test/cli/cli-imports.test.ts). Fastify asks for compilers synchronously, hence require.
 */
const requireCompiler = createRequire(import.meta.url);
const onFirstCompile = (select: () => Factory): Factory => {
  let factory: Factory | undefined;
  return (externalSchemas, options) => (factory ??= select())(externalSchemas, options);
};

export const sharedSchemaCompilers: Factories = {
  buildValidator: compiledOnce(
    onFirstCompile(() => (requireCompiler('@fastify/ajv-compiler') as typeof AjvCompiler)() as unknown as Factory),
  ) as unknown as Factories['buildValidator'],
  buildSerializer: compiledOnce(
    onFirstCompile(
      () =>
        (
          requireCompiler('@fastify/fast-json-stringify-compiler') as { SerializerSelector: typeof SerializerSelector }
        ).SerializerSelector() as unknown as Factory,
    ),
  ) as unknown as Factories['buildSerializer'],
};
