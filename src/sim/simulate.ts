/**
 * `shekara simulate`: N cars as real MQTT clients over TCP, publishing telemetry at a fixed
 * total rate for a bounded time. Registers its cars in the gateway's store first.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { generateSecret, hashSecret, telemetryTopic } from '../ingest/index.js';
import type { Store } from '../store/index.js';
import { newCar, nextTelemetry, simVin, type SimCar } from './telemetry.js';

export interface SimulateOptions {
  readonly url: string;
  readonly vehicles: number;
  /** Messages per second, all cars together. */
  readonly rate: number;
  readonly durationSeconds: number;
  readonly oem: string;
  readonly qos: 0 | 1;
  readonly vinPrefix?: string;
  readonly onProgress?: (p: SimProgress) => void;
}

export interface SimProgress {
  connected: number;
  sent: number;
  acked: number;
  errors: number;
  elapsedSeconds: number;
}

/** Registers (or re-keys) the simulated cars and returns their credentials. */
export async function registerSimCars(
  store: Pick<Store, 'registerVehicle'>,
  n: number,
  oem: string,
  prefix?: string,
): Promise<{ vin: string; secret: string }[]> {
  const creds: { vin: string; secret: string }[] = [];
  for (let i = 0; i < n; i++) {
    const vin = simVin(i + 1, prefix);
    const secret = generateSecret();
    await store.registerVehicle({ vin, oem, ...hashSecret(secret), replace: true });
    creds.push({ vin, secret });
  }
  return creds;
}

export async function simulate(creds: { vin: string; secret: string }[], opts: SimulateOptions): Promise<SimProgress> {
  const progress: SimProgress = { connected: 0, sent: 0, acked: 0, errors: 0, elapsedSeconds: 0 };
  const cars: { car: SimCar; client: MqttClient }[] = [];
  await Promise.all(
    creds.map(async (c, i) => {
      const client = await mqtt.connectAsync(opts.url, {
        clientId: c.vin,
        username: c.vin,
        password: c.secret,
        protocolVersion: 4,
        keepalive: 30,
        reconnectPeriod: 0,
        connectTimeout: 10_000,
      });
      client.on('error', () => {
        progress.errors += 1;
      });
      progress.connected += 1;
      cars.push({ car: newCar(c.vin, i), client });
    }),
  );

  const started = Date.now();
  const tickMs = 100;
  let carIndex = 0;
  let due = 0;
  const ticker = setInterval(
    () => opts.onProgress?.({ ...progress, elapsedSeconds: Math.round((Date.now() - started) / 1000) }),
    1000,
  );
  try {
    while (Date.now() - started < opts.durationSeconds * 1000) {
      due += (opts.rate * tickMs) / 1000;
      while (due >= 1) {
        due -= 1;
        const { car, client } = cars[carIndex++ % cars.length]!;
        const payload = JSON.stringify(nextTelemetry(car, Date.now(), cars.length / opts.rate));
        progress.sent += 1;
        client.publish(telemetryTopic(car.vin), payload, { qos: opts.qos }, (err) => {
          if (err) progress.errors += 1;
          else progress.acked += 1;
        });
      }
      await new Promise((r) => setTimeout(r, tickMs));
    }
    // Give outstanding QoS 1 acknowledgements a moment to arrive.
    const waitUntil = Date.now() + 5_000;
    while (opts.qos === 1 && progress.acked + progress.errors < progress.sent && Date.now() < waitUntil) {
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    clearInterval(ticker);
    await Promise.all(cars.map(({ client }) => client.endAsync()));
  }
  progress.elapsedSeconds = Math.round((Date.now() - started) / 100) / 10;
  return progress;
}
