/**
 * Body signatures the OEM can verify, in the style of signed webhooks (Stripe, Smartcar):
 *   Shekara-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(key, "<t>.<body>")>
 * The timestamp lets the OEM refuse replays older than its tolerance. The key is held in the
 * country: read from the OEM's `signingKeyFile`, or generated into the store's local secrets on
 * first start (export with `exportSigningKey`, hand it to the OEM out of band).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { SecretStore } from '../store/index.js';
import { ShekaraError } from '../errors.js';

export const SIGNATURE_HEADER = 'shekara-signature';
const MIN_KEY_BYTES = 32;

export const signingSecretName = (oem: string): string => `egress-signing-key/${oem}`;

export function signBody(key: Buffer, body: string, nowMs: number): string {
  const t = Math.floor(nowMs / 1000);
  return `t=${t},v1=${createHmac('sha256', key).update(`${t}.`).update(body).digest('hex')}`;
}

/** What an OEM runs to verify; used by tests and the stand-in sink. */
export function verifySignature(key: Buffer, body: string, header: string | undefined, nowMs: number, toleranceSeconds = 300): boolean {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? '');
  if (!m) return false;
  if (Math.abs(nowMs / 1000 - Number(m[1])) > toleranceSeconds) return false;
  const expected = createHmac('sha256', key).update(`${m[1]}.`).update(body).digest('hex');
  return timingSafeEqual(Buffer.from(expected), Buffer.from(m[2]!));
}

export async function loadSigningKey(oem: { id: string; signingKeyFile?: string }, store: Pick<SecretStore, 'getSecret' | 'putSecretIfAbsent'>): Promise<Buffer> {
  if (oem.signingKeyFile) {
    let key: Buffer;
    try {
      key = Buffer.from(readFileSync(oem.signingKeyFile, 'utf8').trim(), 'utf8');
    } catch (cause) {
      throw new ShekaraError('SHK_EGRESS_SIGNING_KEY', `OEM ${oem.id}: cannot read signingKeyFile ${oem.signingKeyFile}`, { cause });
    }
    if (key.length < MIN_KEY_BYTES) throw new ShekaraError('SHK_EGRESS_SIGNING_KEY', `OEM ${oem.id}: signingKeyFile holds fewer than ${MIN_KEY_BYTES} bytes`);
    return key;
  }
  const name = signingSecretName(oem.id);
  return await store.getSecret(name) ?? await store.putSecretIfAbsent(name, randomBytes(MIN_KEY_BYTES));
}

/** The generated key of an OEM, base64url, for the operator to hand to the OEM. */
export async function exportSigningKey(store: Pick<SecretStore, 'getSecret'>, oem: string): Promise<string | undefined> {
  return (await store.getSecret(signingSecretName(oem)))?.toString('base64url');
}
