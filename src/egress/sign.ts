/**
 * Body signatures the OEM can verify, in the style of signed webhooks (Stripe, Smartcar):
 *   Shekara-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(key, "<t>.<body>")>
 * The timestamp lets the OEM refuse replays older than its tolerance. The key is held in the
 * country: read from the OEM's `signingKeyFile`, or generated into the store's local secrets on
 * first start (export with `exportSigningKey`, hand it to the OEM out of band).
 *
 * Rotation (POST /oem/v1/webhook-secret/rotate, `SigningKeyring.rotate`): the new key signs from
 * that moment; during the overlap the previous key signs too, as a second `v1=` of the same
 * header (`t=…,v1=<new>,v1=<old>`), so an OEM that has not yet installed the new key keeps
 * verifying. A verifier accepts the body when ANY v1 value matches a key it holds.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { SecretStore, SigningKeyRow, SigningKeyStore } from '../store/index.js';
import type { Logger } from '../log.js';
import { ShekaraError } from '../errors.js';

export const SIGNATURE_HEADER = 'shekara-signature';
const MIN_KEY_BYTES = 32;

export const signingSecretName = (oem: string): string => `egress-signing-key/${oem}`;

/** The header value: one `v1=` per key, the newest key first. */
export function signBody(keys: Buffer | readonly Buffer[], body: string, nowMs: number): string {
  const t = Math.floor(nowMs / 1000);
  const list = Buffer.isBuffer(keys) ? [keys] : keys;
  return [
    `t=${t}`,
    ...list.map((key) => `v1=${createHmac('sha256', key).update(`${t}.`).update(body).digest('hex')}`),
  ].join(',');
}

/** What an OEM runs to verify (any `v1=` made with `key` will do); used by tests and the stand-in sink. */
export function verifySignature(
  key: Buffer,
  body: string,
  header: string | undefined,
  nowMs: number,
  toleranceSeconds = 300,
): boolean {
  const m = /^t=(\d+)((?:,v1=[0-9a-f]{64})+)$/.exec(header ?? '');
  if (!m) return false;
  if (Math.abs(nowMs / 1000 - Number(m[1])) > toleranceSeconds) return false;
  const expected = Buffer.from(createHmac('sha256', key).update(`${m[1]}.`).update(body).digest('hex'));
  return m[2]!
    .slice(1)
    .split(',')
    .some((v) => timingSafeEqual(expected, Buffer.from(v.slice(3))));
}

/** The key an OEM signed with before any rotation: its signingKeyFile, or the generated local secret. */
export async function loadSigningKey(
  oem: { id: string; signingKeyFile?: string },
  store: Pick<SecretStore, 'getSecret' | 'putSecretIfAbsent'>,
): Promise<Buffer> {
  if (oem.signingKeyFile) {
    let key: Buffer;
    try {
      key = Buffer.from(readFileSync(oem.signingKeyFile, 'utf8').trim(), 'utf8');
    } catch (cause) {
      throw new ShekaraError(
        'SHK_EGRESS_SIGNING_KEY',
        `OEM ${oem.id}: cannot read signingKeyFile ${oem.signingKeyFile}`,
        { cause },
      );
    }
    if (key.length < MIN_KEY_BYTES)
      throw new ShekaraError(
        'SHK_EGRESS_SIGNING_KEY',
        `OEM ${oem.id}: signingKeyFile holds fewer than ${MIN_KEY_BYTES} bytes`,
      );
    return key;
  }
  const name = signingSecretName(oem.id);
  return (await store.getSecret(name)) ?? (await store.putSecretIfAbsent(name, randomBytes(MIN_KEY_BYTES)));
}

/** The key an OEM should verify with now (its newest): what `shekara oem signing-key` prints. */
export async function currentSigningKey(
  oem: { id: string; signingKeyFile?: string },
  store: KeyringStore,
): Promise<Buffer> {
  if (oem.signingKeyFile) return loadSigningKey(oem, store);
  const [newest] = await store.listSigningKeys(oem.id);
  return newest?.key ?? loadSigningKey(oem, store);
}

/** The generated key of an OEM (before any rotation), base64url, for the operator to hand to the OEM. */
export async function exportSigningKey(
  store: Pick<SecretStore, 'getSecret'>,
  oem: string,
): Promise<string | undefined> {
  return (await store.getSecret(signingSecretName(oem)))?.toString('base64url');
}

/** The signing keys of every OEM, held in memory for the hot path and re-read from the store. */
export interface SigningKeyring {
  /** The keys that sign a body sent at `now`: the newest first, then any previous one still in its overlap. */
  keysFor(oem: string, now: number): readonly Buffer[];
  /**
   * A new random key for `oem`, newest from now on; the previous one keeps signing beside it for
   * `overlapMs` (0: a hard switch). The returned key is the only time it is shown.
   * An OEM whose key is in a `signingKeyFile` cannot be rotated here (SHK_CONFLICT).
   */
  rotate(oem: string, now: number, overlapMs: number): Promise<SigningKeyRow>;
  /** Re-reads rotations from the store (another instance may have rotated). */
  refresh(): Promise<void>;
  /** Learns an OEM added or changed at run time (OEM registry): its file or local key, and rotations. */
  upsert(oem: { id: string; signingKeyFile?: string }): Promise<void>;
  close(): void;
}

type KeyringStore = Pick<SecretStore, 'getSecret' | 'putSecretIfAbsent'> &
  Pick<SigningKeyStore, 'listSigningKeys' | 'rotateSigningKey'>;

/** How often rotations made by other instances are picked up. */
const REFRESH_MS = 10_000;

export async function createSigningKeyring(
  oems: readonly { id: string; signingKeyFile?: string }[],
  store: KeyringStore,
  opts: { log?: Logger; refreshMs?: number } = {},
): Promise<SigningKeyring> {
  const fileKeys = new Map<string, Buffer>();
  const legacy = new Map<string, Buffer>();
  const rotated = new Map<string, readonly SigningKeyRow[]>();
  for (const oem of oems) {
    const key = await loadSigningKey(oem, store);
    (oem.signingKeyFile ? fileKeys : legacy).set(oem.id, key);
  }
  const refresh = async () => {
    for (const oem of legacy.keys()) rotated.set(oem, await store.listSigningKeys(oem));
  };
  await refresh();
  const timer = setInterval(() => {
    refresh().catch((err) =>
      opts.log?.warn({ err }, 'egress: could not re-read signing keys; the ones in memory stay in use'),
    );
  }, opts.refreshMs ?? REFRESH_MS);
  timer.unref();
  return {
    keysFor(oem, now) {
      const file = fileKeys.get(oem);
      if (file) return [file];
      const rows = rotated.get(oem) ?? [];
      if (rows.length === 0) return legacy.has(oem) ? [legacy.get(oem)!] : [];
      return rows.filter((r) => r.retiresAt === null || r.retiresAt > now).map((r) => r.key);
    },
    async rotate(oem, now, overlapMs) {
      if (fileKeys.has(oem)) {
        throw new ShekaraError(
          'SHK_CONFLICT',
          `OEM ${oem} signs with the key in its signingKeyFile; the operator rotates that file`,
        );
      }
      const seed = legacy.get(oem);
      if (!seed) throw new ShekaraError('SHK_NOT_FOUND', `no OEM ${oem}`);
      const row = await store.rotateSigningKey({
        oem,
        key: randomBytes(MIN_KEY_BYTES),
        now,
        previousRetiresAt: now + overlapMs,
        seed,
      });
      rotated.set(oem, await store.listSigningKeys(oem));
      return row;
    },
    refresh,
    async upsert(oem) {
      const key = await loadSigningKey(oem, store);
      fileKeys.delete(oem.id);
      legacy.delete(oem.id);
      (oem.signingKeyFile ? fileKeys : legacy).set(oem.id, key);
      if (!oem.signingKeyFile) rotated.set(oem.id, await store.listSigningKeys(oem.id));
    },
    close: () => clearInterval(timer),
  };
}
