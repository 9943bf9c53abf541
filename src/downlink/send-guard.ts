/**
 * The send-time guard: a queued command is checked again just before it is published, as a
 * projection is before it crosses (src/policy/send-time.ts). What allowed it when it was asked
 * for may have changed while the car was offline: the owner withdrew the approval of a
 * restricting command (docs/oem-api.md: "such commands are blocked again from now on"), the
 * operator disabled the OEM, the OEM's active policy no longer allows the command or its
 * parameters, the car was re-registered to another OEM or its credentials revoked, the owner
 * revoked the consent to the purpose the command serves (or it lapsed), or its ttl passed. Any of
 * these stops the command; the caller records the stop as a 'command' leaf.
 *
 * Every path that puts a command on the wire (the embedded broker, an external broker, GB/T
 * 32960, and the embedded broker's re-sends from a car's session: on reconnect [MQTT-4.4.0-1]
 * and when a PUBACK frees room under the car's Receive Maximum) MUST call this with the time of
 * sending and MUST NOT publish when it returns a reason.
 */
import type { CommandRow, Store } from '../store/index.js';
import type { CompiledPolicy } from '../policy/index.js';
import { checkCommand, isBuiltInRestricting, NO_COMMANDS, type CompiledCommandType } from '../policy/commands.js';
import { consentStillGiven } from '../policy/consent.js';

export interface SendGuardDeps {
  readonly store: Pick<Store, 'getOem' | 'getVehicle' | 'isCommandApproved' | 'isConsentGranted'>;
  readonly policyOf: (oem: string) => CompiledPolicy | undefined;
}

/**
 * The purpose whose consent a command of `def` lacks for this car at `at`, or undefined. A
 * command serving a purpose that needs consent needs the owner's consent to that purpose, as
 * the data of that purpose does (src/policy/consent.ts: the same check, the same registry).
 */
export async function missingCommandConsent(
  deps: SendGuardDeps,
  c: { readonly vin: string; readonly oem: string },
  def: CompiledCommandType | undefined,
  at: number,
): Promise<string | undefined> {
  if (def?.purpose === undefined) return undefined;
  const q = { vin: c.vin, oem: c.oem, purpose: def.purpose };
  return (await consentStillGiven({ consent: deps.store, policyOf: deps.policyOf }, q, at)) ? undefined : def.purpose;
}

export type SendVerdict =
  { readonly send: true } | { readonly send: false; readonly status: 'expired' | 'blocked'; readonly reason: string };

/**
 * Whether `c` may go to the car at `at`. `when` starts a blocked reason: 'at send time' just
 * before a publish (or a re-send from the car's MQTT session), 'on revocation' when an owner's
 * revocation stops the vehicle's queued commands at once.
 */
export async function sendTimeVerdict(
  deps: SendGuardDeps,
  c: CommandRow,
  at: number,
  when = 'at send time',
): Promise<SendVerdict> {
  if (c.expiresAt < at)
    return {
      send: false,
      status: 'expired',
      reason: `ttl passed at ${new Date(c.expiresAt).toISOString()} before the car was online`,
    };
  const block = (reason: string): SendVerdict => ({
    send: false,
    status: 'blocked',
    reason: `${when}: ${reason}`,
  });
  const oem = await deps.store.getOem(c.oem);
  if (!oem || oem.disabledAt !== null) return block(`OEM ${c.oem} is disabled`);
  const vehicle = await deps.store.getVehicle(c.vin);
  if (!vehicle || vehicle.oem !== c.oem) return block(`the vehicle is no longer registered to ${c.oem}`);
  if (vehicle.revokedAt !== null) return block("the vehicle's credentials are revoked");
  // The policy in force now, with the time the command has left: a narrowed policy stops it.
  const commands = deps.policyOf(c.oem)?.commands ?? NO_COMMANDS;
  const verdict = checkCommand(commands, c.type, c.params, c.expiresAt - at);
  if (!verdict.ok) return block(verdict.reason);
  const restricting = verdict.def?.restricting ?? isBuiltInRestricting(c.type);
  if (restricting && !(await deps.store.isCommandApproved(c.vin, c.oem, c.type, at)))
    return block(`"${c.type}" restricts the car: its owner's approval for ${c.oem} was withdrawn`);
  const purpose = await missingCommandConsent(deps, c, verdict.def, at);
  if (purpose !== undefined)
    return block(`consent revoked: the owner's consent to "${purpose}" for ${c.oem} is no longer in force`);
  return { send: true };
}
