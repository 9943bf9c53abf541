/**
 * Typed errors with stable codes. Callers branch on `code` (and `retriable`), never on
 * message text. Every code is listed in docs/errors.md.
 */
export const ErrorCodes = {
  // config
  SHK_CONFIG_INVALID: 'SHK_CONFIG_INVALID',
  SHK_CONFIG_FILE: 'SHK_CONFIG_FILE',
  SHK_PORT_IN_USE: 'SHK_PORT_IN_USE',
  // ingest
  SHK_INGEST_AUTH: 'SHK_INGEST_AUTH',
  SHK_INGEST_ACL: 'SHK_INGEST_ACL',
  SHK_INGEST_LIMIT: 'SHK_INGEST_LIMIT',
  SHK_INGEST_DECODE: 'SHK_INGEST_DECODE',
  SHK_INGEST_BACKPRESSURE: 'SHK_INGEST_BACKPRESSURE',
  SHK_INGEST_STORE: 'SHK_INGEST_STORE',
  // store
  SHK_STORE_VEHICLE_EXISTS: 'SHK_STORE_VEHICLE_EXISTS',
  // operator admin (API and CLI)
  SHK_ADMIN_CONFLICT: 'SHK_ADMIN_CONFLICT',
  SHK_ADMIN_READ_ONLY: 'SHK_ADMIN_READ_ONLY',
  SHK_STORE_UNAVAILABLE: 'SHK_STORE_UNAVAILABLE',
  // policy
  SHK_POLICY_INVALID: 'SHK_POLICY_INVALID',
  SHK_POLICY_UNKNOWN_TRANSFORM: 'SHK_POLICY_UNKNOWN_TRANSFORM',
  SHK_POLICY_UNSAFE: 'SHK_POLICY_UNSAFE',
  SHK_POLICY_INPUT: 'SHK_POLICY_INPUT',
  // http
  SHK_NOT_FOUND: 'SHK_NOT_FOUND',
  SHK_BAD_REQUEST: 'SHK_BAD_REQUEST',
  SHK_INTERNAL: 'SHK_INTERNAL',
  SHK_CONFLICT: 'SHK_CONFLICT',
  SHK_RATE_LIMITED: 'SHK_RATE_LIMITED',
  // downlink commands
  SHK_COMMAND_BLOCKED: 'SHK_COMMAND_BLOCKED',
  // egress
  SHK_EGRESS_DEST_COUNTRY: 'SHK_EGRESS_DEST_COUNTRY',
  SHK_EGRESS_DEST_UNRESOLVED: 'SHK_EGRESS_DEST_UNRESOLVED',
  SHK_EGRESS_CONSENT_REVOKED: 'SHK_EGRESS_CONSENT_REVOKED',
  SHK_EGRESS_SATURATED: 'SHK_EGRESS_SATURATED',
  SHK_EGRESS_KAFKA: 'SHK_EGRESS_KAFKA',
  SHK_EGRESS_SIGNING_KEY: 'SHK_EGRESS_SIGNING_KEY',
  // audit
  SHK_AUDIT_PROOF: 'SHK_AUDIT_PROOF',
  SHK_AUDIT_SIGNATURE: 'SHK_AUDIT_SIGNATURE',
  SHK_AUDIT_CHECKPOINT: 'SHK_AUDIT_CHECKPOINT',
  SHK_AUDIT_EXPORT: 'SHK_AUDIT_EXPORT',
  // api (regulator and, later, other roles)
  SHK_AUTH_REQUIRED: 'SHK_AUTH_REQUIRED',
  SHK_AUTH_FORBIDDEN: 'SHK_AUTH_FORBIDDEN',
  // owner rights
  SHK_OBJECTION_RESOLVED: 'SHK_OBJECTION_RESOLVED',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export class ShekaraError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  /** Extra machine-readable context (key path, port, file:line…). Never personal data. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { retriable?: boolean; cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ShekaraError';
    this.code = code;
    this.retriable = opts.retriable ?? false;
    this.details = Object.freeze({ ...(opts.details ?? {}) });
  }
}

export function isShekaraError(err: unknown, code?: ErrorCode): err is ShekaraError {
  return err instanceof ShekaraError && (code === undefined || err.code === code);
}
