/**
 * What Shekara adds around OpenTelemetry's exporters. They report a failed export to a
 * diagnostic logger that is silent unless registered globally: here each exporter's failures go
 * to our log instead, at most once a minute per exporter (a collector that is down must be
 * visible, and must not flood the log). And their last flush at close is bounded.
 */
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { Logger } from '../log.js';

const WARN_EVERY_MS = 60_000;

type ExportFn = (items: never, done: (r: ExportResult) => void) => void;

/** Wraps `exporter.export` in place (every other method stays the exporter's own) and returns it. */
export function logExportFailures<E extends { export: ExportFn }>(
  exporter: E,
  what: 'trace' | 'metric',
  url: string,
  log: Logger,
): E {
  let warnedAt = -Infinity;
  const original = exporter.export.bind(exporter);
  const wrapped = (items: never, done: (r: ExportResult) => void): void => {
    original(items, (result) => {
      if (result.code !== ExportResultCode.SUCCESS && Date.now() - warnedAt >= WARN_EVERY_MS) {
        warnedAt = Date.now();
        log.warn({ url, reason: result.error?.message }, `telemetry: ${what} export failed; that batch is dropped`);
      }
      done(result);
    });
  };
  exporter.export = wrapped as E['export'];
  return exporter;
}

/**
 * A last flush at close waits at most this long: a collector that is down (the exporter retries
 * with backoff) must not hold up a shutdown that SIGTERM bounds. What is not out by then is lost.
 */
export const CLOSE_TIMEOUT_MS = 2_000;

export function bounded(p: Promise<void>): Promise<void> {
  return Promise.race([p.catch(() => undefined), new Promise<void>((r) => setTimeout(r, CLOSE_TIMEOUT_MS).unref())]);
}
