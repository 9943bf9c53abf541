/**
 * The vehicles area's contract, shared by both stores (src/store/vehicles/{sqlite,pg}.ts): the
 * registered cars and their device credentials. Re-exported by ../types.ts, which composes `Store`.
 */

export interface VehicleRow {
  readonly vin: string;
  readonly oem: string;
  /** SHA-256 over salt ‖ secret; the secret itself is never stored. */
  readonly secretHash: Buffer;
  readonly secretSalt: Buffer;
  readonly createdAt: number;
  /** When the device credentials were revoked (the car is refused), or null while they are valid. */
  readonly revokedAt: number | null;
  /** When the secret was last set (registration or rotation). */
  readonly secretSetAt: number;
}

export interface VehicleStore {
  registerVehicle(v: {
    vin: string;
    oem: string;
    secretHash: Buffer;
    secretSalt: Buffer;
    replace?: boolean;
  }): Promise<void>;
  getVehicle(vin: string): Promise<VehicleRow | undefined>;
  listVehicles(): Promise<VehicleRow[]>;
  /**
   * Replaces a vehicle's secret and clears a revocation: the old secret MUST fail from the
   * moment this resolves. Returns false when no such vehicle exists.
   */
  rotateVehicleSecret(vin: string, secret: { secretHash: Buffer; secretSalt: Buffer }, now: number): Promise<boolean>;
  /** Revokes a vehicle's device credentials (secret and certificate alike); false when none or already revoked. */
  revokeVehicleCredentials(vin: string, now: number): Promise<boolean>;
}
