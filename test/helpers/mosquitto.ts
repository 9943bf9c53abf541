/**
 * A private Mosquitto for a test: the machine's binary, on a free loopback port, with its own
 * config and a full log (`log_type all`), so a test can count what crossed the wire — e.g. the
 * PUBACKs a Shekara connection sent ("Received PUBACK from <client id>").
 */
// eslint-disable-next-line no-restricted-imports -- init-dynsec.sh writes one small file
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { freePort } from './net.js';
import type { TestPki } from './pki.js';

const SHIPPED = path.resolve(import.meta.dirname, '../../deploy/brokers/mosquitto');
/** The dynamic security admin account the shipped init script creates, as the tests use it. */
export const DYNSEC_ADMIN = { username: 'shekara-admin', password: 'admin-secret-admin-secret' };
/** The gateway's broker account, as the tests use it. */
export const BROKER_GATEWAY = { username: 'shekara-gateway', password: 'gateway-secret-gateway-secret' };

/**
 * The shipped Mosquitto configuration (deploy/brokers/mosquitto/) run as shipped — only ports and
 * file paths changed, the internal listener replaced by the test's loopback one — with its
 * dynamic security file made by the shipped init script (admin account DYNSEC_ADMIN).
 */
export async function startShippedMosquitto(
  pki: TestPki,
): Promise<TestMosquitto & { readonly tlsPort: number; readonly mtlsPort: number }> {
  const [tlsPort, mtlsPort] = [await freePort(), await freePort()];
  const dir = path.join(pki.dir, `mosq-${tlsPort}`);
  mkdirSync(dir, { recursive: true });
  const conf = readFileSync(path.join(SHIPPED, 'mosquitto.conf'), 'utf8')
    .replace(/^listener 8883$/m, `listener ${tlsPort} 127.0.0.1`)
    .replace(/^listener 8884$/m, `listener ${mtlsPort} 127.0.0.1`)
    .replace(/^listener 1884 .*$/m, '')
    .replaceAll('/var/lib/mosquitto/', `${dir}/`)
    .replaceAll('/etc/mosquitto/certs/broker-ca.pem', pki.caFile)
    .replaceAll('/etc/mosquitto/certs/vehicle-ca.pem', pki.caFile)
    .replaceAll('/etc/mosquitto/certs/vehicle-ca.crl', pki.crlFile)
    .replaceAll('/etc/mosquitto/certs/broker.pem', pki.serverCert)
    .replaceAll('/etc/mosquitto/certs/broker.key', pki.serverKey);
  execFileSync(path.join(SHIPPED, 'init-dynsec.sh'), [
    `${dir}/dynamic-security.json`,
    DYNSEC_ADMIN.username,
    DYNSEC_ADMIN.password,
  ]);
  return { ...(await startMosquitto(conf)), tlsPort, mtlsPort };
}

export interface TestMosquitto {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  /** The broker's log so far. */
  log(): string;
  /** PUBACKs the broker received from clients whose id starts with `prefix`. */
  pubacksFrom(prefix: string): number;
  stop(): Promise<void>;
}

/** `conf`: lines before the test's own listener (plain, loopback, last) (default: a bare test broker, anonymous access). */
export async function startMosquitto(
  conf = 'allow_anonymous true\nmax_queued_messages 100000\n',
): Promise<TestMosquitto> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'shekara-mosq-'));
  const logFile = path.join(dir, 'mosquitto.log');
  const file = path.join(dir, 'mosquitto.conf');
  // As root, Mosquitto drops to user `mosquitto`, which cannot write this private directory.
  const user = process.getuid?.() === 0 ? 'user root\n' : '';
  writeFileSync(file, `${user}log_dest file ${logFile}\nlog_type all\n${conf}\nlistener ${port} 127.0.0.1\n`);
  writeFileSync(logFile, '');
  const proc: ChildProcess = spawn('mosquitto', ['-c', file], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const until = Date.now() + 5_000;
  while (!(await canConnect(port))) {
    if (Date.now() > until || proc.exitCode !== null) throw new Error(`mosquitto did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const log = () => readFileSync(logFile, 'utf8');
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    dir,
    log,
    pubacksFrom: (prefix) =>
      log()
        .split('\n')
        .filter((l) => l.includes(`Received PUBACK from ${prefix}`)).length,
    async stop() {
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
