/**
 * The one way an HTTP route fails (src/api/http.ts): a route throws, the error handler answers.
 * In-process (fastify inject), no sockets: what the client sees, and what the log holds.
 */
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { buildHttp } from '../../src/api/http.js';
import { createLogger } from '../../src/log.js';
import { ShekaraError } from '../../src/errors.js';

const lines: Array<{ level: number; msg: string; err?: { message?: string } }> = [];
const sink = new Writable({
  write(chunk: Buffer, _enc, done) {
    for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as (typeof lines)[number]);
    done();
  },
});
const http = buildHttp({ host: '127.0.0.1', port: 0, tls: { enabled: false } } as never, createLogger('info', sink));
http.get('/plain', async () => {
  throw new Error('db password is hunter2 at /srv/secret.db');
});
http.get('/typed', async () => {
  throw new ShekaraError('SHK_CONFLICT', 'OEM acme is pushed to', {
    cause: new Error('inner detail'),
    details: { x: 1 },
  });
});
http.get('/not-http', async () => {
  throw new ShekaraError('SHK_AUDIT_PROOF', 'leaf 7 is missing from the store');
});
http.get('/limited', async () => {
  throw new ShekaraError('SHK_RATE_LIMITED', 'slow down', { headers: { 'retry-after': '3' }, answer: { n: 1 } });
});
http.post('/echo', async (req) => req.body);
afterAll(() => http.close());

describe('HTTP errors', () => {
  it("answers a ShekaraError with its code's registered status, code and message, and nothing of its cause or details", async () => {
    const res = await http.inject('/typed');
    expect(res.statusCode).toBe(409);
    expect(res.json()).toEqual({ code: 'SHK_CONFLICT', message: 'OEM acme is pushed to' });
  });

  it('sends the headers and answer fields the error names', async () => {
    const res = await http.inject('/limited');
    expect(res.statusCode).toBe(429);
    expect(res.headers['retry-after']).toBe('3');
    expect(res.json()).toEqual({ code: 'SHK_RATE_LIMITED', message: 'slow down', n: 1 });
  });

  it('answers an unknown error 500 with a generic body, and logs it once with its cause', async () => {
    const before = lines.length;
    const res = await http.inject('/plain');
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ code: 'SHK_INTERNAL', message: 'internal error; see the gateway log' });
    expect(res.body).not.toContain('hunter2');
    const logged = lines.slice(before).filter((l) => l.level >= 50);
    expect(logged).toHaveLength(1);
    expect(logged[0]!.err?.message).toContain('hunter2');
  });

  it('answers a code that is never an HTTP answer as SHK_INTERNAL, without its message', async () => {
    const res = await http.inject('/not-http');
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ code: 'SHK_INTERNAL', message: 'internal error; see the gateway log' });
  });

  it('answers a route nobody registered 404 SHK_NOT_FOUND, and a fastify refusal with its 4xx as SHK_BAD_REQUEST', async () => {
    const none = await http.inject('/nowhere?x=1');
    expect([none.statusCode, none.json()]).toEqual([404, { code: 'SHK_NOT_FOUND', message: 'no route GET /nowhere' }]);
    const json = await http.inject({
      method: 'POST',
      url: '/echo',
      headers: { 'content-type': 'application/json' },
      payload: '{"a":',
    });
    expect(json.statusCode).toBe(400);
    expect(json.json()).toMatchObject({ code: 'SHK_BAD_REQUEST' });
  });
});
