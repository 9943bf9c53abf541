/**
 * The gateway's HTTP surface: one fastify instance that modules register their routes on.
 * Deny by default: a route no module registered answers 404 with a code, never a default page.
 */
import { readFileSync } from 'node:fs';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { HttpConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { nonTextPath } from '../text.js';
import { JsonStrictError, parseStrictJson } from '../json-strict.js';

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
    ajv: { customOptions: { removeAdditional: false } },
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
    const bad = (message: string) => done(Object.assign(new Error(message), { statusCode: 400 }), undefined);
    if (body === '') return bad("body: empty, although the content-type is 'application/json'");
    let value;
    try {
      value = parseStrictJson(body as string, { root: 'body', reservedKeys: ['__proto__'] });
    } catch (err) {
      if (err instanceof JsonStrictError) return bad(err.message);
      throw err;
    }
    const at = nonTextPath(value, 'body');
    if (at) return bad(`${at}: holds U+0000 or an unpaired surrogate, which is not text`);
    done(null, value);
  });

  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send({ code: 'SHK_NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` });
  });
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, _req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    if (status >= 500) reply.log.error({ err }, 'http: request failed');
    const code = status === 413 ? 'SHK_INGEST_LIMIT' : status < 500 ? 'SHK_BAD_REQUEST' : 'SHK_INTERNAL';
    reply.code(status).send({ code, message: status < 500 ? err.message : 'internal error; see the gateway log' });
  });
  return app;
}
