/**
 * The pull feed of OEMs that cannot receive webhooks (delivery: pull), as on SQLite
 * (./sqlite.ts; the contract: ./types.ts). The egress worker parks such an OEM's outbox rows
 * (status 'pull'); parking (../outbox/pg.ts `applyOutcomes`, inside the settling transaction)
 * gives each row the next feed position, one sequence for all OEMs, under the 'oem-feed' lock,
 * so positions grow in commit order whichever instance parks: a cursor never skips a row that
 * commits later.
 * `oem_feed_cursors` keeps, per OEM, the acknowledged and the served position; both only rise
 * (an upsert with GREATEST, atomic when two instances write one OEM's cursor at once).
 */
import type { PgMigration } from '../pg/migrate.js';
import type { Db } from '../pg/db.js';
import { OUTBOX_COLUMNS, toOutbox, type OutboxDbRow } from '../outbox/rows.js';
import { FEED_START, toFeedItem, type FeedDbColumns } from './rows.js';
import type { OemFeedStore } from './types.js';

export const OEM_FEED_MIGRATIONS: PgMigration[] = [
  {
    id: '0020-oem-pull-feed',
    sql: `
  ALTER TABLE egress_outbox ADD COLUMN feed_seq BIGINT;
  CREATE UNIQUE INDEX egress_outbox_feed ON egress_outbox (feed_seq) WHERE feed_seq IS NOT NULL;
  CREATE INDEX egress_outbox_oem_feed ON egress_outbox (oem, feed_seq) WHERE feed_seq IS NOT NULL;
  CREATE TABLE oem_feed_cursors (
    oem        TEXT PRIMARY KEY,
    acked_seq  BIGINT NOT NULL DEFAULT 0,
    served_seq BIGINT NOT NULL DEFAULT 0
  );`,
  },
];

export function pgOemFeed(db: Db): OemFeedStore {
  return {
    async feedPosition(oem) {
      const [r] = await db.query<{ acked: number; served: number }>(
        `SELECT acked_seq AS acked, served_seq AS served FROM oem_feed_cursors WHERE oem = $1`,
        [oem],
      );
      return r ?? { ...FEED_START };
    },
    async ackFeed(oem, upTo) {
      await db.query(
        `INSERT INTO oem_feed_cursors (oem, acked_seq) VALUES ($1, $2)
        ON CONFLICT (oem) DO UPDATE SET acked_seq = GREATEST(oem_feed_cursors.acked_seq, EXCLUDED.acked_seq)`,
        [oem, upTo],
      );
    },
    async markFeedServed(oem, upTo) {
      await db.query(
        `INSERT INTO oem_feed_cursors (oem, served_seq) VALUES ($1, $2)
        ON CONFLICT (oem) DO UPDATE SET served_seq = GREATEST(oem_feed_cursors.served_seq, EXCLUDED.served_seq)`,
        [oem, upTo],
      );
    },
    async pullFeed(oem, afterSeq, limit) {
      return (
        await db.query<OutboxDbRow & FeedDbColumns>(
          `SELECT ${OUTBOX_COLUMNS}, feed_seq, status FROM egress_outbox
        WHERE oem = $1 AND feed_seq > $2 AND status IN ('pull', 'delivered') ORDER BY feed_seq LIMIT $3`,
          [oem, afterSeq, limit],
        )
      ).map((r) => toFeedItem(toOutbox(r), r));
    },
  };
}
