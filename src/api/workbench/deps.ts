/**
 * What the workbench routes (reports, incidents, access log) need, on the regulator and admin
 * surfaces alike, and the one mapping of their typed errors to HTTP answers.
 */
import type { FastifyReply } from 'fastify';
import type { Config } from '../../config/schema.js';
import type { Store, RemovedCounts } from '../../store/index.js';
import type { AuditLog } from '../../audit/index.js';
import { isShekaraError } from '../../errors.js';

export interface WorkbenchDeps {
  readonly store: Store;
  readonly config: Readonly<Config>;
  readonly audit: AuditLog;
  readonly now: () => number;
  /** The gateway's last retention sweep (for the inventory), if one ran. */
  readonly lastSweep?: () => { readonly at: number; readonly removed: RemovedCounts } | null;
}

const STATUS: Partial<Record<string, number>> = {
  SHK_BAD_REQUEST: 400,
  SHK_NOT_FOUND: 404,
  SHK_CONFLICT: 409,
  SHK_AUTH_FORBIDDEN: 403,
};

/** Answers a typed client error with its status and code; anything else is rethrown (500, logged). */
export function sendError(reply: FastifyReply, err: unknown): FastifyReply {
  const status = isShekaraError(err) ? STATUS[err.code] : undefined;
  if (!status || !isShekaraError(err)) throw err;
  return reply.code(status).send({ code: err.code, message: err.message });
}
