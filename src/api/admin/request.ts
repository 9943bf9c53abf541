/**
 * What admin routes read from a request besides their schema'd params and body. Errors are not
 * here: admin operations (src/admin) throw typed errors, answered by src/api/http.ts.
 */
import type { FastifyRequest } from 'fastify';

/** Who made a change, for the policy history and the log. */
export const actorOf = (req: FastifyRequest): string => `admin-api:${req.apiKey!.id}`;

/** An action route's body is optional: no body reads as `{}` (its schema still refuses unknown fields). */
export const optionalBody = async (req: FastifyRequest): Promise<void> => {
  if (req.body === undefined || req.body === null) req.body = {};
};
