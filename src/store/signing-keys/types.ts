/**
 * The signing-keys area's contract, shared by both stores (src/store/signing-keys/{sqlite,pg}.ts):
 * the HMAC keys that sign webhook bodies to an OEM, every one that ever signed kept with when it
 * stopped. The composed `Store` (../types.ts) extends it.
 */

/** One HMAC key that signs bodies to an OEM. */
export interface SigningKeyRow {
  readonly oem: string;
  readonly version: number;
  readonly key: Buffer;
  readonly createdAt: number;
  /** null while it is the newest key; after a rotation, when it stops signing. */
  readonly retiresAt: number | null;
}

/** Webhook signing keys and their rotations (./sqlite.ts, ./pg.ts). */
export interface SigningKeyStore {
  /** The OEM's rotated keys, newest first; empty until the first rotation. */
  listSigningKeys(oem: string): Promise<SigningKeyRow[]>;
  /** Every OEM's rotated keys, for sealing rows stored in clear. */
  listAllSigningKeys(): Promise<SigningKeyRow[]>;
  /** Overwrites one key version's stored bytes (the same key, sealed). */
  replaceSigningKey(oem: string, version: number, key: Buffer): Promise<void>;
  /**
   * Makes `key` the OEM's newest key; every older one retires at `previousRetiresAt` at the latest. The
   * first rotation of an OEM records `seed` (the key it signed with until now) as version 0.
   */
  rotateSigningKey(r: {
    oem: string;
    key: Buffer;
    now: number;
    previousRetiresAt: number;
    seed: Buffer;
  }): Promise<SigningKeyRow>;
}
