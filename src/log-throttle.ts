/**
 * Expected, bounded conditions (a car over its rate, a refused CONNECT, backpressure withholding
 * a PUBACK) are counted in metrics per occurrence and logged in aggregate: the first occurrence
 * of a kind at once, then at most one line per interval with how many happened since, never one
 * line (let alone a stack) per message. Under a flood the log stays readable and small.
 */
/** Any pino-shaped logger (the gateway's, or fastify's view of it). */
interface WarnLog {
  warn(obj: object, msg: string): void;
}

export interface LogThrottle {
  /** Counts one occurrence of `kind`; logs it at warn at most once per interval, with the count. */
  note(kind: string, fields: Record<string, unknown>, msg: string): void;
}

export function createLogThrottle(log: WarnLog, intervalMs = 10_000, now: () => number = Date.now): LogThrottle {
  const kinds = new Map<string, { until: number; suppressed: number }>();
  return {
    note(kind, fields, msg) {
      const t = now();
      const k = kinds.get(kind);
      if (k && t < k.until) {
        k.suppressed += 1;
        return;
      }
      // `count`: occurrences this line stands for (this one and those held back since the last line).
      log.warn({ ...fields, count: (k?.suppressed ?? 0) + 1, intervalMs }, msg);
      kinds.set(kind, { until: t + intervalMs, suppressed: 0 });
      if (kinds.size > 1_000) kinds.clear(); // kinds are reasons, a handful; never unbounded
    },
  };
}
