/** Token bucket per key (vehicle, OEM): `ratePerSecond` sustained, `burst` at once. */
export interface RateLimiter {
  /** Takes one token for `key`; false when the key is over its rate. */
  take(key: string, now?: number): boolean;
  /** How long until `key` has a token again (0: now), for a Retry-After. */
  retryAfterMs(key: string, now?: number): number;
  forget(key: string): void;
  /** Drops the buckets that are full again (they hold nothing a fresh bucket would not); bounds memory. */
  sweep(now?: number): void;
}

export function createRateLimiter(ratePerSecond: number, burst: number): RateLimiter {
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    take(key, now = Date.now()) {
      let b = buckets.get(key);
      if (!b) {
        b = { tokens: burst, at: now };
        buckets.set(key, b);
      }
      b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * ratePerSecond);
      b.at = now;
      if (b.tokens < 1) return false;
      b.tokens -= 1;
      return true;
    },
    retryAfterMs(key, now = Date.now()) {
      const b = buckets.get(key);
      if (!b) return 0;
      const tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * ratePerSecond);
      return tokens >= 1 ? 0 : Math.ceil(((1 - tokens) / ratePerSecond) * 1000);
    },
    forget: (key) => void buckets.delete(key),
    sweep(now = Date.now()) {
      for (const [key, b] of buckets)
        if (b.tokens + ((now - b.at) / 1000) * ratePerSecond >= burst) buckets.delete(key);
    },
  };
}
