/**
 * The vehicle reference in logs: what a log line says instead of a VIN.
 *
 * A VIN is personal data once it names a car with an owner (Law of the Republic of Kazakhstan
 * "On personal data and its protection", art. 1), and the VIN space is small and structured
 * (WMI, model year, plant, serial): a plain hash of it is reversed by enumeration in minutes.
 * So the reference is keyed: HMAC-SHA256 over the VIN with a key derived from this
 * deployment's pseudonymization master key (which never leaves the country). Without that
 * key a reference cannot be tied to a VIN; with access to the store an operator resolves it
 * with `shekara vehicles whois REF`. One key per deployment, no epochs: the same car has the
 * same reference in every log line, so an incident can be followed across days.
 *
 * 64 bits: short enough to read in a log, and collision-free in practice for any fleet a
 * gateway serves (about 1 in 10^7 for a million cars; `whois` prints every match).
 */
import { createHmac, randomBytes } from 'node:crypto';

/** VIN → its reference in logs, e.g. `vr_3f9a0c1d2e4b5a67`. */
export type VehicleRef = (vin: string) => string;

export const VEHICLE_REF_RE = /^vr_[0-9a-f]{16}$/;

/** Deriving the key (not the master key itself) keeps the reference from ever equalling a pseudonym. */
export function vehicleRefKey(masterKey: Buffer): Buffer {
  return createHmac('sha256', masterKey).update('shekara/log-vehicle-ref/v1').digest();
}

export function createVehicleRef(masterKey: Buffer): VehicleRef {
  const key = vehicleRefKey(masterKey);
  const cache = new Map<string, string>();
  return (vin) => {
    let ref = cache.get(vin);
    if (ref === undefined) {
      ref = `vr_${createHmac('sha256', key).update(vin).digest('hex').slice(0, 16)}`;
      if (cache.size >= 10_000) cache.clear();
      cache.set(vin, ref);
    }
    return ref;
  };
}

/**
 * For a module built without the gateway's key (unit tests, tools): a reference under a key
 * that exists only in this process. Logs still hold no VIN; they just cannot be resolved.
 */
export const ephemeralVehicleRef = (): VehicleRef => createVehicleRef(randomBytes(32));

/** The VINs among `vins` whose reference is `ref` (normally one; none for a foreign or mistyped reference). */
export function resolveVehicleRef(ref: VehicleRef, target: string, vins: Iterable<string>): string[] {
  const found: string[] = [];
  for (const vin of vins) if (ref(vin) === target) found.push(vin);
  return found;
}
