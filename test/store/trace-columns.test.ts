/**
 * The two telemetry columns through the Store interface only (so the PostgreSQL backend can run
 * the same checks): the record's traceparent travels with its outbox rows, each egress-log row
 * keeps its attempt's trace id, and neither changes a Merkle leaf.
 */
import { describe, expect, it } from 'vitest';
import type { CanonicalRecord, Projection } from '../../src/record.js';
import type { EgressLogEntry, OutboxRow } from '../../src/store/index.js';
import { backends, useBackend } from './backends.js';

const TRACE_PARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';

const record = (id: string): CanonicalRecord => ({
  id,
  vin: 'LSHKZ000000000001',
  oem: 'acme',
  channel: 'mqtt',
  receivedAt: 1,
  observedAt: 1,
  signals: { 'Vehicle.Speed': 5 },
  account: {},
  unknownKeys: [],
});
const projection = (recordId: string, purpose = 'p'): Projection => ({
  recordId,
  deliveryId: `d_${recordId}/${purpose}`,
  oem: 'acme',
  purpose,
  policyHash: 'sha256:x',
  vehicle: `PSEUDO-${recordId}-${purpose}`,
  observedAt: 1,
  signals: { 'Vehicle.Speed': 5 },
  fieldsSent: ['Vehicle.Speed'],
  fieldsDropped: [],
});
const entry = (row: OutboxRow, traceId: string | null | undefined): EgressLogEntry => ({
  at: 2,
  oem: row.oem,
  destination: 'oem.example',
  destinationIp: '127.0.0.1',
  destinationCountry: 'private',
  recordId: row.recordId,
  pseudonym: row.pseudonym,
  purpose: row.purpose,
  policyHash: row.policyHash,
  fieldsSent: row.fieldsSent,
  fieldsDropped: row.fieldsDropped,
  outcome: 'delivered',
  attempt: 1,
  httpStatus: 200,
  error: null,
  ...(traceId === undefined ? {} : { traceId }),
});
describe.each(backends())('store › telemetry columns: $name', (backend) => {
  const { fresh } = useBackend(backend);
  // Each purpose under its own pseudonym here, so every row is the head of its queue.
  it('hands every outbox row of a traced record back with its traceparent, and null for one not traced', async () => {
    const store = await fresh();
    await store.commitIngest([
      {
        kind: 'record',
        record: record('traced'),
        raw: Buffer.from('{}'),
        projections: [projection('traced', 'a'), projection('traced', 'b')],
        traceParent: TRACE_PARENT,
      },
      { kind: 'record', record: record('plain'), raw: Buffer.from('{}'), projections: [projection('plain')] },
    ]);
    const due = await store.dueOutboxHeads(10, 10);
    expect(due.map((r) => [r.recordId, r.purpose, r.traceParent])).toEqual([
      ['traced', 'a', TRACE_PARENT],
      ['traced', 'b', TRACE_PARENT],
      ['plain', 'p', null],
    ]);
    expect((await store.leaseUnpublished(10, 10, 1_000)).map((r) => r.traceParent)).toEqual([
      TRACE_PARENT,
      TRACE_PARENT,
      null,
    ]);
  });

  it('keeps the trace id of each egress-log row, null when absent, and leaves the leaf as it would be without it', async () => {
    const store = await fresh();
    const other = await fresh();
    for (const s of [store, other])
      await s.commitIngest([
        { kind: 'record', record: record('r'), raw: Buffer.from('{}'), projections: [projection('r')] },
      ]);
    const [row] = await store.dueOutboxHeads(10, 10);
    const [same] = await other.dueOutboxHeads(10, 10);
    await store.settleOutbox([{ kind: 'delivered', outboxId: row!.id, entry: entry(row!, TRACE_ID) }]);
    await other.settleOutbox([{ kind: 'delivered', outboxId: same!.id, entry: entry(same!, undefined) }]);
    expect((await store.listEgressLog()).map((r) => r.traceId)).toEqual([TRACE_ID]);
    expect((await other.listEgressLog()).map((r) => r.traceId)).toEqual([null]);
    const [e] = await store.searchEgress({}, 0, 10);
    expect(e!.traceId).toBe(TRACE_ID);
    // Same entry, with and without a trace id: the same leaf hash, and no trace id in the leaf.
    expect((await store.auditLeafHash(0))!.equals((await other.auditLeafHash(0))!)).toBe(true);
    const [leaf] = await store.exportLeaves(-1, 1, 1);
    expect(JSON.stringify(leaf!.entry)).not.toContain(TRACE_ID);
  });
});
