/**
 * The key that seals every secret the store holds (pseudonymization master key, checkpoint
 * signing key, OEM body-signing keys): 32 random bytes in `<keys.dir>/store.key`, 0600 in a
 * 0700 directory, apart from the data. The store keeps only AES-256-GCM ciphertext bound to each
 * secret's name, so a copy of the database or a backup re-identifies nobody and signs nothing.
 *
 * Why sealed rows and not one file per secret: secrets are made while running (an OEM registered
 * through the API, a webhook key rotation), and every instance on a shared PostgreSQL must see
 * them at once; the store already gives that, the key file only has to be the same everywhere.
 *
 * The key file may itself be sealed with a key-encryption key (KEK): 32 bytes, base64, from the
 * environment (`SHEKARA_KEYS_KEK`) or a file an operator mounts (`keys.kekFile`).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ShekaraError } from '../errors.js';
import { ensurePrivateDir, PRIVATE_FILE_MODE } from './private-dir.js';

export interface KeysConfig {
  /** Directory of the key file; resolved by the config loader (default `<dataDir>/keys`). */
  readonly dir: string;
  /** A file holding the key-encryption key (base64, 32 bytes); SHEKARA_KEYS_KEK wins over it. */
  readonly kekFile?: string | undefined;
}

export interface KeyRing {
  seal(name: string, plain: Buffer): Buffer;
  /** Throws SHK_KEYS_MISMATCH when `sealed` was sealed by another key or under another name. */
  open(name: string, sealed: Buffer): Buffer;
  isSealed(value: Buffer): boolean;
  readonly file: string;
}

const MAGIC = Buffer.from('shk-sealed-1:');
const KEY_FILE = 'store.key';
const KEK_ENV = 'SHEKARA_KEYS_KEK';
/** The store key itself (base64, 32 bytes), instead of the key file: for orchestrators' secrets. */
const STORE_KEY_ENV = 'SHEKARA_STORE_KEY';

export function openKeyRing(cfg: KeysConfig, env: NodeJS.ProcessEnv = process.env): KeyRing {
  // Instances that share a PostgreSQL store must share this key; where no disk is shared (a
  // Kubernetes Deployment), it comes from the orchestrator's secret store instead of a file.
  const fromEnv = env[STORE_KEY_ENV];
  if (fromEnv !== undefined) return ring(envKey(fromEnv), `$${STORE_KEY_ENV}`);
  ensurePrivateDir(cfg.dir, 'key directory');
  const file = path.join(cfg.dir, KEY_FILE);
  const kek = loadKek(cfg, env);
  let key: Buffer;
  if (existsSync(file)) {
    if ((statSync(file).mode & 0o077) !== 0) {
      throw new ShekaraError(
        'SHK_UNSAFE_PERMISSIONS',
        `key file ${file} is readable by others; run \`chmod 600 ${file}\` and start again`,
      );
    }
    key = decodeKeyFile(readFileSync(file, 'utf8'), file, kek);
  } else {
    key = randomBytes(32);
    const text = kek ? `sealed:${gcm(kek, 'store.key', key).toString('base64')}\n` : `${key.toString('base64')}\n`;
    try {
      writeFileSync(file, text, { mode: PRIVATE_FILE_MODE, flag: 'wx' });
    } catch (err) {
      // Another instance sharing the directory wrote it first: use theirs.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      key = decodeKeyFile(readFileSync(file, 'utf8'), file, kek);
    }
  }
  return ring(key, file);
}

function envKey(text: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== 32) {
    throw new ShekaraError(
      'SHK_CONFIG_INVALID',
      `${STORE_KEY_ENV} must be 32 bytes in base64, e.g. from \`openssl rand -base64 32\``,
    );
  }
  return key;
}

function ring(key: Buffer, file: string): KeyRing {
  return {
    file,
    seal: (name, plain) => Buffer.concat([MAGIC, gcm(key, name, plain)]),
    open(name, sealed) {
      try {
        return ungcm(key, name, sealed.subarray(MAGIC.length));
      } catch {
        throw new ShekaraError(
          'SHK_KEYS_MISMATCH',
          `secret "${name}" in the store was sealed with another key file than ${file}: start with the key directory this store was created with`,
        );
      }
    },
    isSealed: (v) => v.length > MAGIC.length && v.subarray(0, MAGIC.length).equals(MAGIC),
  };
}

function loadKek(cfg: KeysConfig, env: NodeJS.ProcessEnv): Buffer | undefined {
  const text = env[KEK_ENV] ?? (cfg.kekFile ? readFileSync(cfg.kekFile, 'utf8') : undefined);
  if (text === undefined) return undefined;
  const kek = Buffer.from(text.trim(), 'base64');
  if (kek.length !== 32) {
    throw new ShekaraError(
      'SHK_CONFIG_INVALID',
      `the key-encryption key (${env[KEK_ENV] !== undefined ? KEK_ENV : 'keys.kekFile'}) must be 32 bytes in base64, e.g. from \`openssl rand -base64 32\``,
    );
  }
  return kek;
}

function decodeKeyFile(text: string, file: string, kek: Buffer | undefined): Buffer {
  const t = text.trim();
  if (t.startsWith('sealed:')) {
    if (!kek) throw new ShekaraError('SHK_KEYS_MISMATCH', `key file ${file} is sealed: set ${KEK_ENV} or keys.kekFile`);
    try {
      return ungcm(kek, 'store.key', Buffer.from(t.slice('sealed:'.length), 'base64'));
    } catch {
      throw new ShekaraError('SHK_KEYS_MISMATCH', `key file ${file} is sealed with another key-encryption key`);
    }
  }
  const key = Buffer.from(t, 'base64');
  if (key.length !== 32) throw new ShekaraError('SHK_KEYS_MISMATCH', `key file ${file} does not hold a 32-byte key`);
  return key;
}

/** AES-256-GCM: iv(12) ‖ tag(16) ‖ ciphertext; the name is the associated data, so rows cannot be swapped. */
function gcm(key: Buffer, name: string, plain: Buffer): Buffer {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(Buffer.from(name, 'utf8'));
  const body = Buffer.concat([c.update(plain), c.final()]);
  return Buffer.concat([iv, c.getAuthTag(), body]);
}

function ungcm(key: Buffer, name: string, sealed: Buffer): Buffer {
  const d = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
  d.setAAD(Buffer.from(name, 'utf8'));
  d.setAuthTag(sealed.subarray(12, 28));
  return Buffer.concat([d.update(sealed.subarray(28)), d.final()]);
}
