/**
 * The delivery outcome the records-by-vin process scripts settle (records-by-vin-process.ts,
 * records-by-vin-renumber-process.ts): the row delivered at `at`, so that its pseudonym is in the
 * egress log for the owner's lookup.
 */
import type { EgressSettlement, OutboxRow } from '../../src/store/types.js';
import { recordFacts } from '../../src/egress/record-facts.js';

export const delivered = (row: OutboxRow, at: number): EgressSettlement => ({
  kind: 'delivered',
  outboxId: row.id,
  entry: {
    at,
    oem: row.oem,
    destination: 'oem.example:443',
    destinationIp: '203.0.113.7',
    destinationCountry: 'DE',
    ...recordFacts(row),
    outcome: 'delivered',
    attempt: 1,
    httpStatus: 200,
    error: null,
  },
});
