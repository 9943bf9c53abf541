/**
 * The VINs registered on the gateway, in memory, for the identifier detector (which looks for
 * every car's VIN in what leaves, not only the sending car's). Read at start and every minute
 * after: a car registered since the last read is still caught in plain form by the VIN shape.
 */
import type { VehicleStore } from '../store/types.js';

export interface VinRegistry {
  has(vin: string): boolean;
  close(): void;
}

const REFRESH_MS = 60_000;

export async function loadVinRegistry(store: Pick<VehicleStore, 'listVehicles'>): Promise<VinRegistry> {
  let vins = new Set((await store.listVehicles()).map((v) => v.vin.toUpperCase()));
  const timer = setInterval(() => {
    store.listVehicles().then(
      (rows) => {
        vins = new Set(rows.map((v) => v.vin.toUpperCase()));
      },
      () => undefined, // the last list stays in force; the next read tries again
    );
  }, REFRESH_MS).unref();
  return { has: (vin) => vins.has(vin), close: () => clearInterval(timer) };
}
