/**
 * A Kafka broker of the test's own, for a test that stops and restarts its broker: deploy/kafka.sh
 * with SHEKARA_KAFKA_HOME in the test's temp dir and two ports of its own, so the shared broker
 * (test/setup/kafka.ts, 127.0.0.1:19092) and the files using it are never touched, and the test
 * can run beside them.
 *
 * Only the broker's run/ dir (config, data, log, pid, lock) is the test's. The jars are the shared
 * cache's (SHEKARA_KAFKA_HOME as the caller set it, else ~/.cache/shekara/kafka), linked, never
 * written: `kafka.sh fetch` fills that cache first when it is empty (a fresh clone), once.
 */
import { mkdirSync, symlinkSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { freePort } from './net.js';
import { runProcess } from './run.js';

const SCRIPT = path.resolve(import.meta.dirname, '../../deploy/kafka.sh');
// How long a start waits for the broker to answer (kafka.sh's SHEKARA_KAFKA_READY_TIMEOUT, 90 s by
// default): a restart beside a busy suite (load ~30) was seen not ready after 90 s. A stop takes up to 25 s.
const READY_TIMEOUT_S = 240;
const SCRIPT_TIMEOUT_MS = (READY_TIMEOUT_S + 60) * 1000;

export interface OwnKafkaBroker {
  /** The bootstrap address, for the gateway's `egress.queue.kafka.brokers`. */
  readonly brokers: string[];
  /** Starts it (again: same ports, same data, so topics and committed offsets stay). */
  start(): Promise<void>;
  /** Controlled shutdown (SIGTERM, SIGKILL after 20 s), as `kafka.sh stop`. */
  stop(): Promise<void>;
  /** Started and not stopped since. */
  readonly running: boolean;
}

/** Prepares a broker under `dir` (it is not started: `start()`). `stop()` before removing `dir`. */
export async function ownKafkaBroker(dir: string): Promise<OwnKafkaBroker> {
  const sharedHome = process.env['SHEKARA_KAFKA_HOME'] ?? path.join(homedir(), '.cache/shekara/kafka');
  await kafkaSh('fetch', { SHEKARA_KAFKA_HOME: sharedHome });
  const home = path.join(dir, 'kafka');
  mkdirSync(home, { recursive: true });
  symlinkSync(path.join(sharedHome, 'lib'), path.join(home, 'lib'));
  const [port, controllerPort] = [await freePort(), await freePort()];
  const env = {
    SHEKARA_KAFKA_HOME: home,
    SHEKARA_KAFKA_PORT: String(port),
    SHEKARA_KAFKA_CONTROLLER_PORT: String(controllerPort),
    SHEKARA_KAFKA_READY_TIMEOUT: String(READY_TIMEOUT_S),
  };
  let running = false;
  return {
    brokers: [`127.0.0.1:${port}`],
    async start() {
      await kafkaSh('start', env);
      running = true;
    },
    async stop() {
      running = false;
      await kafkaSh('stop', env);
    },
    get running() {
      return running;
    },
  };
}

async function kafkaSh(cmd: 'fetch' | 'start' | 'stop', env: Record<string, string>): Promise<void> {
  const r = await runProcess('bash', [SCRIPT, cmd], { timeout: SCRIPT_TIMEOUT_MS, env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`deploy/kafka.sh ${cmd} failed (exit ${r.status}): ${r.stderr.trim()}`);
}
