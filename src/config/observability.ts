/**
 * The config sections of logging, traces and metrics (the door: ./schema.ts, which composes `ConfigSchema`).
 */
import { Type } from '@sinclair/typebox';
import { Port, strict } from './common.js';

export const LogSchema = Type.Object(
  {
    level: Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
      { default: 'info' },
    ),
  },
  { ...strict, default: {} },
);

/**
 * Traces and metrics (src/telemetry, docs/observability.md). Off by default: tracing disabled
 * starts no SDK, and metrics are served only when a reader is configured. Whatever is exported
 * is metadata about the traffic (ids, outcomes, timings), never a VIN or a payload; the
 * collector and the scraper still belong inside the country.
 */
export const TelemetrySchema = Type.Object(
  {
    /**
     * `service.name` of every span and metric. Absent: OTEL_SERVICE_NAME (or service.name in
     * OTEL_RESOURCE_ATTRIBUTES), else `shekara`. Set: it wins over the environment.
     */
    serviceName: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    tracing: Type.Object(
      {
        enabled: Type.Boolean({ default: false }),
        /**
         * OTLP traces endpoint of a collector. Absent: the standard OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
         * / OTEL_EXPORTER_OTLP_ENDPOINT, else http://localhost:4318/v1/traces.
         */
        otlpUrl: Type.Optional(Type.String({ pattern: '^https?://', minLength: 8 })),
        /**
         * Share of new traces recorded (root spans); a trace, once started, is recorded whole.
         * Absent: OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG, else every trace.
         */
        sampleRatio: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
      },
      { ...strict, default: {} },
    ),
    metrics: Type.Object(
      {
        /**
         * Prometheus scrape endpoint on its OWN listener (GET /metrics), never on the public HTTP
         * port. Deny by default: disabled, and bound to loopback when enabled.
         */
        prometheus: Type.Object(
          {
            enabled: Type.Boolean({ default: false }),
            host: Type.String({ minLength: 1, default: '127.0.0.1' }),
            port: { ...Port, default: 9464 },
          },
          { ...strict, default: {} },
        ),
        /** OTLP/HTTP (JSON) metrics endpoint of a collector; absent: no push. */
        otlpUrl: Type.Optional(Type.String({ pattern: '^https?://', minLength: 8 })),
      },
      { ...strict, default: {} },
    ),
  },
  { ...strict, default: {} },
);
