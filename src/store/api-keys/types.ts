/**
 * The API keys area's contract, shared by both stores (src/store/api-keys/{sqlite,pg}.ts): bearer
 * keys for the HTTP APIs, one role each. Re-exported by ../types.ts, which composes `Store`.
 */

export type ApiRole = 'regulator' | 'operator' | 'oem' | 'owner-app';

export interface ApiKeyRow {
  readonly id: string;
  readonly role: ApiRole;
  /**
   * The tenant the key is bound to: for an 'oem' key the OEM id (it sees only that OEM's
   * vehicles and data); null for the other roles.
   */
  readonly scope: string | null;
  readonly label: string;
  readonly createdAt: number;
  readonly revokedAt: number | null;
}

/** Bearer API keys, stored hashed (./sqlite.ts, ./pg.ts). */
export interface ApiKeyStore {
  /** Creates a key; the resolved `key` is the only time the secret exists in clear. */
  createApiKey(k: {
    role: ApiRole;
    label: string;
    now: number;
    scope?: string | null;
  }): Promise<{ id: string; key: string }>;
  /** The key's row when `key` is a valid, unrevoked key; undefined otherwise. */
  authenticateApiKey(key: string): Promise<ApiKeyRow | undefined>;
  listApiKeys(): Promise<ApiKeyRow[]>;
  /** Resolves to false when no such unrevoked key exists. */
  revokeApiKey(id: string, now: number): Promise<boolean>;
}
