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
import { refusalFloor, vehicleSecretMatches } from './credentials.js';
import type { Intake } from './intake.js';
import type { RateLimiter } from './rate-limit.js';
import { isShekaraError, ShekaraError } from '../errors.js';
import { createLogThrottle } from '../log-throttle.js';

export interface HttpIngestDeps {
  readonly lookupVehicle: (vin: string) => Promise<VehicleRow | undefined>;
  readonly intake: Intake;
  readonly rate: RateLimiter;
}

export function registerHttpIngest(app: FastifyInstance, limits: LimitsConfig, deps: HttpIngestDeps): void {
  const { intake } = deps;
  const refusals = createLogThrottle(app.log.child({ module: 'https-ingest' }));
  /** Counts and logs a refusal by its reason, then throws it for the HTTP error handler to answer. */
  const fail = (_reply: FastifyReply, reason: string, err: ShekaraError): never => {
    intake.reject(reason, 'https');
    // Counted per refusal (metrics); logged at most once per interval per reason (log-throttle.ts).
    refusals.note(reason, { reason }, 'https ingest: refused');
    throw err;
  };
  const basic = { 'www-authenticate': 'Basic realm="shekara-vehicles"' };

  app.register(async (scope) => {
    // Keep the body as bytes: the raw payload is stored as received, and a malformed one is
    // quarantined rather than bounced by a parser before we see it.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: limits.maxPacketBytes }, (_req, body, done) =>
      done(null, body),
    );

    // Fastify refuses an oversized body before the route runs: counted here, answered by the
    // gateway's error handler (src/api/http.ts), to which this one passes every error on.
    scope.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
      if (err.statusCode === 413) {
        fail(
          reply,
          'packet-too-large',
          new ShekaraError('SHK_INGEST_LIMIT', `body exceeds limits.maxPacketBytes (${limits.maxPacketBytes} bytes)`),
        );
      }
      throw err;
    });

    scope.post<{ Params: { vin: string } }>('/v1/vehicles/:vin/telemetry', async (req, reply) => {
      const creds = parseBasicAuth(req.headers.authorization);
      if (!creds) {
        const message = 'HTTP Basic credentials required: username = VIN, password = vehicle secret';
        return fail(reply, 'missing-credentials', new ShekaraError('SHK_INGEST_AUTH', message, { headers: basic }));
      }
      const floor = refusalFloor(limits.authRefusalFloorMs); // before the look-up (credentials.ts)
      const vehicle = await deps.lookupVehicle(creds.user).catch((err: unknown) => {
        floor.cancel();
        throw err;
      });
      if (!vehicleSecretMatches(vehicle, creds.password)) {
        await floor.reached; // no answer before the floor: slows guessing (credentials.ts)
        const message = 'unknown vehicle or wrong secret';
        return fail(reply, 'bad-credentials', new ShekaraError('SHK_INGEST_AUTH', message, { headers: basic }));
      }
      floor.cancel();
      if (req.params.vin !== vehicle.vin) {
        const message = 'a vehicle may only send its own telemetry';
        return fail(reply, 'publish-topic-denied', new ShekaraError('SHK_INGEST_ACL', message));
      }
      if (!deps.rate.take(vehicle.vin)) {
        const message = `more than ${limits.messagesPerSecond} messages per second`;
        const opts = { status: 429, retriable: true, headers: { 'retry-after': '1' } };
        return fail(reply, 'rate-limit-exceeded', new ShekaraError('SHK_INGEST_LIMIT', message, opts));
      }
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      let result: Awaited<ReturnType<Intake['accept']>>;
      try {
        result = await intake.accept({ vin: vehicle.vin, oem: vehicle.oem }, 'https', body);
      } catch (err) {
        if (isShekaraError(err, 'SHK_INGEST_BACKPRESSURE') || isShekaraError(err, 'SHK_INGEST_STORE')) {
          // A store error's text may quote the row it failed on: the body gets a fixed sentence.
          const message =
            err.code === 'SHK_INGEST_BACKPRESSURE'
              ? 'the gateway is busy; try again shortly'
              : 'the local store could not commit; try again shortly';
          if (err.code === 'SHK_INGEST_STORE') reply.log.error({ err }, 'https ingest: could not store a record');
          // Nothing was kept: the car retries, after a second rather than the default five.
          throw new ShekaraError(err.code, message, { retriable: true, headers: { 'retry-after': '1' } });
        }
        throw err;
      }
      if (result.quarantined) {
        throw new ShekaraError('SHK_INGEST_DECODE', result.reason, {
          answer: { recordId: result.recordId, stored: 'quarantine' },
        });
      }
      return reply.code(202).send({ recordId: result.recordId, stored: 'record', projections: result.projections });
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
