/**
 * The GB/T 32960.3 listeners: TLS with a vehicle client certificate (CN = VIN), and plain TCP
 * from the networks in `allowFrom` only (docs/gbt32960.md, "Identity binding"). Both feed the
 * same intake as MQTT and HTTPS (src/ingest/intake.ts).
 *
 * Limits before login, each counted by reason in shekara.ingest.rejects: `maxConnections`
 * (above it the socket is closed), `allowFrom` (plain TCP), `loginTimeoutMs`; after login
 * `idleTimeoutSeconds` (no frame, not even a heartbeat) and `maxInflight`.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Gbt32960Config } from '../../config/schema.js';
import { createLogThrottle } from '../../log-throttle.js';
import { listen } from '../../net.js';
import { createMqttsServer, peerIdentity, type MqttsServer, type PeerIdentity } from '../tls.js';
import { allowList } from './allow.js';
import { commandFrame } from './commands.js';
import { Gbt32960Connection } from './connection.js';
import type { Gbt32960Deps, Gbt32960Endpoint } from './endpoint.js';

export interface Gbt32960Ingest {
  readonly port: number | undefined;
  readonly tlsPort: number | undefined;
  readonly connectedVehicles: number;
  reloadTls(): void;
  /** Closes the connection logged in as `vin` (revoked, erased); returns how many were closed. */
  disconnectVehicle(vin: string): number;
  /** True while a terminal is logged in as `vin`: downlink commands go to it. */
  isOnline(vin: string): boolean;
  /** Why the terminal logged in as `vin` will not be sent this command (commands.ts), or undefined. */
  commandRefusal(
    vin: string,
    c: { readonly type: string; readonly params: Readonly<Record<string, unknown>> },
  ): string | undefined;
  /** Sends a downlink command (the JSON src/downlink publishes) to the terminal logged in as `vin`. */
  publishCommand(vin: string, payload: Buffer): Promise<void>;
  /** Closes connections whose vehicle is no longer registered or was revoked (SIGHUP). */
  recheckCredentials(): Promise<number>;
  close(): Promise<void>;
}

export async function startGbt32960Ingest(cfg: Gbt32960Config, deps: Gbt32960Deps): Promise<Gbt32960Ingest> {
  const log = deps.log.child({ channel: 'gbt32960' });
  const refusals = createLogThrottle(log);
  const live = new Set<Gbt32960Connection>();
  const bound = new Map<string, Gbt32960Connection>();
  const cuts = new Map<string, number>();
  const ep: Gbt32960Endpoint = {
    cfg,
    deps: { ...deps, log },
    reject(reason, detail = {}) {
      deps.intake.reject(reason, 'gbt32960');
      refusals.note(reason, { reason, ...detail }, 'gbt32960: refused');
    },
    generation: (vin) => cuts.get(vin) ?? 0,
    bind(vin, c) {
      const held = bound.get(vin);
      if (held && held !== c && held.state !== 'closed') return false;
      bound.set(vin, c);
      return true;
    },
  };
  const allowed = allowList(cfg.tcp.allowFrom);

  const accept = (socket: Socket, peer: PeerIdentity | undefined) => {
    if (live.size >= cfg.maxConnections) {
      ep.reject('server-busy');
      socket.destroy();
      return;
    }
    const c = new Gbt32960Connection(ep, socket, peer, (closed) => {
      live.delete(closed);
      if (closed.vehicle && bound.get(closed.vehicle.vin) === closed) bound.delete(closed.vehicle.vin);
    });
    live.add(c);
  };

  const sweepMs = Math.max(50, Math.min(1_000, Math.floor(cfg.loginTimeoutMs / 4)));
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const c of live) {
      if (c.state === 'new' || c.state === 'authenticating') {
        if (now - c.openedAt > cfg.loginTimeoutMs) {
          ep.reject('login-timeout');
          c.destroy();
        }
      } else if (c.state === 'open' && now - c.lastRx > cfg.idleTimeoutSeconds * 1000) {
        ep.reject('idle-timeout', { vehicle: c.ref() });
        c.destroy();
      }
    }
  }, sweepMs);
  sweep.unref();

  let tcp: Server | undefined;
  let port: number | undefined;
  let tls: MqttsServer | undefined;
  let tlsPort: number | undefined;
  try {
    if (cfg.tcp.enabled) {
      tcp = createServer((socket) => {
        if (!allowed(socket.remoteAddress)) {
          ep.reject('source-not-allowed');
          socket.destroy();
          return;
        }
        accept(socket, undefined);
      });
      port = await listen(tcp, cfg.tcp.port, cfg.tcp.host, 'GB/T 32960');
    }
    if (cfg.tls.enabled) {
      tls = createMqttsServer(
        cfg.tls,
        (socket) => accept(socket, peerIdentity(socket)),
        (err) =>
          log.error({ reason: err.message }, 'gbt32960: reloading certificates failed; the previous ones stay in use'),
      );
      tlsPort = await listen(tls.server, cfg.tls.port, cfg.tls.host, 'GB/T 32960 TLS');
    }
  } catch (err) {
    clearInterval(sweep);
    tcp?.close();
    tls?.close();
    throw err;
  }

  const cut = (vin: string) => {
    cuts.set(vin, (cuts.get(vin) ?? 0) + 1);
    const c = bound.get(vin);
    if (!c || c.state === 'closed') return 0;
    log.info({ reason: 'credentials-changed', vehicle: c.ref() }, 'gbt32960: disconnecting a revoked vehicle');
    c.destroy();
    return 1;
  };

  return {
    port,
    tlsPort,
    get connectedVehicles() {
      return bound.size;
    },
    reloadTls: () => tls?.reload(),
    disconnectVehicle: cut,
    isOnline: (vin) => bound.get(vin)?.state === 'open',
    commandRefusal(vin, c) {
      const conn = bound.get(vin);
      if (conn?.state !== 'open' || !conn.edition) return undefined; // offline: publish fails, the command waits
      const frame = commandFrame(c, conn.edition, Date.now());
      return 'refused' in frame ? frame.refused : undefined;
    },
    publishCommand(vin, payload) {
      const c = bound.get(vin);
      if (c?.state !== 'open' || !c.edition) return Promise.reject(new Error('the terminal is not logged in'));
      const { id, type, params } = JSON.parse(payload.toString('utf8')) as {
        id: string;
        type: string;
        params: Record<string, unknown>;
      };
      return c.sendCommand({ id, type, params }, c.edition);
    },
    async recheckCredentials() {
      let closed = 0;
      for (const vin of [...bound.keys()]) if (!(await deps.lookupVehicle(vin))) closed += cut(vin);
      return closed;
    },
    async close() {
      clearInterval(sweep);
      const servers = [tcp, tls?.server].filter((x): x is Server => x !== undefined);
      const closed = servers.map((x) => new Promise<void>((resolve) => x.once('close', () => resolve())));
      tcp?.close();
      tls?.close();
      for (const c of [...live]) c.destroy();
      await Promise.all(closed);
    },
  };
}
