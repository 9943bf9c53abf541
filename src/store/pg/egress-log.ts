/**
 * Every row of egress_log enters through `settle` (and only there): the outbox status changes,
 * the rows and their Merkle leaves (audit.ts) are written in the caller's transaction, and only
 * for outcomes the outbox applied (a push row settled once is never logged again). A row
 * without a leaf, or a leaf without a row, cannot commit. `seq` is assigned under the
 * 'egress-log' lock, so it has no gaps and follows leaf order whichever instance settles.
 */
import { createHash } from 'node:crypto';
import type { PgMigration } from './migrate.js';
import { pgText, type Db, type Tx } from './db.js';
import type { PgOutboxWriter } from './outbox.js';
import { APPEND_ONLY_FUNCTION, appendOnlyTriggers, type PgTreeWriter } from './audit.js';
import { egressLeaf } from '../../audit/leaf.js';
import type { EgressLogEntry, EgressLogRow, EgressLogStore, EgressSettlement } from '../types.js';

export const EGRESS_LOG_MIGRATIONS: PgMigration[] = [
  {
    id: '0004-egress-log',
    sql: `
  -- Every delivery, failed attempt and dead letter. Append-only; holds no personal data.
  CREATE TABLE egress_log (
    seq            BIGINT PRIMARY KEY,
    at             BIGINT NOT NULL,
    oem            TEXT NOT NULL,
    destination    TEXT NOT NULL,
    destination_ip TEXT,
    destination_country TEXT,
    record_id      TEXT NOT NULL,
    pseudonym      TEXT NOT NULL,
    purpose        TEXT NOT NULL,
    policy_hash    TEXT NOT NULL,
    fields_sent    JSONB NOT NULL,
    fields_dropped JSONB NOT NULL,
    outcome        TEXT NOT NULL,
    attempt        INTEGER NOT NULL,
    http_status    INTEGER,
    error          TEXT
  );
  CREATE INDEX egress_log_record ON egress_log (record_id);
  ${APPEND_ONLY_FUNCTION}
  ${appendOnlyTriggers('egress_log')}`,
  },
  {
    // The trace of each attempt (docs/observability.md): telemetry metadata next to the row,
    // deliberately outside the Merkle leaf (audit/leaf.ts picks the leaf's fields by name).
    id: '0041-egress-log-trace-id',
    sql: `ALTER TABLE egress_log ADD COLUMN trace_id TEXT;`,
  },
];

/** Columns of an egress-log row as read back (toLogRow's input). */
export const LOG_COLUMNS = `e.seq, e.at, e.oem, e.destination, e.destination_ip, e.destination_country, e.record_id, e.pseudonym, e.purpose,
  e.policy_hash, e.fields_sent, e.fields_dropped, e.outcome, e.attempt, e.http_status, e.error, e.payload_sha256, e.payload_bytes, e.trace_id`;

export interface PgEgressSettler {
  /** Status changes and egress-log rows of a batch of outcomes, inside the caller's transaction. */
  settle(t: Tx, items: readonly EgressSettlement[]): Promise<void>;
}

export function pgEgressLog(db: Db, outbox: PgOutboxWriter, tree: PgTreeWriter): EgressLogStore & PgEgressSettler {
  const append = async (t: Tx, items: readonly { outboxId: number; entry: EgressLogEntry }[]) => {
    if (items.length === 0) return;
    // The digest and length of the exact body POSTed (or that would have been): never the body.
    const bodies = new Map(
      (
        await t.query<{ id: number; body: string }>(`SELECT id, body FROM egress_outbox WHERE id = ANY($1::bigint[])`, [
          items.map((i) => i.outboxId),
        ])
      ).map((r) => [r.id, r.body]),
    );
    await tree.appendLeaves(t, 'egress', async (first) => {
      const [{ next }] = (await t.query<{ next: number }>(
        `SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM egress_log`,
      )) as [{ next: number }];
      const cols: unknown[][] = Array.from({ length: 20 }, () => []);
      const leaves = items.map(({ outboxId, entry }, i) => {
        const body = bodies.get(outboxId);
        const payloadSha256 = body === undefined ? null : createHash('sha256').update(body, 'utf8').digest('hex');
        const payloadBytes = body === undefined ? null : Buffer.byteLength(body, 'utf8');
        // PostgreSQL text cannot hold U+0000: the error is stored (and hashed) as stored.
        const e = { ...entry, error: entry.error === null ? null : pgText(entry.error) };
        const seq = next + i;
        [
          seq,
          e.at,
          e.oem,
          e.destination,
          e.destinationIp,
          e.destinationCountry,
          e.recordId,
          e.pseudonym,
          e.purpose,
          e.policyHash,
          JSON.stringify(e.fieldsSent),
          JSON.stringify(e.fieldsDropped),
          e.outcome,
          e.attempt,
          e.httpStatus,
          e.error,
          payloadSha256,
          payloadBytes,
          first + i,
          e.traceId ?? null,
        ].forEach((v, c) => cols[c]!.push(v));
        return { ref: seq, entry: egressLeaf({ ...e, seq, payloadSha256, payloadBytes }, first + i) };
      });
      await t.query(
        `INSERT INTO egress_log (seq, at, oem, destination, destination_ip, destination_country, record_id, pseudonym, purpose, policy_hash,
          fields_sent, fields_dropped, outcome, attempt, http_status, error, payload_sha256, payload_bytes, leaf_index, trace_id)
        SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
          $11::jsonb[], $12::jsonb[], $13::text[], $14::int[], $15::int[], $16::text[], $17::text[], $18::int[], $19::bigint[], $20::text[])`,
        cols,
      );
      return leaves;
    });
  };

  const settle: PgEgressSettler['settle'] = async (t, items) => {
    // Only what was applied is logged: an outcome for a row another settle already delivered
    // (or dead-lettered) leaves no second entry (outbox.ts SETTLED).
    const applied = await outbox.applyOutcomes(t, items);
    await append(
      t,
      applied.flatMap((it) =>
        it.kind === 'deferred' || it.kind === 'parked' ? [] : [{ outboxId: it.outboxId, entry: it.entry }],
      ),
    );
  };
  const one = (it: EgressSettlement) => db.tx((t) => settle(t, [it]));

  return {
    settle,
    recordDelivery: (outboxId, entry) => one({ kind: 'delivered', outboxId, entry }),
    recordFailedAttempt: (outboxId, entry, nextAttemptAt) => one({ kind: 'failed', outboxId, entry, nextAttemptAt }),
    recordDeadLetter: (outboxId, entry) => one({ kind: 'dead', outboxId, entry }),
    async listEgressLog(filter = {}) {
      const where: string[] = [];
      const args: unknown[] = [];
      if (filter.recordId) {
        args.push(filter.recordId);
        where.push(`e.record_id = $${args.length}`);
      }
      if (filter.oem) {
        args.push(filter.oem);
        where.push(`e.oem = $${args.length}`);
      }
      args.push(filter.limit ?? 1000);
      return (
        await db.query<LogDbRow>(
          `SELECT ${LOG_COLUMNS} FROM egress_log e ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY e.seq LIMIT $${args.length}`,
          args,
        )
      ).map(toLogRow);
    },
  };
}

export interface LogDbRow {
  seq: number;
  at: number;
  oem: string;
  destination: string;
  destination_ip: string | null;
  destination_country: string | null;
  record_id: string;
  pseudonym: string;
  purpose: string;
  policy_hash: string;
  fields_sent: string[];
  fields_dropped: string[];
  outcome: string;
  attempt: number;
  http_status: number | null;
  error: string | null;
  payload_sha256: string | null;
  payload_bytes: number | null;
  trace_id: string | null;
}

export function toLogRow(r: LogDbRow): EgressLogRow {
  return {
    seq: r.seq,
    at: r.at,
    oem: r.oem,
    destination: r.destination,
    destinationIp: r.destination_ip,
    destinationCountry: r.destination_country,
    recordId: r.record_id,
    pseudonym: r.pseudonym,
    purpose: r.purpose,
    policyHash: r.policy_hash,
    fieldsSent: r.fields_sent,
    fieldsDropped: r.fields_dropped,
    outcome: r.outcome as EgressLogRow['outcome'],
    attempt: r.attempt,
    httpStatus: r.http_status,
    error: r.error,
    traceId: r.trace_id ?? null,
  };
}
