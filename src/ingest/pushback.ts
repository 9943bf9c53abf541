/**
 * How a car-facing channel waits out the store's push-back (SHK_INGEST_BACKPRESSURE, from the
 * committer or a saturated egress queue) for one payload. The channel withholds its answer (MQTT
 * PUBACK/PUBREC, the GB/T 32960 success answer) and the decoded record waits in the committer's
 * line until there is room (`Intake.accept`'s `retry`): decoded and evaluated once, one record
 * id, one `shekara.ingest.messages` count, however long it waits. The car's unanswered window
 * fills and it slows down.
 *
 * The wait ends when the car leaves or after `maxWaitMs` (BACKPRESSURE_MAX_WAIT_MS unless the
 * caller says; the MQTT endpoint's QoS 1/2 PUBLISHes take limits.pushbackMaxWaitSeconds, by
 * default no bound: the car leaving ends it); the caller then gets the push-back, counts it as
 * the refusal `backpressure` (logged in aggregate: it is expected and bounded) and drops the
 * connection so the car sends the payload again later.
 */
import type { PushbackRetry } from './intake.js';

export const BACKPRESSURE_RETRY_MS = 50;
export const BACKPRESSURE_MAX_WAIT_MS = 30_000;

/**
 * Wait while `connected()` holds, for at most `maxWaitMs` from now (Infinity: no bound); look
 * for room every BACKPRESSURE_RETRY_MS.
 */
export function pushbackRetry(
  connected: () => boolean,
  maxWaitMs: number = BACKPRESSURE_MAX_WAIT_MS,
  now: () => number = Date.now,
): PushbackRetry {
  const started = now();
  return {
    afterMs: BACKPRESSURE_RETRY_MS,
    again: () => connected() && now() - started < maxWaitMs,
  };
}
