/**
 * What both stores share about the pull feed: a feed row is an outbox row (each dialect maps
 * those with ../outbox/rows.ts) with its position and state, and a cursor not yet
 * written stands at 0. DDL and statements stay per dialect (sqlite.ts, pg.ts): the cursors only
 * rise, by MAX on SQLite and GREATEST on PostgreSQL.
 */
import type { OutboxRow } from '../types.js';
import type { FeedItem } from './types.js';

/** The feed's columns beside the outbox row's. */
export interface FeedDbColumns {
  feed_seq: number;
  status: 'pull' | 'delivered';
}

export const toFeedItem = (row: OutboxRow, r: FeedDbColumns): FeedItem => ({
  ...row,
  feedSeq: r.feed_seq,
  status: r.status,
});

/** An OEM that never acknowledged nor was served stands at the start. */
export const FEED_START = { acked: 0, served: 0 } as const;
