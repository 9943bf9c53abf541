/**
 * Structured logs (pino). Secrets and personal data are redacted by path, so a careless
 * `log.info({ packet })` cannot leak a password or an owner's phone number.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export const REDACT_PATHS = [
  'password',
  '*.password',
  'secret',
  '*.secret',
  'secretHash',
  '*.secretHash',
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
  'account',
  '*.account',
  'masterKey',
  '*.masterKey',
  'privateKey',
  '*.privateKey',
  'signingKey',
  '*.signingKey',
  'token',
  '*.token',
  'key',
  '*.key',
  // A PostgreSQL URL may hold the database password.
  'store.url',
  '*.store.url',
  // People: the code logs a keyed vehicle reference (src/vehicle-ref.ts), never these. If a
  // careless line ever logs one by its usual name, it is censored here (second line of defence).
  'vin',
  '*.vin',
  'clientId',
  '*.clientId',
  'username',
  '*.username',
  'topic',
  '*.topic',
  'payload',
  '*.payload',
  'raw',
  '*.raw',
  'params',
  '*.params',
];

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    { level, base: { svc: 'shekara' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } },
    destination as pino.DestinationStream | undefined,
  );
}
