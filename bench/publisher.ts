/**
 * One load-generator process (forked by bench/run.ts; several run side by side so a single
 * event loop is not the bottleneck). Each car is a real mqtt.js client (MQTT 3.1.1 over TCP)
 * publishing the simulator's ~550-byte telemetry. Modes:
 *  - window: closed loop, each car keeps `window` QoS 1 publishes outstanding (max rate);
 *  - rate:   open loop at a fixed total rate, each car capped at `window` outstanding so the
 *            generator's own memory stays bounded when the broker pushes back;
 *  - idle:   connect and hold the connections until told to stop.
 * Every loop ends by itself at `endAt`; outstanding acknowledgements get `drainMs` more.
 */
import { readFileSync } from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';
import { newCar, nextTelemetry, type SimCar } from '../src/sim/telemetry.js';
import { connectEach, emptyStats, sendToParent, serveOrchestrator, sleep } from './worker-ipc.js';

export interface PublisherJob {
  readonly url: string;
  readonly credsFile: string;
  readonly from: number;
  readonly to: number;
  /** true: Mosquitto pass-through (anonymous); the topic stays the same. */
  readonly anonymous: boolean;
  readonly mode: 'window' | 'rate' | 'idle';
  readonly qos: 0 | 1;
  readonly window: number;
  /** Messages per second for this process (rate mode). */
  readonly rate: number;
  readonly keepalive: number;
  readonly connectConcurrency: number;
  /** Reconnect 1 s after a drop, as a real car does (the gateway drops a car whose message waited 30 s for room). */
  readonly reconnect?: boolean;
  /** MQTT protocol level: 4 (3.1.1, the default) or 5. */
  readonly protocolVersion?: 4 | 5;
}

export interface PublisherGo {
  readonly startAt: number;
  readonly measureFrom: number;
  readonly measureTo: number;
  readonly endAt: number;
  readonly drainMs: number;
}

export interface PublisherStats {
  connected: number;
  connectErrors: number;
  sent: number;
  acked: number;
  errors: number;
  /** Counted only for messages published inside [measureFrom, measureTo). */
  sentInWindow: number;
  ackedInWindow: number;
  /** rate mode: messages not sent because the car already had `window` unacknowledged. */
  throttled: number;
  disconnects: number;
}

/** rate mode: publish → PUBACK times (ms) of messages published in the window. */
export type PublisherDone = { stats: PublisherStats; ackLatenciesMs: number[] };

interface Car {
  car: SimCar;
  client: MqttClient;
  topic: string;
  outstanding: number;
}

const send = sendToParent;
const stats = emptyStats();
let job: PublisherJob;
const cars: Car[] = [];
const ackLatenciesMs: number[] = [];

serveOrchestrator(stats, { connect: connectAll, run, finish });

async function connectAll(j: PublisherJob): Promise<void> {
  job = j;
  const creds = (JSON.parse(readFileSync(job.credsFile, 'utf8')) as { vin: string; secret: string }[]).slice(
    job.from,
    job.to,
  );
  await connectEach(creds, job.connectConcurrency, stats, async (c, i) => {
    const client = await mqtt.connectAsync(job.url, {
      clientId: c.vin,
      protocolVersion: job.protocolVersion ?? 4,
      keepalive: job.keepalive,
      reconnectPeriod: job.reconnect ? 1_000 : 0,
      connectTimeout: 30_000,
      clean: true,
      ...(job.anonymous ? {} : { username: c.vin, password: c.secret }),
    });
    // Nagle off, as Mosquitto (set_tcp_nodelay) and Shekara do on their side: otherwise the
    // generator's own TCP stack batches publishes and adds round trips to every latency.
    (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
    client.on('error', () => {
      stats.errors += 1;
    });
    client.on('close', () => {
      stats.disconnects += 1;
    });
    cars.push({ car: newCar(c.vin, job.from + i), client, topic: `vehicles/${c.vin}/telemetry`, outstanding: 0 });
  });
}

async function run(go: PublisherGo): Promise<void> {
  await sleep(go.startAt - Date.now());
  if (job.mode === 'idle') return new Promise(() => undefined); // held until 'stop'
  const publish = (c: Car, onAck?: () => void) => {
    const now = Date.now();
    if (now >= go.endAt) return;
    const inWindow = now >= go.measureFrom && now < go.measureTo;
    const payload = JSON.stringify(nextTelemetry(c.car, now));
    c.outstanding += 1;
    stats.sent += 1;
    if (inWindow) stats.sentInWindow += 1;
    c.client.publish(c.topic, payload, { qos: job.qos }, (err) => {
      c.outstanding -= 1;
      if (err) {
        stats.errors += 1;
        return;
      }
      stats.acked += 1;
      const t = Date.now();
      if (t >= go.measureFrom && t < go.measureTo) stats.ackedInWindow += 1;
      if (inWindow && job.mode === 'rate') ackLatenciesMs.push(t - now);
      onAck?.();
    });
  };

  if (job.mode === 'window') {
    for (const c of cars) {
      const refill = () => {
        if (c.client.connected) publish(c, refill);
      };
      for (let k = 0; k < job.window; k++) publish(c, refill);
    }
    await sleep(go.endAt - Date.now());
  } else {
    // Open loop: every tick publishes what is due since the start, round-robin over the cars.
    const tickMs = 5;
    let due = 0;
    let i = 0;
    let last = Date.now();
    while (Date.now() < go.endAt) {
      const now = Date.now();
      due += ((now - last) * job.rate) / 1000;
      last = now;
      for (; due >= 1; due -= 1) {
        const c = cars[i++ % cars.length]!;
        if (c.outstanding >= job.window || !c.client.connected) stats.throttled += 1;
        else publish(c);
      }
      await sleep(tickMs);
    }
  }
  const drainUntil = Date.now() + go.drainMs;
  while (job.qos === 1 && cars.some((c) => c.outstanding > 0 && c.client.connected) && Date.now() < drainUntil)
    await sleep(50);
}

let finished = false;
async function finish(): Promise<void> {
  if (finished) return;
  finished = true;
  const done: PublisherDone = { stats: { ...stats }, ackLatenciesMs };
  await send({ type: 'done', ...done });
  await Promise.all(cars.map((c) => c.client.endAsync(true).catch(() => undefined)));
  process.exit(0);
}
