/**
 * Commands the embedded broker puts on the wire from a car's session, not straight from the
 * downlink: the unacknowledged ones re-sent when the car resumes its session [MQTT-4.4.0-1], and
 * those held back under the car's Receive Maximum (MQTT 5 §4.9) released when a PUBACK frees
 * room. Each is checked again just before it goes (`MqttDeps.recheckCommand`, the downlink's
 * send-time guard): a command the owner's revocation, a withdrawn approval, a disabled OEM or
 * its ttl stopped since it was first sent never reaches the car again; it leaves the session
 * (its packet id is freed, as a PUBACK would) and the downlink records the stop.
 *
 * One pump per session at a time, oldest first, so the car gets its commands in order. A command
 * whose check could not be made (store unavailable) stays due: it is tried at the next PUBACK or
 * reconnect, and never sent unchecked.
 */
import type { Endpoint } from './endpoint.js';
import type { OutboundCommand, Session } from './session.js';

/** A command the downlink hands over: sent at once when nothing waits before it, else queued behind. */
export function sendOrQueue(ep: Endpoint, s: Session, payload: Buffer, commandId: string | undefined): void {
  const c = s.conn!;
  const cmd: OutboundCommand = { payload, commandId, sent: false, due: false };
  const waiting = s.pump !== undefined || s.backlog.length > 0 || [...s.outbound.values()].some((o) => o.due);
  if (waiting || s.outbound.size >= c.clientReceiveMaximum) {
    s.backlog.push(cmd); // MQTT 5 §4.9: no more unacknowledged QoS 1 than the car's Receive Maximum
    return pump(ep, s);
  }
  // Checked by the downlink just before this call: it goes now.
  const id = ep.sessions.packetId(s);
  s.outbound.set(id, cmd);
  send(s, id, cmd);
}

/** The car resumed its session: every unacknowledged command goes again, each after its check. */
export function resume(ep: Endpoint, s: Session): void {
  for (const cmd of s.outbound.values()) cmd.due = true;
  pump(ep, s);
}

/** The car acknowledged packet `id` (PUBACK): it leaves the session [MQTT-4.3.2-1]; a waiting one may go. */
export function acknowledged(ep: Endpoint, s: Session, id: number): void {
  if (s.outbound.delete(id)) pump(ep, s);
}

function send(s: Session, id: number, cmd: OutboundCommand): void {
  s.conn!.sendCommand(id, cmd, cmd.sent);
  cmd.sent = true;
  cmd.due = false;
}

const open = (s: Session) => s.conn?.state === 'open';

function pump(ep: Endpoint, s: Session): void {
  if (s.pump) {
    s.pump.again = true;
    return;
  }
  const state = { again: false };
  s.pump = state;
  void run(ep, s).finally(() => {
    s.pump = undefined;
    if (state.again && open(s)) pump(ep, s);
  });
}

async function run(ep: Endpoint, s: Session): Promise<void> {
  const check = ep.deps.recheckCommand;
  while (open(s)) {
    let next = [...s.outbound].find(([, o]) => o.due);
    if (!next) {
      if (s.backlog.length === 0 || s.outbound.size >= s.conn!.clientReceiveMaximum) return;
      const cmd = s.backlog.shift()!;
      cmd.due = true;
      const id = ep.sessions.packetId(s);
      s.outbound.set(id, cmd); // holds its place under the Receive Maximum while it is checked
      next = [id, cmd];
    }
    const [id, cmd] = next;
    let allowed = true;
    if (check && cmd.commandId !== undefined) {
      try {
        allowed = await check(s.vehicle.vin, cmd.commandId);
      } catch (err) {
        ep.deps.log.error(
          { err },
          'mqtt: could not check a command before sending it again; it waits for the next PUBACK or reconnect',
        );
        return;
      }
    }
    if (s.outbound.get(id) !== cmd) continue; // gone meanwhile (a clean session replaced this one)
    if (!allowed) {
      s.outbound.delete(id); // stopped: it leaves the session, its packet id is free
      continue;
    }
    if (!open(s)) return; // the car went away: it stays due for its next connection
    send(s, id, cmd);
  }
}
