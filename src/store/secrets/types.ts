/**
 * The secrets area's contract, shared by both stores (src/store/secrets/{sqlite,pg}.ts): key
 * material that never leaves the country. Nothing else is shared: the table is one name and one
 * value. Re-exported by ../types.ts, which composes `Store`.
 */

/** Key material kept locally (pseudonymization, signing). Created by the caller once. */
export interface SecretStore {
  getSecret(name: string): Promise<Buffer | undefined>;
  putSecretIfAbsent(name: string, value: Buffer): Promise<Buffer>;
  /** Every secret's name: the key ring seals rows an older Shekara stored in clear (src/store/sealed.ts). */
  listSecretNames(): Promise<string[]>;
  /** Overwrites a secret's stored bytes (the same secret, sealed). */
  replaceSecret(name: string, value: Buffer): Promise<void>;
  /** Drops what the database still keeps of overwritten rows (SQLite: WAL checkpoint; PostgreSQL: VACUUM). */
  purgeFreedPages(): Promise<void>;
}
