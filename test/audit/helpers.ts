/** A real SQLite store in a temp dir, with egress outcomes written the way the egress workers write them. */
import path from 'node:path';
import Database from 'better-sqlite3';
import type { EgressLogEntry, Store } from '../../src/store/index.js';
import { uuidv7 } from '../../src/ids.js';

export { tempStore, type TempStore } from '../helpers/temp-store.js';

export const POLICY_HASH = `sha256:${'ab'.repeat(32)}`;

/**
 * Ingests one record of `vin` with one projection and settles it with `outcome`, exactly as
 * the egress side does (settleOutbox → egress-log append in one transaction). Returns the record id.
 */
export async function egressOnce(
  store: Store,
  opts: {
    vin: string;
    pseudonym?: string;
    at: number;
    oem?: string;
    outcome?: 'delivered' | 'failed' | 'dead' | 'blocked';
    country?: string;
  },
): Promise<string> {
  const oem = opts.oem ?? 'demo-oem';
  const id = uuidv7(opts.at);
  const pseudonym = opts.pseudonym ?? `p-${opts.vin.slice(-6)}`;
  await store.commitIngest([
    {
      kind: 'record',
      raw: Buffer.from('{}'),
      record: {
        id,
        vin: opts.vin,
        oem,
        channel: 'mqtt',
        receivedAt: opts.at,
        observedAt: opts.at,
        signals: { 'Vehicle.Speed': 50 },
        account: {},
        unknownKeys: [],
      },
      projections: [
        {
          recordId: id,
          deliveryId: `d_${id}`,
          oem,
          purpose: 'speed-profile',
          policyHash: POLICY_HASH,
          vehicle: pseudonym,
          observedAt: opts.at,
          signals: { 'Vehicle.Speed': 50 },
          fieldsSent: ['Vehicle.Speed'],
          fieldsDropped: ['Vehicle.CurrentLocation.Latitude'],
        },
      ],
    },
  ]);
  const [row] = (await store.leaseDueOutbox(opts.at + 1, 1_000, 10_000)).filter((r) => r.recordId === id);
  if (!row) throw new Error('outbox row not leased');
  const outcome = opts.outcome ?? 'delivered';
  const entry: EgressLogEntry = {
    at: opts.at,
    oem,
    destination: 'oem.example:443',
    destinationIp: '203.0.113.7',
    destinationCountry: opts.country ?? 'DE',
    recordId: id,
    pseudonym,
    purpose: row.purpose,
    policyHash: row.policyHash,
    fieldsSent: row.fieldsSent,
    fieldsDropped: row.fieldsDropped,
    outcome: outcome === 'dead' ? 'dead-lettered' : outcome,
    attempt: 1,
    httpStatus: outcome === 'delivered' ? 200 : null,
    error: outcome === 'delivered' ? null : 'x',
  };
  if (outcome === 'failed')
    await store.settleOutbox([{ kind: 'failed', outboxId: row.id, entry, nextAttemptAt: opts.at + 1_000 }]);
  else await store.settleOutbox([{ kind: outcome, outboxId: row.id, entry }]);
  return id;
}

import { writeFileSync } from 'node:fs';

/** `shekara ARGS…` as an operator or a regulator runs it (in this process: test/helpers/cli.ts). */
export { shekara } from '../helpers/cli.js';

/** A config file whose store is `dir`/shekara.db. */
export function configFor(dir: string, origin = 'shekara.test/egress-log'): string {
  const file = path.join(dir, 'shekara.yaml');
  writeFileSync(file, `dataDir: ${dir}\naudit:\n  origin: ${origin}\nlog:\n  level: silent\n`);
  return file;
}

/** Runs SQL on the store file through its own connection, as someone with write access to the file would. */
export function tamper(file: string, sql: string): void {
  const raw = new Database(file);
  raw.exec(sql);
  raw.close();
}

/** Entry `seq` of the egress log rewritten in place (its append-only trigger dropped, then put back). */
export const EDIT_ENTRY = (seq: number) =>
  `DROP TRIGGER egress_log_no_update; UPDATE egress_log SET fields_sent = '["Vehicle.Speed","Vehicle.CurrentLocation.Latitude"]' WHERE seq = ${seq};
   CREATE TRIGGER egress_log_no_update BEFORE UPDATE ON egress_log BEGIN SELECT RAISE(ABORT, 'egress_log is append-only'); END;`;
