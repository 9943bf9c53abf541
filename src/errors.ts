/**
 * Typed errors with stable codes. Callers branch on `code` (and `retriable`), never on
 * message text. Every code is listed in docs/errors.md with its HTTP status.
 *
 * Each code carries the HTTP status it is answered with (as fastify's
 * `createError(code, message, status)`), so a route throws and the one error handler in
 * src/api/http.ts answers. `status: null` marks a code that is never an HTTP answer (start-up,
 * CLI, verifier, egress outcomes): if one reaches a route it is answered as SHK_INTERNAL.
 */
const REGISTRY = {
  // config
  SHK_CONFIG_INVALID: { status: null, category: 'config' },
  SHK_CONFIG_FILE: { status: null, category: 'config' },
  SHK_PORT_IN_USE: { status: null },
  SHK_UNSAFE_PERMISSIONS: { status: null },
  SHK_KEYS_MISMATCH: { status: null },
  // ingest
  SHK_INGEST_AUTH: { status: 401 },
  SHK_INGEST_ACL: { status: 403 },
  SHK_INGEST_LIMIT: { status: 413 },
  SHK_INGEST_DECODE: { status: 422 },
  SHK_INGEST_BACKPRESSURE: { status: 503 },
  SHK_INGEST_STORE: { status: 503 },
  // store
  SHK_STORE_VEHICLE_EXISTS: { status: 409 },
  // operator admin (API and CLI)
  SHK_ADMIN_CONFLICT: { status: 409 },
  SHK_ADMIN_READ_ONLY: { status: 409 },
  SHK_STORE_UNAVAILABLE: { status: null },
  SHK_STORE_NEWER: { status: null },
  SHK_BROKER_UNAVAILABLE: { status: null },
  // policy
  SHK_POLICY_INVALID: { status: 400, category: 'policy' },
  SHK_POLICY_UNKNOWN_TRANSFORM: { status: 400, category: 'policy' },
  SHK_POLICY_UNSAFE: { status: 400, category: 'policy' },
  SHK_POLICY_INPUT: { status: null, category: 'policy' },
  // http
  SHK_NOT_FOUND: { status: 404 },
  SHK_BAD_REQUEST: { status: 400 },
  SHK_INTERNAL: { status: 500 },
  SHK_CONFLICT: { status: 409 },
  SHK_RATE_LIMITED: { status: 429 },
  // downlink commands
  SHK_COMMAND_BLOCKED: { status: 403 },
  // egress
  SHK_EGRESS_DEST_COUNTRY: { status: 403 },
  SHK_EGRESS_DEST_UNRESOLVED: { status: null },
  SHK_EGRESS_CONSENT_REVOKED: { status: null },
  SHK_EGRESS_SATURATED: { status: null },
  // Stored, but egress could not start the OEM's Kafka topics/consumer: retried at SIGHUP or restart.
  SHK_EGRESS_KAFKA: { status: 503 },
  SHK_EGRESS_SIGNING_KEY: { status: 409 },
  // A second delivering process on one SQLite file: it would send the first one's rows again.
  SHK_EGRESS_DELIVERING_ELSEWHERE: { status: null },
  // audit
  SHK_AUDIT_PROOF: { status: null },
  SHK_AUDIT_SIGNATURE: { status: null },
  SHK_AUDIT_CHECKPOINT: { status: null },
  SHK_AUDIT_EXPORT: { status: null },
  // The gateway's own log does not match its stored leaves or last checkpoint: signing stopped.
  SHK_AUDIT_SELF_CHECK: { status: null },
  // api (regulator, admin, OEM and owner surfaces)
  SHK_AUTH_REQUIRED: { status: 401 },
  SHK_AUTH_FORBIDDEN: { status: 403 },
  // owner rights
  SHK_OBJECTION_RESOLVED: { status: 409 },
} as const satisfies Record<string, { readonly status: number | null; readonly category?: ErrorCategory }>;

export type ErrorCode = keyof typeof REGISTRY;

/**
 * Families a caller branches on as a whole, named in the registry rather than read off the code's
 * spelling: a config that cannot be used, a policy that does not compile or check (the CLI exits 2
 * on both; a policy upload answers every problem of one).
 */
export type ErrorCategory = 'config' | 'policy';

/** Every code, as `ErrorCodes.SHK_X === 'SHK_X'`. */
export const ErrorCodes = Object.freeze(
  Object.fromEntries(Object.keys(REGISTRY).map((c) => [c, c])) as { readonly [C in ErrorCode]: C },
);

/** The family a code belongs to, if any. */
export const categoryOf = (code: ErrorCode): ErrorCategory | undefined =>
  (REGISTRY[code] as { readonly category?: ErrorCategory }).category;

/** The HTTP status a code is answered with, or null when it is never an HTTP answer. */
export const statusOf = (code: ErrorCode): number | null => REGISTRY[code].status;

export interface ShekaraErrorOptions {
  retriable?: boolean;
  cause?: unknown;
  details?: Record<string, unknown>;
  /**
   * Another status than the code's, for the few codes with more than one (docs/errors.md names
   * them): 429 for an ingest rate limit, 405 for a write to a read-only surface.
   */
  status?: number;
  /** HTTP headers the answer carries: Retry-After, WWW-Authenticate. */
  headers?: Record<string, string>;
  /** Fields the HTTP answer carries besides code and message (every policy problem, the refused command). */
  answer?: Record<string, unknown>;
}

export class ShekaraError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  /** Extra machine-readable context (key path, port, file:line…). Never personal data. */
  readonly details: Readonly<Record<string, unknown>>;
  /** The HTTP status this error is answered with; null: not an HTTP answer (SHK_INTERNAL if one reaches a route). */
  readonly status: number | null;
  readonly headers: Readonly<Record<string, string>>;
  readonly answer: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, opts: ShekaraErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ShekaraError';
    this.code = code;
    this.retriable = opts.retriable ?? false;
    this.details = Object.freeze({ ...(opts.details ?? {}) });
    this.status = opts.status ?? statusOf(code);
    this.headers = Object.freeze({ ...(opts.headers ?? {}) });
    this.answer = Object.freeze({ ...(opts.answer ?? {}) });
  }
}

export function isShekaraError(err: unknown, code?: ErrorCode): err is ShekaraError {
  return err instanceof ShekaraError && (code === undefined || err.code === code);
}

/** 400 naming the request field first: `body.oem: must be …`, `querystring.to: must be after from`. */
export const badRequest = (field: string, reason: string): ShekaraError =>
  new ShekaraError('SHK_BAD_REQUEST', `${field}: ${reason}`);

export const notFound = (message: string): ShekaraError => new ShekaraError('SHK_NOT_FOUND', message);
