/**
 * Route schemas compile on first use (src/api/schema-compilers.ts), so a gateway no longer
 * fails its start on one that does not compile. This suite is where it fails instead: it builds
 * the whole gateway and compiles every route schema no request has used yet.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHttp } from '../src/api/http.js';
import { compilePending } from '../src/api/schema-compilers.js';
import { createLogger } from '../src/log.js';
import { startTestGateway, type TestGateway } from './helpers/gateway.js';

describe('route schemas, compiled on first use', () => {
  let gw: TestGateway | undefined;
  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(() => gw?.stop());

  it("compile, every one of the gateway's", () => {
    const compiled = compilePending();
    expect(compiled).toBeGreaterThan(50);
    expect(compilePending()).toBe(0); // each once
  });

  it('fail here when one does not compile, naming the problem', async () => {
    const http = buildHttp({ host: '127.0.0.1', port: 0, tls: { enabled: false } } as never, createLogger('silent'));
    http.post(
      '/broken',
      { schema: { body: { type: 'object', properties: { n: { type: 'nonsense' } } } } },
      async () => ({}),
    );
    try {
      await http.ready(); // a start: nothing compiled, nothing thrown
      expect(() => compilePending()).toThrow(/schema is invalid: data\/properties\/n/);
    } finally {
      await http.close();
    }
  });
});
