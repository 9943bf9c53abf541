/**
 * The gateway's HTTP surface: one fastify instance that modules register their routes on.
 * Deny by default: a route no module registered answers 404 with a code, never a default page.
 */
import { readFileSync } from 'node:fs';
import Fastify, { LogController, type FastifyInstance, type FastifyReply } from 'fastify';
import type { HttpConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { nonTextPath } from '../text.js';
import { JsonStrictError, parseStrictJson } from '../json-strict.js';
import { badRequest, isShekaraError, notFound, ShekaraError } from '../errors.js';
import { sharedSchemaCompilers } from './schema-compilers.js';

const tlsFiles = (cfg: HttpConfig) => ({ key: readFileSync(cfg.tls.keyFile!), cert: readFileSync(cfg.tls.certFile!) });

/** Re-reads the HTTPS certificate and key (SIGHUP); new connections use them. */
export function reloadHttpTls(app: FastifyInstance, cfg: HttpConfig): void {
  if (cfg.tls.enabled) (app.server as unknown as { setSecureContext(o: object): void }).setSecureContext(tlsFiles(cfg));
}

/** `body.oem: must match pattern "^[a-z0-9-]+$"` — the field, then the reason. */
function describeSchemaError(
  dataVar: string,
  e: { instancePath: string; message?: string; params: Record<string, unknown> },
): string {
  const field = `${dataVar}${e.instancePath.replaceAll('/', '.')}`;
  if (typeof e.params.additionalProperty === 'string') return `${field}.${e.params.additionalProperty}: unknown field`;
  if (typeof e.params.missingProperty === 'string') return `${field}.${e.params.missingProperty}: required`;
  return `${field}: ${e.message ?? 'invalid'}`;
}

export function buildHttp(cfg: HttpConfig, log: Logger): FastifyInstance {
  const https = cfg.tls.enabled ? tlsFiles(cfg) : null;
  const app = Fastify({
    loggerInstance: log.child({ module: 'http' }),
    // Per-request logs would be one line per car message; refusals are logged with reasons instead.
    logController: new LogController({ disableRequestLogging: true }),
    // Deny by default for bodies too: an unknown field is refused by name, never dropped silently.
    // A command parameter is a number, string or boolean: a union type, allowed explicitly.
    ajv: { customOptions: { removeAdditional: false, allowUnionTypes: true } },
    schemaController: { compilersFactory: sharedSchemaCompilers },
    schemaErrorFormatter: (errors, dataVar) => new Error(errors.map((e) => describeSchemaError(dataVar, e)).join('; ')),
    ...(https ? { https } : {}),
  }) as unknown as FastifyInstance;

  // A JSON body is parsed strictly (src/json-strict.ts): a duplicate key is refused with its path,
  // since `{"role":"regulator","role":"operator"}` reads as one role to a reviewer or a proxy and
  // as the other to us; `__proto__` is refused as fastify's default parser did. Then any string in
  // it that is not text (src/text.ts) is refused: PostgreSQL could not store it, and SQLite would
  // keep what PostgreSQL refuses, so both stores see the same requests. Ingest routes parse their
  // own raw bytes.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const bad = (field: string, reason: string) => done(badRequest(field, reason), undefined);
    if (body === '') return bad('body', "empty, although the content-type is 'application/json'");
    let value;
    try {
      value = parseStrictJson(body as string, { root: 'body', reservedKeys: ['__proto__'] });
    } catch (err) {
      if (err instanceof JsonStrictError) return done(new ShekaraError('SHK_BAD_REQUEST', err.message), undefined);
      throw err;
    }
    const at = nonTextPath(value, 'body');
    if (at) return bad(at, 'holds U+0000 or an unpaired surrogate, which is not text');
    done(null, value);
  });

  app.setNotFoundHandler(async (req) => {
    throw notFound(`no route ${req.method} ${req.url.split('?')[0]}`);
  });
  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => answerError(err, reply));
  return app;
}

/**
 * The one way an HTTP route fails: it throws, and this answers. A ShekaraError is answered with
 * its code's status (src/errors.ts), code and message, and its headers; nothing else of it (no
 * stack, no cause, no details; `answer` fields only) reaches the client. A fastify error (schema
 * validation, body too large, bad JSON) keeps its 4xx status as SHK_BAD_REQUEST (413:
 * SHK_INGEST_LIMIT). Anything else is a 500 with a generic body, logged once here. A
 * ShekaraError with a status is an answer, not a fault: it is not logged here (the module that
 * threw it logs it, in aggregate where the condition is expected, such as backpressure).
 */
function answerError(err: Error & { statusCode?: number }, reply: FastifyReply): FastifyReply {
  if (isShekaraError(err) && err.status !== null) {
    const { code, status, details } = err;
    // Admin operations, shared with the CLI, name a body field without its place: `oem: …`.
    const message =
      code === 'SHK_BAD_REQUEST' && typeof details.field === 'string' ? `body.${err.message}` : err.message;
    reply.headers(err.headers);
    // Clients retry a 503 (the store or Kafka is behind or away); say when.
    if (status === 503 && reply.getHeader('retry-after') === undefined) reply.header('retry-after', '5');
    return reply.code(status).send({ code, message, ...err.answer });
  }
  const status = !isShekaraError(err) && err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
  if (status >= 500) {
    reply.log.error({ err }, 'http: request failed');
    return reply.code(status).send({ code: 'SHK_INTERNAL', message: 'internal error; see the gateway log' });
  }
  return reply
    .code(status)
    .send({ code: status === 413 ? 'SHK_INGEST_LIMIT' : 'SHK_BAD_REQUEST', message: err.message });
}
