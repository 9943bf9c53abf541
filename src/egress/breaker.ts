/**
 * A circuit breaker per OEM: after `failureThreshold` consecutive retriable failures the OEM is
 * left alone for `openMs` (no request at all), then one trial request decides (half-open).
 * Deferred rows are not attempts: they burn none of the row's `maxAttempts`.
 */
export interface Breaker {
  /** undefined: go ahead. A number: do not send before this time. */
  blockedUntil(now: number): number | undefined;
  success(): void;
  failure(now: number): void;
  readonly state: 'closed' | 'open' | 'half-open';
}

export function createBreaker(cfg: { failureThreshold: number; openMs: number }): Breaker {
  let failures = 0;
  let openUntil = 0;
  let trialInFlight = false;
  let state: Breaker['state'] = 'closed';
  return {
    blockedUntil(now) {
      if (state === 'closed') return undefined;
      if (state === 'open' && now >= openUntil) state = 'half-open';
      if (state === 'half-open' && !trialInFlight) {
        trialInFlight = true;
        return undefined;
      }
      return Math.max(openUntil, now + Math.min(cfg.openMs, 100));
    },
    success() {
      failures = 0;
      state = 'closed';
      trialInFlight = false;
    },
    failure(now) {
      failures += 1;
      trialInFlight = false;
      if (state === 'half-open' || failures >= cfg.failureThreshold) {
        state = 'open';
        openUntil = now + cfg.openMs;
      }
    },
    get state() {
      return state;
    },
  };
}
