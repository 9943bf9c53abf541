/**
 * What every egress-log entry says about the record that crossed (or was stopped), whichever
 * path it took: a push attempt (worker.ts) or a pull from the OEM's feed (api/oem/feed.ts).
 */
import type { EgressLogEntry, OutboxRow } from '../store/index.js';

type RecordFactKey =
  'recordId' | 'deliveryId' | 'pseudonym' | 'purpose' | 'policyHash' | 'fieldsSent' | 'fieldsDropped';

/**
 * The outbox row's facts, copied as they are. Spread into an entry where these fields stand:
 * the keys come in the entry's order (recordId … fieldsDropped), so an entry built with it
 * serializes exactly as one written out field by field.
 */
export const recordFacts = (row: Pick<OutboxRow, RecordFactKey>): Pick<EgressLogEntry, RecordFactKey> => ({
  recordId: row.recordId,
  deliveryId: row.deliveryId,
  pseudonym: row.pseudonym,
  purpose: row.purpose,
  policyHash: row.policyHash,
  fieldsSent: row.fieldsSent,
  fieldsDropped: row.fieldsDropped,
});
