/**
 * Each vehicle's head of queue found by reading pending outbox rows in id order, with no index
 * keyed by vehicle (SQLite: ./sqlite.ts). An index over pending rows by (OEM, pseudonym) made the
 * writer dirty one random B-tree page per car per commit, the largest share of its WAL bytes on a
 * store with a backlog; the id-ordered index over pending rows exists anyway (the Kafka relay
 * reads it) and only ever grows at its right edge.
 *
 * Reading in id order, the first pending row of a vehicle met is its head: no earlier row of that
 * vehicle is pending. A head that is not due (waiting on a retry, or leased) still holds back
 * every row behind it, so the vehicle is skipped whole. Behind a due head, the vehicle's next
 * rows met form its chain, consecutive by construction (every pending row of the vehicle passes
 * by in order), ending before a leased row or at `perVehicle` rows.
 *
 * Memory is bounded by the vehicles met, never by the rows: rows are read a window at a time (the
 * first small, as the heads of a queue that is due are its first rows; then growing) and only
 * their (id, vehicle, due times) are looked at. The read stops once `limit` heads are found and
 * their chains had `limit` × `perVehicle` × 4 more rows (at least one window) to fill: a chain cut
 * there is a prefix of the vehicle's rows, the rest comes with the next read. Else it stops at the
 * end of the pending rows: a due vehicle is never left out behind rows that are not due.
 */

/** Rows of the first window, and of the largest. */
export const HEADS_WINDOW = { first: 128, max: 4_096 } as const;

/** A pending row as the search reads it: [id, vehicle (OEM and pseudonym), next_attempt_at, lease_until]. */
export type PendingKey = readonly [id: number, vehicle: string, nextAttemptAt: number, leaseUntil: number];

export interface DueChain {
  readonly nextAttemptAt: number;
  /** The head first, then the rows behind it, in id order. */
  readonly ids: number[];
}

/**
 * The due chains of up to `limit` vehicles, heads in lease order (soonest due first, then id);
 * `window(afterId, n)` MUST return the next `n` pending rows with id > afterId, in id order, all
 * from one snapshot of the outbox (a read transaction, or the write transaction that leases).
 */
export function dueChains(
  window: (afterId: number, n: number) => readonly PendingKey[],
  now: number,
  limit: number,
  perVehicle: number,
): DueChain[] {
  const chains: DueChain[] = [];
  if (limit <= 0) return chains;
  const per = Math.max(1, perVehicle);
  /** Every vehicle met: its chain while it still takes rows, else null (held back, or done). */
  const met = new Map<string, DueChain | null>();
  let filling = 0;
  let after = 0;
  let size: number = HEADS_WINDOW.first;
  /** Once `limit` heads are found: the rows still to read for their chains. */
  let followFor = Infinity;
  for (;;) {
    const rows = window(after, size);
    for (const [id, vehicle, next, lease] of rows) {
      const chain = met.get(vehicle);
      if (chain === undefined) {
        const due = chains.length < limit && next <= now && lease <= now;
        const c = due ? { nextAttemptAt: next, ids: [id] } : null;
        met.set(vehicle, per > 1 ? c : null);
        if (c) chains.push(c);
        if (c && per > 1) filling += 1;
        if (chains.length === limit && followFor === Infinity) {
          if (filling === 0) return ordered(chains);
          followFor = Math.max(HEADS_WINDOW.max, limit * per * 4);
        }
      } else if (chain !== null) {
        // Leased by someone else: nothing behind it may go before it, so the chain ends here.
        if (lease <= now) chain.ids.push(id);
        if (lease > now || chain.ids.length === per) {
          met.set(vehicle, null);
          filling -= 1;
          if (filling === 0 && chains.length === limit) return ordered(chains);
        }
      }
      if (--followFor <= 0) return ordered(chains);
    }
    if (rows.length < size) return ordered(chains);
    after = rows[rows.length - 1]![0];
    size = Math.min(size * 2, HEADS_WINDOW.max);
  }
}

const ordered = (chains: DueChain[]): DueChain[] =>
  chains.sort((a, b) => a.nextAttemptAt - b.nextAttemptAt || a.ids[0]! - b.ids[0]!);
