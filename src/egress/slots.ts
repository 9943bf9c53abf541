/**
 * A bound on the POSTs one OEM has on the wire at once (`oems[].batch.maxInFlight`). Chains of
 * many vehicles become due together; without a bound each would open or take a keep-alive
 * connection of its own, and a burst of them meets an OEM closing idle sockets under it
 * (undici `UND_ERR_SOCKET`, every item of the batch sent again). Past the bound a POST waits,
 * first come first served, before anything is signed or sent; its request timeout starts when
 * it gets its slot, so waiting is never taken for the OEM's slowness (nor counted by the breaker).
 */

/**
 * POSTs to one OEM on the wire at once unless its `batch.maxInFlight` says otherwise (OEMs
 * registered through the API have this one). Half of `egress.concurrency`'s default: a burst of
 * 64 chains each POSTing at once over the keep-alive pool is what met sockets the OEM was closing
 * (UND_ERR_SOCKET); with that default a POST waits for its slot at most about one request
 * timeout, so wait and send stay within the outbox lease (egress.leaseMs, at least 3 × requestTimeoutMs).
 * Here, not in the config schema that defaults to it: the egress thread delivers with it and
 * must not load the schema's builder (@sinclair/typebox, 200 modules) to read one number.
 */
export const OEM_POSTS_IN_FLIGHT = 32;

/** Where the two counts go (the `shekara.egress.posts.*` metrics), as changes of ±1. */
export interface SlotCounters {
  inFlight(delta: number): void;
  waiting(delta: number): void;
}

export interface Slots {
  /** Runs `send` once a slot is free; the slot is given back (to the longest waiter) when it settles. */
  run<T>(send: () => Promise<T>): Promise<T>;
  readonly inFlight: number;
  readonly waiting: number;
}

export function createSlots(max: number, counters?: SlotCounters): Slots {
  let busy = 0;
  const queue: (() => void)[] = [];
  return {
    async run(send) {
      if (busy < max) busy += 1;
      else {
        counters?.waiting(1);
        // Resolved by a finishing POST that hands its slot on: `busy` stays as it is.
        await new Promise<void>((resolve) => queue.push(resolve));
        counters?.waiting(-1);
      }
      counters?.inFlight(1);
      try {
        return await send();
      } finally {
        counters?.inFlight(-1);
        const next = queue.shift();
        if (next) next();
        else busy -= 1;
      }
    },
    get inFlight() {
      return busy;
    },
    get waiting() {
      return queue.length;
    },
  };
}
