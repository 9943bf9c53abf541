/**
 * What a commit hands to the SQLite writer thread (ingest-writer.ts): the payloads and nothing
 * around them. A payload is a slice of the socket chunk it arrived in, and a structured clone of
 * a slice copies its whole underlying buffer; so the bytes that cross MUST be the payloads' own.
 */
import { describe, expect, it } from 'vitest';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { record, projection } from './backends.js';
import type { IngestItem } from '../../src/store/types.js';
import { writerClient, type WriterReply, type WriterRequest } from '../../src/store/sqlite/ingest-writer.js';
import { FieldDecisions, decision } from '../../src/policy/decision.js';
import { digestOf } from '../../src/store/outbox/shapes.js';

describe('SQLite writer thread › what a commit hands over', () => {
  it('carries each payload in exactly its own bytes, not the socket chunk it was sliced from', async () => {
    // One read from a socket: three payloads side by side in a 64 KB chunk.
    const chunk = Buffer.alloc(64 * 1024, 0x2e);
    const payloads = ['{"speed":54}', '{"speed":55,"lat":48.1}', 'not json'].map((text, i) => {
      const at = 1_000 * (i + 1);
      chunk.write(text, at);
      return chunk.subarray(at, at + text.length);
    });
    const [a, b] = [record(), record()];
    const items: IngestItem[] = [
      { kind: 'record', record: a, raw: payloads[0]!, projections: [projection(a)] },
      { kind: 'record', record: b, raw: payloads[1]!, projections: [projection(b)] },
      {
        kind: 'quarantine',
        item: { id: 'q1', vin: b.vin, channel: 'mqtt', receivedAt: b.receivedAt, reason: 'bad', raw: payloads[2]! },
      },
    ];

    const { port1, port2 } = new MessageChannel();
    const client = writerClient({ port: port1, reconnect: () => Promise.reject(new Error('not in this test')) });
    const committed = client.commit(items);
    const got = receiveMessageOnPort(port2)?.message as WriterRequest;

    const raws = got.items.map((it) => (it.kind === 'record' ? it.raw : it.item.raw));
    expect(raws.map((r) => Buffer.from(r.buffer, r.byteOffset, r.byteLength).toString())).toEqual(
      payloads.map((p) => p.toString()),
    );
    // The buffers that crossed hold the payloads and nothing more.
    const crossed = new Set(raws.map((r) => r.buffer));
    const bytes = [...crossed].reduce((n, buf) => n + buf.byteLength, 0);
    expect(bytes).toBe(payloads.reduce((n, p) => n + p.byteLength, 0));
    // The caller's chunk is still its own (a copy crossed, not the chunk's memory).
    expect(chunk.byteLength).toBe(64 * 1024);
    expect(payloads[0]!.toString()).toBe('{"speed":54}');

    port2.postMessage({ seq: got.seq, turn: 7 } satisfies WriterReply);
    await expect(committed).resolves.toBe(7);
    await client.close();
    port2.close();
  });

  it('carries each shape by its digest, with its texts only until a commit that carried them committed', async () => {
    // The writer thread is the ingest pipe: it neither serializes a decision or a field list nor hashes them.
    const d = new FieldDecisions(
      ['Vehicle.Speed', 'Vehicle.CurrentLocation.Latitude'],
      [decision('passed', 'listed'), decision('dropped', 'not listed')],
    );
    const texts = {
      fieldsSent: '["Vehicle.Speed"]',
      fieldsDropped: '["Vehicle.CurrentLocation.Latitude"]',
      decision: JSON.stringify({
        fields: {
          'Vehicle.Speed': { outcome: 'passed', reason: 'listed' },
          'Vehicle.CurrentLocation.Latitude': { outcome: 'dropped', reason: 'not listed' },
        },
      }),
    };
    const digest = digestOf(texts.fieldsSent, texts.fieldsDropped, texts.decision).toString('hex');
    const plainDigest = digestOf(texts.fieldsSent, texts.fieldsDropped, null).toString('hex');
    const items = (): IngestItem[] =>
      [record(), record()].map((r, i) => ({
        kind: 'record',
        record: r,
        raw: Buffer.from('{}'),
        projections: [i === 0 ? projection(r, { decision: d }) : projection(r)],
      }));
    const { port1, port2 } = new MessageChannel();
    const client = writerClient({ port: port1, reconnect: () => Promise.reject(new Error('not in this test')) });
    const crossing = async (reply: Omit<WriterReply, 'seq'>) => {
      const committed = client.commit(items());
      const got = receiveMessageOnPort(port2)?.message as WriterRequest;
      port2.postMessage({ seq: got.seq, ...reply } satisfies WriterReply);
      await committed.catch(() => undefined);
      return got.items.map((it) => (it.kind === 'record' ? it.projections[0]! : undefined)!);
    };

    // First sight: the digest and the texts; no field list or decision of its own.
    const first = await crossing({ error: 'disk I/O error' });
    expect(first.map((p) => p.shape)).toEqual([digest, plainDigest]);
    expect(first[0]!.shapeTexts).toEqual({ digest, ...texts });
    expect(first[1]!.shapeTexts).toEqual({ digest: plainDigest, ...texts, decision: null });
    for (const p of first) for (const k of ['decision', 'fieldsSent', 'fieldsDropped']) expect(p).not.toHaveProperty(k);
    // That commit failed, its shape rows with it: the texts go again, until one commits.
    const second = await crossing({ turn: 2 });
    expect(second.map((p) => p.shapeTexts?.digest)).toEqual([digest, plainDigest]);
    const third = await crossing({ turn: 3 });
    expect(third.map((p) => [p.shape, p.shapeTexts])).toEqual([
      [digest, undefined],
      [plainDigest, undefined],
    ]);

    await client.close();
    port2.close();
  });

  it('carries the shape the policy made as it is', async () => {
    const r = record();
    const shape = { digest: 'ab'.repeat(32), fieldsSent: '["x"]', fieldsDropped: '[]', decision: null };
    const { port1, port2 } = new MessageChannel();
    const client = writerClient({ port: port1, reconnect: () => Promise.reject(new Error('not in this test')) });
    const committed = client.commit([
      { kind: 'record', record: r, raw: Buffer.from('{}'), projections: [{ ...projection(r), shape }] },
    ]);
    const got = receiveMessageOnPort(port2)?.message as WriterRequest;
    const [crossed] = got.items.flatMap((it) => (it.kind === 'record' ? it.projections : []));
    expect([crossed!.shape, crossed!.shapeTexts]).toEqual([shape.digest, shape]);
    port2.postMessage({ seq: got.seq, turn: 1 } satisfies WriterReply);
    await expect(committed).resolves.toBe(1);
    await client.close();
    port2.close();
  });
});
