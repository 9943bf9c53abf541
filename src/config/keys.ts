/**
 * The config sections of the key file that seals the store's secrets (the door: ./schema.ts, which composes `ConfigSchema`).
 */
import { Type } from '@sinclair/typebox';
import { strict } from './common.js';

/**
 * The key file that seals the store's secrets (src/keys/ring.ts, docs/deployment.md "Hardening").
 * Keep it apart from the data: another disk, a mounted secret.
 */
export const KeysSchema = Type.Object(
  {
    /** Directory of the key file (0700, the file 0600). Relative to the config file; empty: `<dataDir>/keys`. */
    dir: Type.String({ default: '' }),
    /** A file holding a key-encryption key (32 bytes, base64) that seals the key file; SHEKARA_KEYS_KEK wins over it. */
    kekFile: Type.Optional(Type.String({ minLength: 1 })),
  },
  { ...strict, default: {} },
);
