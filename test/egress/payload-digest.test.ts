/**
 * The delivery worker's outcomes carry the digest of the body that crossed, made where the body
 * is in hand, so the store need not read the row again: for a single POST the digest of exactly
 * the bytes the OEM received, for a batch each item's body as it stands in the POST, and for an
 * outcome that sent nothing the body that would have been sent.
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createDeliveryWorker } from '../../src/egress/worker.js';
import { createBreaker } from '../../src/egress/breaker.js';
import { createTransport } from '../../src/egress/deliver.js';
import type { BatchConfig } from '../../src/egress/batch.js';
import type { AttemptOutcome } from '../../src/egress/chain.js';
import { outboxRow, startTestSink, type TestSink } from './helpers.js';

const digestOf = (bytes: string) => ({
  payloadSha256: createHash('sha256').update(bytes, 'utf8').digest('hex'),
  payloadBytes: Buffer.byteLength(bytes, 'utf8'),
});

const payloadOf = (o: AttemptOutcome | undefined) => (o && 'entry' in o ? o.entry.payload : undefined);

describe('egress › the payload digest an outcome carries', () => {
  let sink: TestSink | undefined;
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
    await sink?.close();
  });

  const workerTo = async (opts: { batch?: BatchConfig; allowed?: boolean } = {}) => {
    sink = await startTestSink();
    const endpoint = new URL(sink.url);
    const oem = { id: 'acme', endpoint: sink.url, allowedCountries: [], allowPrivateNetworks: true };
    const transport = createTransport({
      timeoutMs: 5_000,
      signingKeys: () => [Buffer.alloc(32, 7)],
      retriableStatus: (s) => s >= 500,
      ...(opts.batch ? { batch: opts.batch } : {}),
    });
    closers.push(transport.close);
    return createDeliveryWorker(
      { maxAttempts: 3, initialBackoffMs: 10, maxBackoffMs: 100 },
      {
        routes: new Map([
          ['acme', { oem, endpoint, transport, breaker: createBreaker({ failureThreshold: 3, openMs: 1 }) }],
        ]),
        isStillAllowed: async () => opts.allowed ?? true,
        resolve: async () => [],
        now: Date.now,
      },
    );
  };

  it('of a single POST is the digest of exactly the bytes the OEM received', async () => {
    const worker = await workerTo();
    const outcome = await worker(outboxRow(1, '{"deliveryId":"d-1","signals":{"Vehicle.Speed":1},"note":"Ünïcödé ✓"}'));
    expect(outcome.kind).toBe('delivered');
    expect(sink!.hits).toHaveLength(1);
    expect(payloadOf(outcome)).toEqual(digestOf(sink!.hits[0]!.raw));
  });

  it('of a batched POST is, per item, the digest of that item’s body as it stands in the POST', async () => {
    const worker = await workerTo({ batch: { maxRecords: 10, maxBytes: 1_000_000, maxWaitMs: 0 } });
    const rows = [outboxRow(1, '{"deliveryId":"d-1","n":1}'), outboxRow(2, '{"deliveryId":"d-2","n":"zwei, ä"}')];
    const outcomes = await worker.chain!(rows);
    expect(sink!.posts).toBe(1);
    const raw = sink!.hits[0]!.raw;
    for (const [i, r] of rows.entries()) {
      expect(raw).toContain(`"body":${r.body}}`);
      expect(payloadOf(outcomes[i])).toEqual(digestOf(r.body));
    }
  });

  it('of an outcome that sent nothing (blocked) is the digest of the body that would have been sent', async () => {
    const worker = await workerTo({ allowed: false });
    const r = outboxRow(3, '{"deliveryId":"d-3","n":3}');
    const outcome = await worker(r);
    expect(outcome.kind).toBe('blocked');
    expect(sink!.hits).toHaveLength(0);
    expect(payloadOf(outcome)).toEqual(digestOf(r.body));
  });
});
