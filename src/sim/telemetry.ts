/**
 * Realistic car telemetry for the simulator, tests and benchmarks: a car driving around
 * Almaty, with owner and driver data (personal data the gateway must keep in the country)
 * and a few fields no decoder knows (which must never leave either).
 */
const ALMATY = { lat: 43.2389, lon: 76.8897 };

export interface SimCar {
  readonly vin: string;
  lat: number;
  lon: number;
  heading: number;
  speed: number;
  odometer: number;
  soc: number;
  seq: number;
}

export function simVin(i: number, prefix = 'LSHKZ'): string {
  return `${prefix}${String(i).padStart(17 - prefix.length, '0')}`;
}

export function newCar(vin: string, i: number): SimCar {
  const angle = (i * 137.5 * Math.PI) / 180;
  return {
    vin,
    lat: ALMATY.lat + 0.05 * Math.sin(angle),
    lon: ALMATY.lon + 0.05 * Math.cos(angle),
    heading: (i * 37) % 360,
    speed: 40,
    odometer: 10_000 + i * 13,
    soc: 80,
    seq: 0,
  };
}

/** Advances the car by `dtSeconds` and returns the next payload (~550 bytes of JSON). */
export function nextTelemetry(car: SimCar, now: number, dtSeconds = 1): Record<string, unknown> {
  car.seq += 1;
  car.speed = Math.max(0, Math.min(110, car.speed + Math.sin(car.seq / 7) * 6));
  car.heading = (car.heading + Math.sin(car.seq / 11) * 10 + 360) % 360;
  const km = (car.speed * dtSeconds) / 3600;
  const rad = (car.heading * Math.PI) / 180;
  car.lat += (km / 111.32) * Math.cos(rad);
  car.lon += (km / (111.32 * Math.cos((car.lat * Math.PI) / 180))) * Math.sin(rad);
  car.odometer += km;
  car.soc = Math.max(5, car.soc - km * 0.15);
  const n = Number(car.vin.slice(-4));
  return {
    ts: new Date(now).toISOString(),
    position: { lat: round(car.lat, 6), lon: round(car.lon, 6), heading: round(car.heading, 1), altitude: 780 },
    speed: round(car.speed, 1),
    odometer: round(car.odometer, 2),
    ignition: true,
    battery: { soc: round(car.soc, 1), voltage: 12.6 },
    cabin: { temperature: 21.5 },
    dtc: car.seq % 50 === 0 ? ['P0A80'] : [],
    account: {
      owner: {
        name: `Aigerim Nurlanovna ${n}`,
        phone: `+7 701 555 ${String(n).padStart(4, '0')}`,
        iin: `9001${String(n).padStart(8, '0')}`,
        email: `owner${n}@example.kz`,
      },
      driver: { name: `Daniyar Serikuly ${n}`, phone: `+7 702 555 ${String(n).padStart(4, '0')}` },
    },
    hu_firmware: 'HU-8.2.114-cn',
    tbox_session: `sess-${car.seq}`,
    diag: { canbus_load: 0.41, gsm_rssi: -71 },
  };
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
