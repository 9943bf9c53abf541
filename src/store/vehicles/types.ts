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
   * The look-up a vehicle authentication makes (src/ingest): the vehicle as getVehicle returns
   * it, revoked or not, or undefined. It MUST do the same work whether the VIN is registered or
   * not: for an unknown one it reads and maps the decoy row (`vehicle_auth_decoy`) in place of
   * a vehicle's and then drops it, so the time to refuse does not tell which VINs are registered.
   * The decoy MUST NOT be returned, for any VIN (its own `vin` included), nor listed.
   */
  getVehicleForAuth(vin: string): Promise<VehicleRow | undefined>;
  /**
   * Replaces a vehicle's secret and clears a revocation: the old secret MUST fail from the
   * moment this resolves. Returns false when no such vehicle exists.
   */
  rotateVehicleSecret(vin: string, secret: { secretHash: Buffer; secretSalt: Buffer }, now: number): Promise<boolean>;
  /** Revokes a vehicle's device credentials (secret and certificate alike); false when none or already revoked. */
  revokeVehicleCredentials(vin: string, now: number): Promise<boolean>;
}
