/**
 * The writer side of records-by-vin.test.ts, in a process of its own so the test can kill it with
 * SIGKILL: it commits `count` records of two vehicles (each with a route point, account data and
 * one projection) in commits of 500 on a store file, settles the last projection of each
 * vehicle as delivered (an egress-log entry under the pseudonym `tail-…`), prints `committed` and
 * waits to be killed. With `count` 1,000 past VIN_INDEX_EVERY, the last records are committed but
 * their VINs not yet indexed.
 * Usage: node --import tsx test/store/records-by-vin-process.ts FILE COUNT
 */
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { IngestItem } from '../../src/store/types.js';
import { delivered } from './records-by-vin-delivered.js';

const [file, countArg] = process.argv.slice(2) as [string, string];
const count = Number(countArg);
const T0 = Date.UTC(2030, 0, 15, 12);
const vinOf = (i: number) => `LSHKZ00000000000${(i % 2) + 1}`;

const store = await openSqliteStore(file);
const itemOf = (i: number): IngestItem => {
  const vin = vinOf(i);
  const id = `r${String(i).padStart(6, '0')}`;
  const last = i >= count - 2;
  return {
    kind: 'record',
    record: {
      id,
      vin,
      oem: 'acme',
      channel: 'mqtt',
      receivedAt: T0 + i,
      observedAt: T0 + i,
      signals: {
        'Vehicle.Speed': 50,
        'Vehicle.CurrentLocation.Latitude': 43.2,
        'Vehicle.CurrentLocation.Longitude': 71.4,
      },
      account: { 'Account.Owner.Name': `Owner ${vin}` },
      unknownKeys: [],
    },
    raw: Buffer.from(JSON.stringify({ id })),
    projections: [
      {
        recordId: id,
        deliveryId: `d_${id}`,
        oem: 'acme',
        purpose: 'speed',
        policyHash: 'sha256:aa',
        vehicle: `${last ? 'tail' : 'p'}-${vin.slice(-3)}`,
        observedAt: T0 + i,
        signals: { 'Vehicle.Speed': 50 },
        fieldsSent: ['Vehicle.Speed'],
        fieldsDropped: [],
      },
    ],
  };
};
for (let i = 0; i < count; i += 500) {
  const items: IngestItem[] = [];
  for (let k = i; k < Math.min(count, i + 500); k++) items.push(itemOf(k));
  await store.commitIngest(items);
}
const tail = (await store.dueOutboxHeads(T0 + count, 10)).filter((r) => r.pseudonym.startsWith('tail-'));
await store.settleOutbox(tail.map((row) => delivered(row, T0 + count)));
process.stdout.write(`committed ${tail.length}\n`);
setInterval(() => undefined, 60_000);
