/**
 * The error decides the retry. One place says which delivery failures are worth another
 * attempt, and how long to wait: exponential backoff with full jitter (so a recovering OEM
 * is not hit by every queued message at the same instant).
 */
export interface BackoffConfig {
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
}

/** Delay before attempt `attempt + 1`, given `attempt` attempts already failed (≥ 1). */
export function backoffDelay(attempt: number, cfg: BackoffConfig, random: () => number = Math.random): number {
  const ceiling = Math.min(cfg.maxBackoffMs, cfg.initialBackoffMs * 2 ** Math.min(attempt - 1, 30));
  return Math.max(1, Math.round(ceiling / 2 + (random() * ceiling) / 2));
}

/**
 * A 4xx says the OEM will never accept this body: retrying cannot help, so it goes to the
 * dead letters at once. 408, 425 and 429 are the OEM asking us to come back later.
 */
export function isRetriableStatus(status: number): boolean {
  if (status >= 500) return true;
  return status === 408 || status === 425 || status === 429;
}
