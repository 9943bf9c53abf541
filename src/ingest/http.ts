/**
 * HTTPS ingest: `POST /v1/vehicles/{vin}/telemetry` with HTTP Basic auth (username = VIN,
 * password = the vehicle's secret), the same JSON payload as MQTT.
 *
 * Durability: 202 is sent only after intake.accept resolved, i.e. the record is committed to
 * the local store. A payload that does not decode is stored in quarantine and answered 422.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { LimitsConfig } from '../config/schema.js';
import type { VehicleRow } from '../store/index.js';
import { vehicleSecretMatches } from './credentials.js';
import type { Intake } from './intake.js';
import type { RateLimiter } from './rate-limit.js';
import { isShekaraError } from '../errors.js';

export interface HttpIngestDeps {
  readonly lookupVehicle: (vin: string) => Promise<VehicleRow | undefined>;
  readonly intake: Intake;
  readonly rate: RateLimiter;
}

export function registerHttpIngest(app: FastifyInstance, limits: LimitsConfig, deps: HttpIngestDeps): void {
  const { intake } = deps;
  const fail = (reply: FastifyReply, status: number, code: string, reason: string, message: string) => {
    intake.reject(reason, 'https');
    reply.log.warn({ reason }, 'https ingest: refused');
    return reply.code(status).send({ code, message });
  };

  app.register(async (scope) => {
    // Keep the body as bytes: the raw payload is stored as received, and a malformed one is
    // quarantined rather than bounced by a parser before we see it.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: limits.maxPacketBytes }, (_req, body, done) =>
      done(null, body),
    );

    scope.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
      if (err.statusCode === 413) {
        return fail(
          reply,
          413,
          'SHK_INGEST_LIMIT',
          'packet-too-large',
          `body exceeds limits.maxPacketBytes (${limits.maxPacketBytes} bytes)`,
        );
      }
      throw err;
    });

    scope.post<{ Params: { vin: string } }>('/v1/vehicles/:vin/telemetry', async (req, reply) => {
      const creds = parseBasicAuth(req.headers.authorization);
      if (!creds) {
        reply.header('www-authenticate', 'Basic realm="shekara-vehicles"');
        return fail(
          reply,
          401,
          'SHK_INGEST_AUTH',
          'missing-credentials',
          'HTTP Basic credentials required: username = VIN, password = vehicle secret',
        );
      }
      const vehicle = await deps.lookupVehicle(creds.user);
      if (!vehicleSecretMatches(vehicle, creds.password)) {
        reply.header('www-authenticate', 'Basic realm="shekara-vehicles"');
        return fail(reply, 401, 'SHK_INGEST_AUTH', 'bad-credentials', 'unknown vehicle or wrong secret');
      }
      if (req.params.vin !== vehicle.vin) {
        return fail(reply, 403, 'SHK_INGEST_ACL', 'publish-topic-denied', 'a vehicle may only send its own telemetry');
      }
      if (!deps.rate.take(vehicle.vin)) {
        reply.header('retry-after', '1');
        return fail(
          reply,
          429,
          'SHK_INGEST_LIMIT',
          'rate-limit-exceeded',
          `more than ${limits.messagesPerSecond} messages per second`,
        );
      }
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      try {
        const result = await intake.accept({ vin: vehicle.vin, oem: vehicle.oem }, 'https', body);
        if (result.quarantined) {
          return reply.code(422).send({
            code: 'SHK_INGEST_DECODE',
            message: result.reason,
            recordId: result.recordId,
            stored: 'quarantine',
          });
        }
        return reply.code(202).send({ recordId: result.recordId, stored: 'record', projections: result.projections });
      } catch (err) {
        if (isShekaraError(err, 'SHK_INGEST_BACKPRESSURE') || isShekaraError(err, 'SHK_INGEST_STORE')) {
          reply.header('retry-after', '1');
          // A store error's text may quote the row it failed on: the body gets a fixed sentence.
          const message =
            err.code === 'SHK_INGEST_BACKPRESSURE'
              ? 'the gateway is busy; try again shortly'
              : 'the local store could not commit; try again shortly';
          if (err.code === 'SHK_INGEST_STORE') reply.log.error({ err }, 'https ingest: could not store a record');
          return reply.code(503).send({ code: err.code, message });
        }
        throw err;
      }
    });
  });
}

function parseBasicAuth(header: string | undefined): { user: string; password: string } | undefined {
  if (!header?.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
