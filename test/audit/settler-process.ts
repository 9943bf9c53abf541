/**
 * One settler instance for the integrator test (integrator.test.ts), in a process of its own:
 * it leases due outbox rows on a shared PostgreSQL schema, settles each as delivered (as an
 * egress worker would after the OEM's 2xx) and runs the egress log's integrator loop, until
 * nothing is left to settle or to integrate. Prints `integrated N` whenever one of its rounds
 * integrated.
 * Usage: node --import tsx test/audit/settler-process.ts URL SCHEMA
 */
import { openPostgresStore } from '../../src/store/pg/index.js';
import { startIntegrator } from '../../src/audit/integrator.js';
import { createLogger } from '../../src/log.js';
import type { EgressSettlement, OutboxRow } from '../../src/store/index.js';

const [url, schema] = process.argv.slice(2) as [string, string];
const store = await openPostgresStore({ url, schema, poolSize: 3 });
const log = createLogger('silent');
const integrator = startIntegrator(
  { intervalMs: 10 },
  {
    store: {
      integrateEgressLog: async (o) => {
        const r = await store.integrateEgressLog(o);
        if (r.integrated > 0) process.stdout.write(`integrated ${r.integrated}\n`);
        return r;
      },
    },
    log,
    now: Date.now,
  },
);
const settled = (row: OutboxRow): EgressSettlement => ({
  kind: 'delivered',
  outboxId: row.id,
  entry: {
    at: Date.now(),
    oem: row.oem,
    destination: 'oem.example:443',
    destinationIp: '203.0.113.7',
    destinationCountry: 'DE',
    recordId: row.recordId,
    pseudonym: row.pseudonym,
    purpose: row.purpose,
    policyHash: row.policyHash,
    fieldsSent: row.fieldsSent,
    fieldsDropped: row.fieldsDropped,
    outcome: 'delivered',
    attempt: row.attempts + 1,
    httpStatus: 200,
    error: null,
  },
});
// A short lease: the rows of a killed instance are due again for the others within a second.
// It stops only when nothing is left to settle (no row pending, a killed one's lease included)
// and nothing waits for integration: a killed integrator's round is the survivors' to redo.
let idle = 0;
for (;;) {
  const rows = await store.leaseDueOutbox(Date.now(), 20, 1_000);
  if (rows.length > 0) {
    idle = 0;
    await store.settleOutbox(rows.map(settled));
    continue;
  }
  idle += 1;
  // Staged first: with nothing staged, counts() (which catches the log up) integrates nothing itself.
  if (idle >= 5 && (await store.egressLogStaged()).staged === 0 && (await store.counts()).outboxPending === 0) break;
  await new Promise((r) => setTimeout(r, 50));
}
await integrator.close();
await store.close();
process.stdout.write('done\n');
