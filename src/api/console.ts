/**
 * The console (src/console/): a few static files served at /console/ by the gateway itself, so
 * it works air-gapped. The page holds the API key it is given and calls the regulator or admin
 * API with it as a bearer header; these routes serve only the page and need no key.
 *
 * Every file is read once at start-up and answered from memory, from a fixed list: no path from
 * the request ever reaches the file system. The Content-Security-Policy lets the page load
 * nothing but its own files, connect nowhere but this gateway, be framed by no one, and assign
 * no string to a DOM sink (Trusted Types): there is no inline script or style.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { notFound } from '../errors.js';

export const CONSOLE_PREFIX = '/console';

export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  'trusted-types',
].join('; ');

const JS = 'text/javascript; charset=utf-8';
/** The files of the console, and nothing else. */
const TYPES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
  ...Object.fromEntries(
    [
      'app.js',
      'core.js',
      'overview.js',
      'log.js',
      'reports.js',
      'incidents.js',
      'verify.js',
      'strings.js',
      'strings-kk.js',
      'strings-ru.js',
      'strings-en.js',
    ].map((f) => [f, JS]),
  ),
};

/** The console's files: src/console beside src/api when run from source, dist/console when built. */
export const CONSOLE_DIR = fileURLToPath(new URL('../console/', import.meta.url));

export function registerConsole(http: FastifyInstance, dir = CONSOLE_DIR): void {
  const files = new Map(Object.entries(TYPES).map(([name, type]) => [name, { type, body: readFileSync(dir + name) }]));
  const headers = {
    'content-security-policy': CONSOLE_CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'cache-control': 'no-cache',
  };
  const send = (name: string) => {
    const f = files.get(name);
    if (!f) throw notFound(`no console file ${name}`);
    return f;
  };
  http.get(CONSOLE_PREFIX, async (_req, reply) => reply.redirect(`${CONSOLE_PREFIX}/`, 301));
  const answer = (name: string, reply: FastifyReply) => {
    const f = send(name);
    return reply.headers(headers).type(f.type).send(f.body);
  };
  http.get(`${CONSOLE_PREFIX}/`, async (_req, reply) => answer('index.html', reply));
  http.get<{ Params: { file: string } }>(`${CONSOLE_PREFIX}/:file`, async (req, reply) =>
    answer(req.params.file, reply),
  );
}
