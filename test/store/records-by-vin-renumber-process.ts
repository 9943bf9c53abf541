/**
 * The store side of records-by-vin.test.ts's renumbering cases, in a process of its own so that
 * another connection (the test's) can renumber and VACUUM the file while this one has it open.
 * It fills the store so that a gap lies below the VIN index's mark and records lie in its tail:
 * VIN_INDEX_EVERY / 2 old records of VIN2 (received 100 days before T0), as many recent ones
 * (the commit that reaches VIN_INDEX_EVERY indexes them all), then 1,000 records of VIN1 in the
 * tail, each with a route point, account data and a pending projection, the last one's delivered
 * (pseudonym `tail-001`). Retention (90 days) then deletes the old records, as it does in
 * production, and the process prints `ready`. Then it answers one line of JSON per command read
 * from stdin: `pseudonyms`, `revoke`, `erase` (of VIN1), `commit` (one more record of VIN2);
 * `exit` closes the store and ends the process.
 * Usage: node --import tsx test/store/records-by-vin-renumber-process.ts FILE
 */
import { createInterface } from 'node:readline';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { VIN_INDEX_EVERY } from '../../src/store/records/sqlite.js';
import type { IngestItem } from '../../src/store/types.js';
import { delivered } from './records-by-vin-delivered.js';

const [file] = process.argv.slice(2) as [string];
const T0 = Date.UTC(2030, 0, 15, 12);
const DAY = 86_400_000;
const VIN1 = 'LSHKZ000000000001';
const VIN2 = 'LSHKZ000000000002';
const TAIL = 1_000;

const store = openSqliteStore(file);
let n = 0;
const itemOf = (vin: string, receivedAt: number, vehicle?: string): IngestItem => {
  const id = `r${String(n++).padStart(6, '0')}`;
  return {
    kind: 'record',
    record: {
      id,
      vin,
      oem: 'acme',
      channel: 'mqtt',
      receivedAt,
      observedAt: receivedAt,
      signals: {
        'Vehicle.Speed': 50,
        'Vehicle.CurrentLocation.Latitude': 43.2,
        'Vehicle.CurrentLocation.Longitude': 71.4,
      },
      account: vehicle ? { 'Account.Owner.Name': `Owner ${vin}` } : {},
      unknownKeys: [],
    },
    raw: Buffer.from(JSON.stringify({ id })),
    projections: vehicle
      ? [
          {
            recordId: id,
            deliveryId: `d_${id}`,
            oem: 'acme',
            purpose: 'speed',
            policyHash: 'sha256:aa',
            vehicle,
            observedAt: receivedAt,
            signals: { 'Vehicle.Speed': 50 },
            fieldsSent: ['Vehicle.Speed'],
            fieldsDropped: [],
          },
        ]
      : [],
  };
};
/** Commits `count` items in commits of 500. */
const commit = async (count: number, make: (i: number) => IngestItem) => {
  for (let i = 0; i < count; i += 500)
    await store.commitIngest(Array.from({ length: Math.min(500, count - i) }, (_, k) => make(i + k)));
};

await commit(VIN_INDEX_EVERY / 2, () => itemOf(VIN2, T0 - 100 * DAY));
await commit(VIN_INDEX_EVERY / 2, () => itemOf(VIN2, T0));
await commit(TAIL, (i) => itemOf(VIN1, T0, i === TAIL - 1 ? 'tail-001' : 'p-001'));
const tail = (await store.dueOutboxHeads(T0 + 1, 10)).filter((r) => r.pseudonym === 'tail-001');
await store.settleOutbox(tail.map((row) => delivered(row, T0 + 1)));
const removed = await store.applyRetention(T0, { rawRecordsDays: 90, routePointsDays: 90, accountDataDays: 90 });
process.stdout.write(`ready ${removed.records}\n`);

const actor = { source: 'owner-app', apiKey: 'k1', owner: 'o1' };
const commands: Record<string, () => Promise<unknown>> = {
  pseudonyms: () => store.pseudonymsOfVin(VIN1),
  revoke: async () =>
    (
      await store.revokeConsentLogged({
        vin: VIN1,
        oem: 'acme',
        purpose: 'speed',
        atMs: T0,
        pseudonym: 'p-001',
        actor,
      })
    ).blockedPending,
  erase: () => store.eraseVehicle(VIN1),
  commit: () => store.commitIngest([itemOf(VIN2, T0)]),
  exit: async () => {
    await store.close();
    process.exit(0);
  },
};
for await (const line of createInterface({ input: process.stdin })) {
  const answer = await commands[line]!();
  process.stdout.write(`${JSON.stringify(answer ?? null)}\n`);
}
