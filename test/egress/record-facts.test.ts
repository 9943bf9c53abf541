/**
 * The record's facts in an egress-log entry come from one place (src/egress/record-facts.ts),
 * for a push attempt and a pull alike, and stand where they always stood in the entry: the log
 * keeps entries as written, so the order of their fields is part of what a reader sees.
 */
import { describe, expect, it } from 'vitest';
import { recordFacts } from '../../src/egress/record-facts.js';
import { createDeliveryWorker } from '../../src/egress/worker.js';
import { createBreaker } from '../../src/egress/breaker.js';
import type { Transport } from '../../src/egress/deliver.js';
import type { OutboxRow } from '../../src/store/index.js';

const row: OutboxRow = {
  id: 7,
  recordId: '0190b6c4-0000-7000-8000-000000000001',
  deliveryId: 'd-1',
  oem: 'acme',
  purpose: 'warranty',
  policyHash: 'sha256:abc',
  pseudonym: 'p-1',
  fieldsSent: ['speed'],
  fieldsDropped: ['vin'],
  body: '{"speed":1}',
  attempts: 0,
};

const FACTS = ['recordId', 'deliveryId', 'pseudonym', 'purpose', 'policyHash', 'fieldsSent', 'fieldsDropped'];

describe('egress log › the record facts of an entry', () => {
  it('are the row’s seven facts, in the entry’s order, and nothing else of the row', () => {
    const facts = recordFacts(row);
    expect(Object.keys(facts)).toEqual(FACTS);
    expect(facts).toEqual({
      recordId: row.recordId,
      deliveryId: 'd-1',
      pseudonym: 'p-1',
      purpose: 'warranty',
      policyHash: 'sha256:abc',
      fieldsSent: ['speed'],
      fieldsDropped: ['vin'],
    });
  });

  it('stand between the destination and the outcome in a delivered push’s entry', async () => {
    const transport: Transport = async () => ({ ok: true, status: 202 });
    const endpoint = new URL('http://127.0.0.1:9/ingest');
    const oem = { id: 'acme', endpoint: endpoint.href, allowedCountries: [], allowPrivateNetworks: true };
    const worker = createDeliveryWorker(
      { maxAttempts: 3, initialBackoffMs: 10, maxBackoffMs: 100 },
      {
        routes: new Map([
          ['acme', { oem, endpoint, transport, breaker: createBreaker({ failureThreshold: 3, openMs: 1 }) }],
        ]),
        isStillAllowed: async () => true,
        resolve: async () => [],
        now: () => 1_000,
      },
    );
    const outcome = await worker(row);
    expect(outcome.kind).toBe('delivered');
    if (outcome.kind !== 'delivered') return;
    expect(Object.keys(outcome.entry)).toEqual([
      'at',
      'oem',
      'destination',
      'destinationIp',
      'destinationCountry',
      ...FACTS,
      'outcome',
      'attempt',
      'httpStatus',
      'error',
      'traceId',
      'payload',
    ]);
    expect(outcome.entry).toMatchObject({ ...recordFacts(row), destination: '127.0.0.1:9', httpStatus: 202 });
  });
});
