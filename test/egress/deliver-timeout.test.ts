/**
 * The bound on one POST (createTransport's `timeoutMs`, src/egress/deliver.ts): an OEM that does
 * not answer within it is a retriable network failure; an OEM that answered leaves nothing of the
 * bound behind. Real HTTP servers on loopback.
 */
import { createHook } from 'node:async_hooks';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createTransport } from '../../src/egress/deliver.js';
import type { CheckedAddress } from '../../src/egress/destination.js';
import { outboxRow } from './helpers.js';

const row = (id: number) => outboxRow(id, `{"deliveryId":"d-${id}","signals":{"Vehicle.Speed":${id}}}`);
const loopback: CheckedAddress = { address: '127.0.0.1', family: 4, country: 'private' };

describe('egress › the bound on one POST to the OEM', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
  });

  /** An OEM endpoint: `answer` false takes each request and never answers it. */
  const oem = async (answer: boolean): Promise<URL> => {
    const server: Server = createServer((req, res) => {
      req.resume();
      if (answer) req.on('end', () => res.writeHead(200).end('{}'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/oem`);
  };
  const transport = (timeoutMs: number) => {
    const t = createTransport({ timeoutMs, signingKeys: () => [Buffer.alloc(32, 7)], retriableStatus: () => true });
    closers.push(t.close);
    return t;
  };

  it('when the OEM does not answer within it, the attempt fails as retriable, saying so', async () => {
    const endpoint = await oem(false);
    const result = await transport(300)(endpoint, loopback, row(1));
    expect(result).toEqual({ ok: false, status: null, error: 'network: no answer within 300 ms', retriable: true });
  });

  it('when the OEM answered, no timer of the bound is left waiting', async () => {
    const endpoint = await oem(true);
    const send = transport(60_000);
    await send(endpoint, loopback, row(0)); // undici loaded, its connection open
    // Timers made while 50 POSTs are sent and answered, and not cleared or fired by their end.
    const waiting = new Set<number>();
    const hook = createHook({
      init: (id, type) => void (type === 'Timeout' && waiting.add(id)),
      destroy: (id) => void waiting.delete(id),
    });
    hook.enable();
    try {
      for (let i = 1; i <= 50; i++) expect((await send(endpoint, loopback, row(i))).ok).toBe(true);
      // Node reports a cleared timer's end a moment later (destroy hooks run from a queue).
      for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
    } finally {
      hook.disable();
    }
    // One per POST was left (until its 60 s had passed) when the bound was AbortSignal.timeout,
    // whose timer cannot be cleared: 54–55 here. A few are the HTTP client's and the runner's own,
    // as many after 200 POSTs as after 50 (4–5).
    expect(waiting.size).toBeLessThan(10);
  });
});
