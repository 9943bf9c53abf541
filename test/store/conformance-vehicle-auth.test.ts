/**
 * The look-up a vehicle authentication makes, on every Store backend
 * (src/store/vehicles/rows.ts vehicleAuthQuery): a registered VIN reads its row, an unknown one
 * reads the decoy row of the same shape, so refusing either does the same work (red-team L4).
 * The decoy is never handed out or listed, a store made before it gets it on open, and
 * a deleted decoy still refuses every unknown VIN. How long the look-up takes is measured in
 * bench/auth-timing.ts, never asserted.
 */
import { describe, expect, it } from 'vitest';
import { hashSecret, vehicleSecretMatches } from '../../src/ingest/credentials.js';
import { DECOY_VIN, vehicleAuthQuery } from '../../src/store/vehicles/rows.js';
import { backends, useBackend, VIN1, VIN2 } from './backends.js';

const SECRET = 'the-right-secret-0123456789abcdef';

describe.each(backends())('store conformance, vehicle authentication look-up: $name', (backend) => {
  const { fresh, second, opened } = useBackend(backend);
  const authQuery = backend.name === 'SQLite' ? vehicleAuthQuery('?') : vehicleAuthQuery('$1::text');
  const decoyRows = () => opened().sql(`SELECT vin, secret_hash, secret_salt FROM vehicle_auth_decoy`);

  it('finds a registered vehicle as getVehicle does, revoked or not, and no unknown VIN', async () => {
    const store = await fresh();
    await store.registerVehicle({ vin: VIN1, oem: 'acme', ...hashSecret(SECRET) });
    expect(await store.getVehicleForAuth(VIN1)).toEqual(await store.getVehicle(VIN1));
    expect(vehicleSecretMatches(await store.getVehicleForAuth(VIN1), SECRET)).toBe(true);
    expect(await store.getVehicleForAuth(VIN2)).toBeUndefined();
    expect(await store.revokeVehicleCredentials(VIN1, 5)).toBe(true);
    expect(await store.getVehicleForAuth(VIN1)).toEqual(await store.getVehicle(VIN1));
    expect((await store.getVehicleForAuth(VIN1))!.revokedAt).toBe(5);
  });

  it('reads one row of the same shape for an unknown VIN as for a registered one: the decoy', async () => {
    const store = await fresh();
    await store.registerVehicle({ vin: VIN1, oem: 'acme', ...hashSecret(SECRET) });
    const [known] = await opened().sql(authQuery, [VIN1]);
    const [unknown, ...more] = await opened().sql(authQuery, [VIN2]);
    expect(more).toEqual([]);
    expect(Boolean(known!.found)).toBe(true);
    expect(Boolean(unknown!.found)).toBe(false);
    expect(Object.keys(unknown!)).toEqual(Object.keys(known!));
    const [decoy] = await decoyRows();
    expect(unknown).toMatchObject({ vin: DECOY_VIN, secret_hash: decoy!.secret_hash, secret_salt: decoy!.secret_salt });
    for (const row of [known!, unknown!]) {
      expect((row.vin as string).length).toBe(17);
      expect((row.secret_hash as Buffer).length).toBe(32);
      expect((row.secret_salt as Buffer).length).toBe(16);
    }
  });

  it('never hands the decoy out or lists it, even for its own VIN or with its secret known', async () => {
    const store = await fresh();
    expect(await decoyRows()).toHaveLength(1);
    // Were the decoy's secret known, it would still authenticate no VIN.
    const known = hashSecret(SECRET);
    await opened().sql(`UPDATE vehicle_auth_decoy SET secret_hash = $1, secret_salt = $2`, [
      known.secretHash,
      known.secretSalt,
    ]);
    for (const vin of [DECOY_VIN, VIN2]) {
      expect(await store.getVehicleForAuth(vin)).toBeUndefined();
      expect(vehicleSecretMatches(await store.getVehicleForAuth(vin), SECRET)).toBe(false);
      expect(await store.getVehicle(vin)).toBeUndefined();
    }
    expect(await store.listVehicles()).toEqual([]);
  });

  it('gives a store made before the decoy its decoy on open, and refuses unknown VINs without one', async () => {
    const store = await fresh();
    await store.registerVehicle({ vin: VIN1, oem: 'acme', ...hashSecret(SECRET) });
    // A decoy deleted by hand: unknown VINs are still refused, registered ones still found.
    await opened().sql(`DELETE FROM vehicle_auth_decoy`);
    expect(await store.getVehicleForAuth(VIN2)).toBeUndefined();
    expect(await store.getVehicleForAuth(DECOY_VIN)).toBeUndefined();
    expect((await store.getVehicleForAuth(VIN1))?.vin).toBe(VIN1);
    // As if written by a Shekara before migration 0130: opening it again makes the decoy.
    await opened().sql(`DROP TABLE vehicle_auth_decoy`);
    await opened().sql(`DELETE FROM schema_migrations WHERE id = $1`, ['0130-vehicle-auth-decoy']);
    const again = await second();
    expect(await decoyRows()).toHaveLength(1);
    expect(await again.getVehicleForAuth(VIN2)).toBeUndefined();
    expect((await again.getVehicleForAuth(VIN1))?.vin).toBe(VIN1);
  });
});
