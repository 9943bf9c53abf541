/**
 * How admin errors become HTTP answers. The admin operations (src/admin) throw typed errors;
 * this maps each code to its status, and a field-level input error to `body.field: reason`.
 */
import type { FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import { isShekaraError, type ErrorCode } from '../../errors.js';

const STATUS: Partial<Record<ErrorCode, number>> = {
  SHK_BAD_REQUEST: 400,
  SHK_POLICY_INVALID: 400,
  SHK_POLICY_UNKNOWN_TRANSFORM: 400,
  SHK_POLICY_UNSAFE: 400,
  SHK_NOT_FOUND: 404,
  SHK_ADMIN_CONFLICT: 409,
  SHK_ADMIN_READ_ONLY: 409,
  SHK_STORE_VEHICLE_EXISTS: 409,
  SHK_EGRESS_SIGNING_KEY: 409,
  // Stored, but egress could not start the OEM's Kafka topics/consumer: retried at SIGHUP or restart.
  SHK_EGRESS_KAFKA: 503,
};

/** Wraps a handler: a known admin error is answered with its status and code, anything else is a 500. */
export function handler<R extends FastifyRequest>(
  fn: (req: R, reply: FastifyReply) => Promise<unknown>,
): RouteHandlerMethod {
  return (async (req: R, reply: FastifyReply) => {
    try {
      return await fn(req, reply);
    } catch (err) {
      const status = isShekaraError(err) ? STATUS[err.code] : undefined;
      if (!isShekaraError(err) || status === undefined) throw err;
      const field = err.details.field;
      const message = err.code === 'SHK_BAD_REQUEST' && typeof field === 'string' ? `body.${err.message}` : err.message;
      const problems = err.details.problems;
      if (status === 503) reply.header('retry-after', '5');
      return reply.code(status).send({ code: err.code, message, ...(Array.isArray(problems) ? { problems } : {}) });
    }
  }) as unknown as RouteHandlerMethod;
}

/** Who made a change, for the policy history and the log. */
export const actorOf = (req: FastifyRequest): string => `admin-api:${req.apiKey!.id}`;

/** An action route's body is optional: no body reads as `{}` (its schema still refuses unknown fields). */
export const optionalBody = async (req: FastifyRequest): Promise<void> => {
  if (req.body === undefined || req.body === null) req.body = {};
};
