/**
 * vitest globalSetup: a REAL Kafka broker for the egress tests (deploy/kafka.sh: Apache Kafka
 * from Maven Central, single-node KRaft on 127.0.0.1:19092). Starts it unless it already runs,
 * and stops it at the end only if this run started it. No Java or Maven → the run fails here
 * with kafka.sh's reason; a fake broker is never substituted.
 *
 * SHEKARA_KAFKA_EXTERNAL=1: the broker belongs to someone else (several vitest runs sharing one
 * machine, each from its own worktree). This run then MUST NOT start, restart or stop it: a run
 * that stopped "its" broker at the end took the broker away from the other runs mid-test. It
 * only checks that the broker answers and fails with the reason if it does not.
 */
// eslint-disable-next-line no-restricted-imports -- global setup, in the runner before any worker starts and after all end
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { kafkaUnanswered } from './kafka-answers.js';
import { oncePerRun } from './once-per-run.js';

const script = path.resolve(import.meta.dirname, '../../deploy/kafka.sh');

export default function setup(): Promise<() => void> {
  return oncePerRun('kafka', checkOrStart);
}

async function checkOrStart(): Promise<() => void> {
  if (process.env['SHEKARA_KAFKA_EXTERNAL'] === '1') {
    // Someone else's broker: all this run needs to know is that it answers (kafka.sh status
    // also checks its pid file, a JVM's worth of CPU to say what a metadata request says).
    const broker = `127.0.0.1:${process.env['SHEKARA_KAFKA_PORT'] ?? '19092'}`;
    const why = await kafkaUnanswered(broker);
    if (why !== undefined)
      throw new Error(
        `SHEKARA_KAFKA_EXTERNAL=1 but no Kafka answers on ${broker} (${why}): start it with \`bash deploy/kafka.sh start\` (this run never starts or stops a shared broker)`,
      );
    return () => {};
  }
  const running = spawnSync('bash', [script, 'status'], { stdio: 'ignore' }).status === 0;
  let startedHere = false;
  if (!running) {
    // A broker that is up but slow to answer `status` makes `start` reuse it ("already
    // running"): then it is another run's broker, and this run must not stop it at the end.
    const r = spawnSync('bash', [script, 'start'], {
      stdio: ['ignore', 'inherit', 'pipe'],
      timeout: 600_000,
      encoding: 'utf8',
    });
    process.stderr.write(r.stderr ?? '');
    if (r.status !== 0)
      throw new Error(
        `deploy/kafka.sh start failed (exit ${r.status ?? r.signal}): ${(r.stderr ?? '').trim().split('\n').pop()}`,
      );
    startedHere = !(r.stderr ?? '').includes('already running');
  }
  return () => {
    if (startedHere)
      execFileSync('bash', [script, 'stop'], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 60_000 });
  };
}
