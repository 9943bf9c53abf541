/**
 * The pull feed's contract, shared by both stores (src/store/oem-feed/{sqlite,pg}.ts): the feed
 * of OEMs with delivery: pull, and each OEM's cursors. The composed `Store`
 * (../types.ts) extends it.
 */
import type { OutboxRow } from '../types.js';

/** A row of an OEM's pull feed: a parked outbox row, served or not, not yet acknowledged. */
export interface FeedItem extends OutboxRow {
  /** Its position in the feed (the cursor after it). */
  readonly feedSeq: number;
  /** 'pull': never served; 'delivered': served (and logged) but not yet acknowledged. */
  readonly status: 'pull' | 'delivered';
}

/** The pull feed of OEMs with delivery: pull (./sqlite.ts, ./pg.ts). */
export interface OemFeedStore {
  /** Everything at or below `acked` is acknowledged; `served` is the highest position ever handed out. */
  feedPosition(oem: string): Promise<{ readonly acked: number; readonly served: number }>;
  /** Acknowledges the feed up to `upTo`; the position never moves back. */
  ackFeed(oem: string, upTo: number): Promise<void>;
  /** Raises `served` to `upTo` (never lowers it). */
  markFeedServed(oem: string, upTo: number): Promise<void>;
  /** The OEM's parked or served rows after `afterSeq`, in feed order, at most `limit`. */
  pullFeed(oem: string, afterSeq: number, limit: number): Promise<FeedItem[]>;
}
