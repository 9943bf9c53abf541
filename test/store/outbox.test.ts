import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { CanonicalRecord, Projection } from '../../src/record.js';

const record = (id: string): CanonicalRecord => ({
  id, vin: 'LSHKZ000000000001', oem: 'acme', channel: 'mqtt', receivedAt: 1, observedAt: 1,
  signals: { 'Vehicle.Speed': 5 }, account: {}, unknownKeys: [],
});
const projection = (recordId: string, decision?: unknown): Projection => ({
  recordId, oem: 'acme', purpose: 'p', policyHash: 'sha256:x', vehicle: 'PSEUDO', observedAt: 1,
  signals: { 'Vehicle.Speed': 5 }, fieldsSent: ['Vehicle.Speed'], fieldsDropped: [],
  ...(decision ? { decision: decision as Projection['decision'] } : {}),
});

describe('outbox', () => {
  const open = () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'shekara-outbox-')), 's.db');
    return { file, store: openSqliteStore(file) };
  };

  it('keeps the policy decision with the row, and out of the body the OEM receives', async () => {
    const { file, store } = open();
    const decision = { fields: { 'Vehicle.Speed': 'passed', 'Account.Owner.Name': 'dropped: not listed' } };
    await store.commitIngest([{ kind: 'record', record: record('r1'), raw: Buffer.from('{}'), projections: [projection('r1', decision)] }]);
    await store.close();
    const db = new Database(file, { readonly: true });
    const row = db.prepare('SELECT body, decision FROM egress_outbox WHERE record_id = ?').get('r1') as { body: string; decision: string };
    db.close();
    expect(JSON.parse(row.decision)).toEqual(decision);
    expect(row.body).not.toContain('dropped: not listed');
  });

  it('skips a late-released projection whose record was never stored, and commits the rest', async () => {
    const { store } = open();
    await store.commitIngest([{ kind: 'record', record: record('r2'), raw: Buffer.from('{}'), projections: [projection('never-stored'), projection('r2')] }]);
    expect((await store.dueOutboxHeads(10, 10)).map((r) => r.recordId)).toEqual(['r2']);
    await store.close();
  });
});
