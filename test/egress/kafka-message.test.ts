/**
 * What the Kafka relay puts in a message and what the consumer reads back: each fact of the row
 * once (the pseudonym in the key; outbox id, record id and purpose in headers; the rest as one
 * line of JSON), then the body byte for byte; and the messages the previous builds produced
 * (the whole row as one JSON object) still read as the same row.
 */
import { describe, expect, it } from 'vitest';
import type { Message } from 'kafkajs';
import { fromMessage, toMessage } from '../../src/egress/kafka-relay.js';
import type { OutboxRow } from '../../src/store/index.js';

const row: OutboxRow = {
  id: 4711,
  recordId: '0190b6c4-0000-7000-8000-000000000001',
  deliveryId: 'd_3q8z0k1m2n4p5r6s7t8v9w0x1y',
  oem: 'acme',
  purpose: 'battery-warranty',
  policyHash: `sha256:${'ab'.repeat(32)}`,
  pseudonym: 'p_00a1b2c3d4e5f607',
  fieldsSent: ['Vehicle.Speed', 'Vehicle.TraveledDistance'],
  fieldsDropped: ['Vehicle.CurrentLocation.Latitude', 'Vehicle.CurrentLocation.Longitude'],
  body: '{"deliveryId":"d_3q8z0k1m2n4p5r6s7t8v9w0x1y","signals":{"Vehicle.Speed":42.5},"note":"a \\"quoted\\"\\nline, ünï ✓"}',
  attempts: 2,
  traceParent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
};
const { id: _id, attempts: _a, traceParent: _t, ...carried } = row;

/** A produced message as a consumer fetches it: key, value and headers as Buffers. */
const fetched = (m: Message) => ({
  key: Buffer.from(m.key as string),
  value: Buffer.from(m.value as string),
  headers: Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, Buffer.from(v as string)])),
});
const sizeOf = (m: ReturnType<typeof fetched>) =>
  m.key.length + m.value.length + Object.entries(m.headers).reduce((n, [k, v]) => n + k.length + v.length, 0);

/** What the previous builds produced: the row but its attempts and traceparent, as one JSON object. */
const previousBuild = (r: OutboxRow): Message => {
  const { attempts: _x, traceParent: _y, ...rest } = r;
  return {
    key: r.pseudonym,
    value: JSON.stringify(rest),
    headers: { 'shekara-record-id': r.recordId, 'shekara-outbox-id': String(r.id), 'shekara-purpose': r.purpose },
  };
};

describe('egress through Kafka › a message', () => {
  it('carries the body byte for byte after one line of the facts no key or header carries', () => {
    const m = fetched(toMessage(row, row.traceParent));
    const value = m.value.toString('utf8');
    expect(value.endsWith(`\n${row.body}`)).toBe(true);
    const facts = JSON.parse(value.slice(0, value.indexOf('\n'))) as Record<string, unknown>;
    expect(facts).toEqual({
      oem: row.oem,
      deliveryId: row.deliveryId,
      policyHash: row.policyHash,
      fieldsSent: row.fieldsSent,
      fieldsDropped: row.fieldsDropped,
    });
    expect(m.key.toString()).toBe(row.pseudonym);
    expect(Object.fromEntries(Object.entries(m.headers).map(([k, v]) => [k, v.toString()]))).toEqual({
      'shekara-record-id': row.recordId,
      'shekara-outbox-id': '4711',
      'shekara-purpose': row.purpose,
      traceparent: row.traceParent,
    });
  });

  it('reads back as the row it was made from, without its id, attempts and traceparent (the store’s and a header)', () => {
    expect(fromMessage(fetched(toMessage(row, row.traceParent)))).toEqual(carried);
  });

  it('made by the previous builds (the whole row as JSON) reads as the same row', () => {
    expect(fromMessage(fetched(previousBuild(row)))).toEqual(carried);
    const noLineBreak = { ...row, body: '{"speed":1}' };
    const { id: _i, attempts: _x, traceParent: _y, ...rest } = noLineBreak;
    expect(fromMessage(fetched(previousBuild(noLineBreak)))).toEqual(rest);
  });

  it('is smaller than the previous builds’ by what they carried twice and the body’s escaping', () => {
    const lean = sizeOf(fetched(toMessage(row)));
    const before = sizeOf(fetched(previousBuild(row)));
    const twice = `"id":4711,"recordId":"${row.recordId}","purpose":"${row.purpose}","pseudonym":"${row.pseudonym}"`;
    const escapes = JSON.stringify(row.body).length - 2 - row.body.length;
    expect(before - lean).toBeGreaterThanOrEqual(twice.length + escapes);
  });
});
