/**
 * The pull feed of OEMs that cannot receive webhooks (delivery: pull). The egress worker parks
 * such an OEM's outbox rows (status 'pull') instead of POSTing them; parking gives each row the
 * next feed position (`feed_seq`, one sequence for all OEMs, assigned inside the settling
 * transaction, so positions only ever grow in commit order — a cursor never skips a row that
 * commits later). `oem_feed_cursors` keeps, per OEM, the acknowledged and the served position.
 * The contract: ./types.ts.
 */
import type Database from 'better-sqlite3';
import type { Migration } from '../sqlite/migrate.js';
import type { Sync } from '../sqlite/sync.js';
import { OUTBOX_COLUMNS, toOutbox, type OutboxDbRow } from '../outbox/rows.js';
import { FEED_START, toFeedItem, type FeedDbColumns } from './rows.js';
import type { OemFeedStore } from './types.js';

export const OEM_FEED_MIGRATIONS: Migration[] = [
  {
    id: '0020-oem-pull-feed',
    sql: `
  ALTER TABLE egress_outbox ADD COLUMN feed_seq INTEGER;
  CREATE UNIQUE INDEX egress_outbox_feed ON egress_outbox (feed_seq) WHERE feed_seq IS NOT NULL;
  CREATE INDEX egress_outbox_oem_feed ON egress_outbox (oem, feed_seq) WHERE feed_seq IS NOT NULL;
  CREATE TABLE oem_feed_cursors (
    oem        TEXT PRIMARY KEY,
    acked_seq  INTEGER NOT NULL DEFAULT 0,
    served_seq INTEGER NOT NULL DEFAULT 0
  ) STRICT;`,
  },
];

/** Parks one row (inside the caller's settling transaction): it leaves the push queue and joins the feed. */
export function parkStatement(db: Database.Database): (outboxId: number) => void {
  const park = db.prepare(`UPDATE egress_outbox SET status = 'pull', lease_until = 0,
      feed_seq = (SELECT COALESCE(MAX(feed_seq), 0) + 1 FROM egress_outbox)
    WHERE id = ? AND status IN ('pending', 'published')`);
  return (id) => void park.run(id);
}

export function sqliteOemFeed(db: Database.Database): Sync<OemFeedStore> {
  const position = db.prepare(`SELECT acked_seq AS acked, served_seq AS served FROM oem_feed_cursors WHERE oem = ?`);
  const ack = db.prepare(`INSERT INTO oem_feed_cursors (oem, acked_seq) VALUES (@oem, @upTo)
    ON CONFLICT (oem) DO UPDATE SET acked_seq = MAX(acked_seq, @upTo)`);
  const served = db.prepare(`INSERT INTO oem_feed_cursors (oem, served_seq) VALUES (@oem, @upTo)
    ON CONFLICT (oem) DO UPDATE SET served_seq = MAX(served_seq, @upTo)`);
  const page = db.prepare(`SELECT ${OUTBOX_COLUMNS}, feed_seq, status FROM egress_outbox
    WHERE oem = ? AND feed_seq > ? AND status IN ('pull', 'delivered') ORDER BY feed_seq LIMIT ?`);
  return {
    feedPosition(oem) {
      return (position.get(oem) as { acked: number; served: number } | undefined) ?? { ...FEED_START };
    },
    ackFeed(oem, upTo) {
      ack.run({ oem, upTo });
    },
    markFeedServed(oem, upTo) {
      served.run({ oem, upTo });
    },
    pullFeed(oem, afterSeq, limit) {
      return (page.all(oem, afterSeq, limit) as (OutboxDbRow & FeedDbColumns)[]).map((r) => toFeedItem(toOutbox(r), r));
    },
  };
}
