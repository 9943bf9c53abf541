/**
 * CONNECT (MQTT 3.1.1 §3.1, MQTT 5 §3.1) → CONNACK (§3.2). Deny by default: the client id is
 * the VIN the car authenticates as — by its secret (username = VIN) or by a client certificate
 * whose CN is the VIN — and every refusal once the CONNECT was read is a CONNACK with the code
 * the car's protocol version understands (codes.ts), then the close [MQTT-3.2.2-5].
 */
import type { IConnectPacket } from 'mqtt-packet';
import { refusalFloor, vehicleSecretMatches, VIN_RE } from '../credentials.js';
import type { VehicleRow } from '../../store/index.js';
import type { Connection } from './connection.js';
import { encode } from './wire.js';
import { resume } from './outbound.js';

export function onConnect(c: Connection, p: IConnectPacket): void {
  const { limits, deps } = c.ep;
  c.version = p.protocolVersion ?? 4;
  if (VIN_RE.test(p.clientId)) c.claimedVin = p.clientId;
  if (c.preRefusal) return c.refuseConnect(c.preRefusal);
  const props = p.properties ?? {};
  if (props.requestProblemInformation === false) c.problemInfo = false;
  // Wills would be published by the gateway on the car's behalf; telemetry has one route in.
  if (p.will) return c.refuseConnect('will-not-allowed');
  // MQTT 5 §4.12: enhanced authentication is not offered; the secret or certificate is the credential.
  if (props.authenticationMethod !== undefined) return c.refuseConnect('bad-auth-method');
  const ka = p.keepalive ?? 0;
  let serverKeepAlive: number | undefined;
  if (ka < limits.keepaliveMinSeconds || ka > limits.keepaliveMaxSeconds) {
    // MQTT 5 §3.2.2.3.14: the server names the keepalive the car MUST use instead; 3.1.1 has no
    // such field, so there the CONNECT is refused.
    if (c.version !== 5)
      return c.refuseConnect('keepalive-out-of-bounds', 'keepalive-out-of-bounds', {
        keepalive: ka,
        min: limits.keepaliveMinSeconds,
        max: limits.keepaliveMaxSeconds,
      });
    serverKeepAlive = Math.min(Math.max(ka, limits.keepaliveMinSeconds), limits.keepaliveMaxSeconds);
  }
  c.keepaliveMs = (serverKeepAlive ?? ka) * 1000;
  if (props.receiveMaximum) c.clientReceiveMaximum = props.receiveMaximum;
  if (props.maximumPacketSize) c.clientMaxPacket = props.maximumPacketSize;

  const unavailable = () => c.refuseConnect('server-unavailable', 'store-unavailable');
  const peer = c.peer;
  let vin: string;
  let check: (v: VehicleRow | undefined) => string | undefined;
  if (peer?.presented) {
    // mTLS: the certificate is the credential. Its CN binds it to one VIN, which must also be
    // the client id (and the username, if one is sent).
    if (!peer.authorized) return c.refuseConnect('not-authorized', `certificate-rejected:${peer.error ?? 'untrusted'}`);
    if (!peer.commonName || !VIN_RE.test(peer.commonName))
      return c.refuseConnect('not-authorized', 'certificate-cn-not-vin');
    if (p.clientId !== peer.commonName || (p.username !== undefined && p.username !== peer.commonName))
      return c.refuseConnect('client-id-not-vin', 'client-id-not-certificate-vin');
    vin = peer.commonName;
    check = (v) => (v ? undefined : 'certificate-vehicle-unregistered');
  } else {
    if (!p.username || !VIN_RE.test(p.username)) return c.refuseConnect('bad-credentials', 'bad-username');
    // [MQTT-3.1.3-8]: the client id is the VIN, so one car cannot take over another's session.
    if (p.clientId !== p.username) return c.refuseConnect('client-id-not-vin');
    vin = p.username;
    // The same work for an unknown VIN as for a wrong secret (credentials.ts).
    check = (v) => (vehicleSecretMatches(v, p.password) ? undefined : 'bad-credentials');
  }
  const gen = c.ep.generation(vin);
  const floor = refusalFloor(c.ep.limits.authRefusalFloorMs); // before the look-up (credentials.ts)
  deps
    .lookupVehicle(vin)
    .then(async (v) => {
      const closed = () => c.state === 'closed'; // a function: the state changes across the await
      const bad = closed() ? undefined : check(v);
      if (bad) {
        await floor.reached; // no answer before the floor: slows guessing (credentials.ts)
        if (closed()) return;
        return c.refuseConnect(peer?.presented ? 'not-authorized' : 'bad-credentials', bad);
      }
      floor.cancel();
      if (closed()) return;
      // Rotated or revoked while this look-up was under way: what it read may be the old secret.
      if (c.ep.generation(vin) !== gen)
        return c.refuseConnect(peer?.presented ? 'not-authorized' : 'bad-credentials', 'credentials-changed');
      if (!c.ep.connects.take(vin)) return c.refuseConnect('quota-exceeded', 'connect-quota-exceeded');
      return accept(c, v!, p, serverKeepAlive);
    })
    .catch((err: unknown) => {
      floor.cancel();
      c.ep.deps.log.error({ err, vehicle: c.ref() }, 'mqtt: could not look the vehicle up');
      if (c.state === 'authenticating') unavailable();
      else c.destroy();
    });
}

async function accept(
  c: Connection,
  v: VehicleRow,
  p: IConnectPacket,
  serverKeepAlive: number | undefined,
): Promise<void> {
  const { limits, deps, sessions } = c.ep;
  const vehicle = { vin: v.vin, oem: v.oem };
  // 3.1.1: Clean Session 0 keeps the session without a bound; here it is limits.sessionExpiryMaxSeconds.
  // MQTT 5: Clean Start only says whether to resume; the Session Expiry Interval how long it lasts (§3.1.2.11.2).
  const clean = p.clean !== false;
  const requested =
    c.version === 5 ? (p.properties?.sessionExpiryInterval ?? 0) : clean ? 0 : limits.sessionExpiryMaxSeconds;
  const expiry = Math.min(requested, limits.sessionExpiryMaxSeconds);
  const existing = sessions.get(vehicle.vin);
  // No session in memory (first connect, or the gateway restarted): what QoS 2 ids did the store keep?
  const stored = existing ? [] : await deps.qos2.pending(vehicle.vin);
  if (c.state === 'closed') return;
  c.vehicle = vehicle;
  if (!c.peer?.presented) c.secretHash = v.secretHash;
  const { session, present } = sessions.open(vehicle, c, clean, expiry);
  c.session = session;
  c.ep.authenticated += 1;
  if (clean) {
    // [MQTT-3.1.2-6]: a clean session forgets the QoS 2 ids an earlier one left.
    const left = [...stored, ...(existing?.qos2.keys() ?? [])];
    if (left.length > 0) void deps.qos2.release(vehicle.vin, left).catch(() => undefined);
  } else for (const id of stored) session.storedQos2.add(id);
  const properties =
    c.version === 5
      ? {
          receiveMaximum: limits.receiveMaximum,
          maximumPacketSize: limits.maxPacketBytes,
          topicAliasMaximum: limits.topicAliasMaximum,
          wildcardSubscriptionAvailable: false,
          sharedSubscriptionAvailable: false,
          subscriptionIdentifiersAvailable: false,
          ...(expiry !== requested ? { sessionExpiryInterval: expiry } : {}),
          ...(serverKeepAlive !== undefined ? { serverKeepAlive } : {}),
        }
      : undefined;
  c.write(
    encode(
      c.version === 5
        ? { cmd: 'connack', sessionPresent: present, reasonCode: 0, properties }
        : { cmd: 'connack', sessionPresent: present, returnCode: 0 },
      c.version,
    ),
  );
  c.opened();
  if (!present) return;
  // [MQTT-4.4.0-1]: unacknowledged PUBLISHes of the session are sent again, with DUP set — each
  // only after the send-time check: a command stopped since it was first sent does not go again.
  resume(c.ep, session);
  if (session.commandQos !== undefined) deps.onCommandSubscribed?.(vehicle.vin);
}
