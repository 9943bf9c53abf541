/**
 * The owner-bindings area's contract, shared by both stores (src/store/owner-bindings/{sqlite,pg}.ts):
 * owner tokens and the vehicles each covers. The composed `Store` (../types.ts) extends it.
 */

/** An owner's token and the vehicles it covers (./sqlite.ts, ./pg.ts). */
export interface OwnerBindingRow {
  readonly id: string;
  /** The operator's own reference for the person (customer number…); never shown to OEMs. */
  readonly ownerRef: string;
  readonly vins: readonly string[];
  readonly createdAt: number;
  readonly revokedAt: number | null;
}

/** Which vehicles an owner may act for in /owner/v1. */
export interface OwnerBindingStore {
  /** Issues a token for `ownerRef` covering `vins`; the returned `token` is the only time it exists in clear. */
  createOwnerToken(b: {
    ownerRef: string;
    vins: readonly string[];
    now: number;
  }): Promise<{ id: string; token: string }>;
  /** The binding when `token` is valid and unrevoked; undefined otherwise. */
  authenticateOwner(token: string): Promise<OwnerBindingRow | undefined>;
  ownersOfVehicle(vin: string): Promise<OwnerBindingRow[]>;
  /** Returns false when no such unrevoked token exists. */
  revokeOwnerToken(id: string, now: number): Promise<boolean>;
}
