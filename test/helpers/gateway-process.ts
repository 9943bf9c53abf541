/**
 * A gateway as its own OS process, started the way an operator starts it (`shekara start -c FILE`,
 * the built CLI in dist/: run `npx tsc -p tsconfig.build.json` first), and an OEM HTTP server that
 * can tell which of those processes sent each delivery. For tests where the process is the point:
 * several instances on one store, a signal, an exit code. Everything else uses gateway.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import path from 'node:path';
import { BATCH_CONTENT_TYPE } from '../../src/egress/batch.js';
import { whileProgressing } from './wait.js';

export interface GatewayProcess {
  readonly name: string;
  readonly pid: number;
  readonly mqttUrl: string;
  readonly httpUrl: string;
  /** The exit code (null if killed by a signal it did not handle). */
  readonly exited: Promise<number | null>;
  /** What the gateway wrote to stderr (its log) so far: for failure messages. */
  log(): string;
  /** Sends `signal` and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Every gateway process spawned in this test file that has not exited yet, those still starting
 * included. A test that times out while `await spawnGateway(...)` waits never gets the process
 * back, so its afterAll cannot kill it by name: killGateways() kills it from here.
 */
const running = new Set<ChildProcess>();

/**
 * Spawns `shekara start -c configFile` (the built CLI in dist/) and tracks the process until it
 * exits, so killGateways() reaches it from the moment it exists. Resolves once its stdout matches
 * `ready`, with the match; rejects (the process killed) if it exits first or is not ready in
 * `readyMs`. With `stallMs`, `readyMs` is only the outer bound: it also rejects once the process
 * has made no progress (neither CPU time nor output) for `stallMs`. A start starved of CPU on a
 * loaded machine keeps going, slowly; a hung one stops. `args` follow `start -c configFile`
 * (`--role egress`). Tests build on spawnGateway below or spawnEgressGateway
 * (test/egress/process.ts) rather than call this.
 */
export async function startGatewayProcess(
  name: string,
  configFile: string,
  opts: { ready: RegExp; readyMs: number; stallMs?: number; env?: NodeJS.ProcessEnv; args?: readonly string[] },
): Promise<{ child: ChildProcess; match: RegExpExecArray; stderr: () => string }> {
  const child = spawn(
    process.execPath,
    [path.resolve('bin/shekara.js'), 'start', '-c', configFile, ...(opts.args ?? [])],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...opts.env },
    },
  );
  running.add(child);
  child.once('exit', () => running.delete(child));
  let stderr = '';
  let stdout = '';
  let match: RegExpExecArray | null = null;
  let exited: string | undefined;
  let output = 0; // bytes written to stdout and stderr: progress, as CPU time is
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-20_000);
    output += d.length;
  });
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
    output += d.length;
    match ??= opts.ready.exec(stdout);
  });
  child.once('exit', (code, signal) => (exited = String(code ?? signal)));
  try {
    const m = await whileProgressing(
      () => {
        if (match) return match;
        if (exited !== undefined) throw new Error(`gateway ${name} exited (${exited}) before it was up:\n${stderr}`);
        return undefined;
      },
      () => cpuTicks(child.pid) + output,
      { stallMs: opts.stallMs ?? opts.readyMs, maxMs: opts.readyMs, what: `gateway ${name} to start` },
    );
    return { child, match: m, stderr: () => stderr };
  } catch (err) {
    if (exited !== undefined) throw err;
    await new Promise((resolve) => child.once('exit', resolve).kill('SIGKILL'));
    throw new Error(`gateway ${name} did not start: ${(err as Error).message}:\n${stdout}\n${stderr}`);
  }
}

/** CPU time a process has used so far, in clock ticks (user + system, /proc/PID/stat); 0 once it is gone. */
function cpuTicks(pid: number | undefined): number {
  try {
    // The fields after the command name (which may hold spaces), from field 3 on: utime and stime are fields 14 and 15.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return 0;
  }
}

/**
 * SIGKILLs every gateway process this file spawned that is still running, started or still
 * starting, and resolves once all have exited, with how many there were. For afterAll/afterEach:
 * it also reaches a process whose spawnGateway the test's timeout abandoned.
 */
export async function killGateways(): Promise<number> {
  const children = [...running];
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
  return children.length;
}

/**
 * Spawns `shekara start -c configFile` and resolves once it printed its start banner: within
 * `readyMs` in all, and, with `stallMs`, failing sooner once the process stops making progress
 * (startGatewayProcess). `env` is added to this process's environment for the child.
 */
export async function spawnGateway(
  name: string,
  configFile: string,
  ports: { mqtt: number; http: number },
  readyMs = 30_000,
  stallMs?: number,
  env?: NodeJS.ProcessEnv,
): Promise<GatewayProcess> {
  const { child, stderr } = await startGatewayProcess(name, configFile, {
    ready: /Shekara gateway is up\./,
    readyMs,
    ...(stallMs !== undefined ? { stallMs } : {}),
    ...(env !== undefined ? { env } : {}),
  });
  const exited = new Promise<number | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
  return {
    name,
    pid: child.pid!,
    mqttUrl: `mqtt://127.0.0.1:${ports.mqtt}`,
    httpUrl: `http://127.0.0.1:${ports.http}`,
    exited,
    log: stderr,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

export interface AttributedDelivery {
  /** The body's delivery id (one per record and purpose). */
  readonly deliveryId: string;
  readonly purpose: string;
  /** Name of the gateway process that opened the connection the delivery came on ('?' if none known). */
  readonly sentBy: string;
  /** The projection's body: the POST's, or its item's in a batched push (what a repeat must match). */
  readonly body: string;
  /** The POST body exactly as received, its `shekara-signature` header and when it came (for the OEM's signature check). */
  readonly raw: string;
  readonly signature: string | undefined;
  readonly receivedAt: number;
  /**
   * The `Idempotency-Key` and `Shekara-Delivery-Id` headers, or the item's `idempotencyKey` and
   * `deliveryId` in a batched push: what the OEM drops a repeat by (docs/egress.md).
   */
  readonly idempotencyKey: string | undefined;
  readonly deliveryIdHeader: string | undefined;
  /** Items in the POST that carried it (batched push only). */
  readonly batchSize?: number;
}

export interface AttributingOem {
  readonly port: number;
  readonly deliveries: AttributedDelivery[];
  /** Makes deliveries from this process's connections count as `name`'s. */
  knowProcess(pid: number, name: string): void;
  /**
   * Called with each delivery as it is recorded, before it is answered; returning false withholds
   * the answer (the request stays open until its sender goes away): a delivery the OEM has, of
   * which the sender never learns. In a batched push, false for one item withholds the whole POST.
   */
  onDelivery: ((d: AttributedDelivery) => boolean | void) | undefined;
  close(): Promise<void>;
}

/**
 * An OEM endpoint that answers 200 to every POST (one projection, or a batched push of several:
 * one delivery per item) and records, per delivery, the delivery id,
 * the purpose, the body, its signature and idempotency headers, and which local process sent it. The sender is found as the kernel sees it: the
 * peer's port → its socket inode in /proc/net/tcp → the process holding that inode among its fds
 * (Linux; all processes run as the test's user).
 */
export async function startAttributingOem(): Promise<AttributingOem> {
  const processes = new Map<number, string>();
  const owner = new WeakMap<Socket, string>();
  const deliveries: AttributedDelivery[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const header = (name: string) => {
        const v = req.headers[name];
        return Array.isArray(v) ? v[0] : v;
      };
      const common = {
        sentBy: owner.get(req.socket) ?? '?',
        raw,
        signature: header('shekara-signature'),
        receivedAt: Date.now(),
      };
      const received: AttributedDelivery[] = [];
      if (req.headers['content-type'] === BATCH_CONTENT_TYPE) {
        const { items } = JSON.parse(raw) as {
          items: { idempotencyKey: string; deliveryId: string; purpose: string; body: unknown }[];
        };
        for (const it of items)
          received.push({
            ...common,
            deliveryId: it.deliveryId,
            purpose: it.purpose,
            body: JSON.stringify(it.body),
            idempotencyKey: it.idempotencyKey,
            deliveryIdHeader: it.deliveryId,
            batchSize: items.length,
          });
      } else {
        const { deliveryId, purpose } = JSON.parse(raw) as { deliveryId: string; purpose: string };
        received.push({
          ...common,
          deliveryId,
          purpose,
          body: raw,
          idempotencyKey: header('idempotency-key'),
          deliveryIdHeader: header('shekara-delivery-id'),
        });
      }
      let answer = true;
      for (const d of received) {
        deliveries.push(d);
        if (oem.onDelivery?.(d) === false) answer = false;
      }
      if (answer) res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  server.on('connection', (socket: Socket) => {
    const sentBy = processOfPeer(socket, processes);
    if (sentBy !== undefined) owner.set(socket, sentBy);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const oem: AttributingOem = {
    port: (server.address() as { port: number }).port,
    deliveries,
    knowProcess: (pid, name) => {
      processes.set(pid, name);
    },
    onDelivery: undefined,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return oem;
}

/** Which of `processes` holds the other end of an accepted loopback connection. */
function processOfPeer(socket: Socket, processes: ReadonlyMap<number, string>): string | undefined {
  const hexPort = (p: number) => p.toString(16).toUpperCase().padStart(4, '0');
  const local = `0100007F:${hexPort(socket.remotePort!)}`;
  const remote = `0100007F:${hexPort(socket.localPort!)}`;
  let inode: string | undefined;
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1] === local && f[2] === remote) {
      inode = f[9];
      break;
    }
  }
  if (inode === undefined) return undefined;
  const link = `socket:[${inode}]`;
  for (const [pid, name] of processes) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === link) return name;
      } catch {
        /* closed meanwhile */
      }
    }
  }
  return undefined;
}
