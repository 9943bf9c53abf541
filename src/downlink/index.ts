/**
 * Guarded downlink commands, the one door: `createDownlink(cfg, deps)`. An OEM asks for a
 * command for one of its cars (by pseudonym); the command policy (src/policy/commands.ts) and,
 * for a restricting command, the owner's approval decide; an allowed command is published to
 * the car's command topic at QoS 1 and the car's acknowledgement is recorded.
 *
 * Every command is a 'command' leaf of the egress log at each step — requested (allowed or
 * blocked, with the reason), sent, acknowledged, expired — written in the same transaction as
 * the state change and BEFORE the command reaches the car. A leaf never holds the VIN.
 *
 * A car that is offline: the command waits in the store (status queued) until the car
 * subscribes to its command topic again, or until its ttl passes (expired, never sent). Just
 * before it is published it is checked again (send-guard.ts): a withdrawn approval, a revoked
 * consent, a disabled OEM, a narrowed policy or a re-registered car stops it (blocked, a 'stopped'
 * leaf); so are a re-send of a sent command and, on a revocation, the queued ones (recheck.ts).
 * GB/T 32960 terminals take their commands from the same queue through the same flush.
 *
 * Through an external broker (`link.pollsQueued`), Shekara is not told when a car connects or
 * subscribes: the link counts a car as online while its traffic arrives, and every second the
 * vehicles with waiting commands are looked up in the (possibly shared) store, so a command asked
 * for on one instance leaves from whichever instance sees the car. A car the broker has no
 * subscription for is retried with a growing pause (publish refused with "no subscribers").
 */
import { createHash } from 'node:crypto';
import type { AuditEventBody } from '../audit/events.js';
import type { CommandRow, Store } from '../store/index.js';
import type { CommandAckMessage } from '../ingest/command-ack.js';
import type { CompiledPolicy } from '../policy/index.js';
import { checkCommand, isBuiltInRestricting, NO_COMMANDS } from '../policy/commands.js';
import { createPseudonymResolver } from '../policy/pseudonym.js';
import { uuidv7 } from '../ids.js';
import { missingCommandConsent, sendTimeVerdict, type SendVerdict } from './send-guard.js';
import { createRechecks } from './recheck.js';

export { sendTimeVerdict, type SendVerdict, type SendGuardDeps } from './send-guard.js';
import type { Logger } from '../log.js';

const HOUR_MS = 3_600_000;
/** ttl when the OEM names none (or the policy's maxTtl when that is shorter). */
export const DEFAULT_TTL_SECONDS = 300;
const SWEEP_MS = 1_000;
/** Vehicles with waiting commands looked up per poll (external broker). */
const POLL_LIMIT = 1_000;
/** After a failed publish, the pause before the vehicle's next attempt doubles from cfg.retryMinMs up to this. */
const RETRY_MAX_MS = 300_000;
/** The leaf's reason for a failed publish: fixed text, as an error message might name the car's topic. */
const UNSENT_REASON = 'the publish failed: nothing reached the car; the command waits for it to come back';

export interface DownlinkConfig {
  /** pseudonymization.epochDays: pseudonyms of the current and the previous epoch name a car. */
  readonly epochDays: number;
  /** mqtt.external.commandRetryMinMs: the first pause after a failed publish (a broker's "no subscribers"). */
  readonly retryMinMs: number;
}

export interface DownlinkDeps {
  readonly store: Pick<
    Store,
    | 'listVehicles'
    | 'getVehicle'
    | 'createCommand'
    | 'getCommand'
    | 'queuedCommands'
    | 'queuedCommandVins'
    | 'expiredQueuedCommands'
    | 'commandTimes'
    | 'markCommandSent'
    | 'requeueCommand'
    | 'expireCommand'
    | 'blockQueuedCommand'
    | 'blockSentCommand'
    | 'getOem'
    | 'recordCommandAck'
    | 'isCommandApproved'
    | 'isConsentGranted'
  >;
  readonly policyOf: (oem: string) => CompiledPolicy | undefined;
  readonly pseudonymFor: (oem: string, vin: string, atMs: number) => string | undefined;
  readonly log: Logger;
  readonly now?: () => number;
}

/** How commands reach cars: the embedded broker or an external one (ingest). Attached once ingest is up. */
export interface DownlinkLink {
  /** Resolves once the broker took the command for the car (QoS 1); rejects when nothing reached it. */
  publish(vin: string, payload: Buffer, command: { readonly id: string; readonly expiresAt: number }): Promise<void>;
  isOnline(vin: string): boolean;
  /**
   * Why the link will not say this command to this car (its protocol has no form for it, or
   * Shekara never sends it that way: src/ingest/gbt32960/commands.ts), or undefined. Asked
   * before the 'sent' leaf is written, so a command that never leaves is never logged as sent.
   */
  refusal?(vin: string, command: Pick<CommandRow, 'type' | 'params'>): string | undefined;
  /** True when the link is not told about subscriptions (external broker): waiting commands are polled for. */
  readonly pollsQueued?: boolean;
}

export interface CommandRequest {
  readonly oem: string;
  readonly vin: string;
  readonly pseudonym: string;
  readonly type: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly ttlSeconds?: number;
  /** The id of the OEM key that asked. */
  readonly apiKey: string;
}

export interface Downlink {
  /** The VIN a pseudonym names among this OEM's vehicles (current and previous epoch), or undefined. */
  resolveVehicle(oem: string, pseudonym: string): Promise<string | undefined>;
  /**
   * Decides and records a command; an allowed one is sent at once when the car is online.
   * `retryAfterMs` is set when the command was blocked by its per-vehicle hourly limit.
   */
  request(r: CommandRequest): Promise<{ command: CommandRow; retryAfterMs?: number }>;
  /** A command, with an overdue queued one expired first (so its status is never stale). */
  get(id: string): Promise<CommandRow | undefined>;
  attach(link: DownlinkLink): void;
  /** A car acknowledged a command (from MQTT). Resolves once recorded (or ignored: not its command, not open). */
  onAck(vin: string, ack: CommandAckMessage): Promise<void>;
  /** A car subscribed to its command topic: send what waits for it. */
  onSubscribed(vin: string): void;
  /**
   * The embedded broker is about to put command `id`, already 'sent', on the wire again: re-sent
   * from the car's session on reconnect [MQTT-4.4.0-1], or released when a PUBACK freed room
   * under the car's Receive Maximum. True: it may go. False: it must not — it was stopped here
   * (sent → blocked, a 'stopped' leaf) or is no longer open (answered, stopped, not this car's).
   */
  recheckSent(vin: string, id: string): Promise<boolean>;
  /**
   * The owner revoked a consent or withdrew an approval: the vehicle's queued commands that the
   * send-time check no longer allows end now (blocked, reason "on revocation: …", a 'stopped'
   * leaf), not only when the car comes back. Resolves once they are recorded.
   */
  recheckQueued(vin: string): Promise<void>;
  close(): Promise<void>;
}

/** The bytes published to `vehicles/{VIN}/commands`. */
export function commandPayload(c: CommandRow): Buffer {
  return Buffer.from(
    JSON.stringify({ id: c.id, type: c.type, params: c.params, expiresAt: new Date(c.expiresAt).toISOString() }),
  );
}

export async function createDownlink(cfg: DownlinkConfig, deps: DownlinkDeps): Promise<Downlink> {
  const { store } = deps;
  const log = deps.log.child({ module: 'downlink' });
  const now = deps.now ?? Date.now;
  let link: DownlinkLink | undefined;
  let closing = false;
  const resolver = createPseudonymResolver({
    vinsOf: async (oem) => (await store.listVehicles()).filter((v) => v.oem === oem).map((v) => v.vin),
    pseudonymFor: deps.pseudonymFor,
    epochDays: cfg.epochDays,
  });

  const leaf = (
    c: Pick<CommandRow, 'id' | 'oem' | 'pseudonym' | 'type'>,
    action: string,
    outcome: string,
    reason: string | null,
    extra: AuditEventBody = {},
  ): AuditEventBody => ({
    action,
    commandId: c.id,
    oem: c.oem,
    pseudonym: c.pseudonym,
    type: c.type,
    outcome,
    reason,
    ...extra,
  });

  const expire = async (c: CommandRow, at: number) => {
    const reason = `ttl passed at ${new Date(c.expiresAt).toISOString()} before the car was online`;
    if (await store.expireCommand(c.id, at, reason, leaf(c, 'expired', 'expired', reason)))
      log.info({ command: c.id, oem: c.oem, type: c.type }, 'downlink: command expired unsent');
  };

  /** Ends a queued command the guard stopped: expired, or blocked with a 'stopped' leaf. */
  const stop = async (c: CommandRow, t: number, verdict: Exclude<SendVerdict, { send: true }>) => {
    if (verdict.status === 'expired') return expire(c, t);
    if (await store.blockQueuedCommand(c.id, t, verdict.reason, leaf(c, 'stopped', 'blocked', verdict.reason)))
      log.warn({ command: c.id, oem: c.oem, type: c.type, reason: verdict.reason }, 'downlink: queued command stopped');
  };

  /** Sends a vehicle's queued commands in order; one flush per vehicle at a time, so none goes twice. */
  const flushing = new Map<string, Promise<void>>();
  /** Vehicles whose last publish failed: not tried again before `at`. */
  const retry = new Map<string, { at: number; pauseMs: number }>();
  /** Runs `run` after the vehicle's flush or recheck under way, so two never interleave. */
  const serial = (vin: string, run: () => Promise<void>): Promise<void> => {
    const next = (flushing.get(vin) ?? Promise.resolve())
      .then(run)
      .catch((err) => log.error({ err }, 'downlink: could not send queued commands'));
    flushing.set(vin, next);
    void next.finally(() => {
      if (flushing.get(vin) === next) flushing.delete(vin);
    });
    return next;
  };
  const flush = (vin: string): Promise<void> => {
    const run = async () => {
      if (!link?.isOnline(vin)) return;
      if ((retry.get(vin)?.at ?? 0) > now()) return;
      for (const c of await store.queuedCommands(vin)) {
        const t = now();
        // Checked again at the moment of sending: what allowed it may have changed while it waited.
        const verdict = await sendTimeVerdict({ store, policyOf: deps.policyOf }, c, t);
        if (!verdict.send) {
          await stop(c, t, verdict);
          continue;
        }
        const refused = link.refusal?.(vin, c);
        if (refused !== undefined) {
          if (await store.blockQueuedCommand(c.id, t, refused, leaf(c, 'stopped', 'blocked', refused)))
            log.warn(
              { command: c.id, oem: c.oem, type: c.type, reason: refused },
              'downlink: command refused by the link',
            );
          continue;
        }
        if (!(await store.markCommandSent(c.id, t, leaf(c, 'sent', 'sent', null)))) continue;
        try {
          await link.publish(vin, commandPayload(c), c);
          retry.delete(vin);
        } catch (err) {
          // Nothing reached the car; it waits for the next subscribe. The 'sent' leaf was written
          // before the attempt (the log leads the car), so an 'unsent' leaf says it did not arrive.
          log.warn(
            { reason: (err as Error).message, command: c.id },
            'downlink: publish failed; the command waits for the car to reconnect',
          );
          await store.requeueCommand(c.id, now(), leaf(c, 'unsent', 'queued', UNSENT_REASON));
          const pauseMs = Math.min(RETRY_MAX_MS, (retry.get(vin)?.pauseMs ?? cfg.retryMinMs / 2) * 2);
          retry.set(vin, { at: now() + pauseMs, pauseMs });
          return;
        }
      }
    };
    return serial(vin, run);
  };

  const sweep = setInterval(() => {
    if (closing) return;
    const t = now();
    store
      .expiredQueuedCommands(t, 100)
      .then(async (rows) => {
        for (const c of rows) await expire(c, t);
      })
      .catch((err) => log.error({ err }, 'downlink: could not expire commands'));
    if (link?.pollsQueued) {
      const l = link;
      store
        .queuedCommandVins(t, POLL_LIMIT)
        .then((vins) => {
          for (const vin of vins) if (l.isOnline(vin) && !flushing.has(vin)) void flush(vin);
        })
        .catch((err) => log.error({ err }, 'downlink: could not look up waiting commands'));
    }
    for (const [vin, r] of retry) if (r.at + RETRY_MAX_MS < t) retry.delete(vin);
  }, SWEEP_MS);
  sweep.unref();

  const rechecks = createRechecks({ store, policyOf: deps.policyOf, log, now, leaf, serial, stop });

  return {
    async resolveVehicle(oem, pseudonym) {
      const vin = await resolver.resolve(oem, pseudonym, now());
      // The table may predate a re-registration of the car to another OEM: its OEM now decides.
      return vin !== undefined && (await store.getVehicle(vin))?.oem === oem ? vin : undefined;
    },

    async request(r) {
      const t = now();
      const commands = deps.policyOf(r.oem)?.commands ?? NO_COMMANDS;
      const ttlMs = (r.ttlSeconds ?? Math.min(DEFAULT_TTL_SECONDS, commands.maxTtlMs / 1000)) * 1000;
      const verdict = checkCommand(commands, r.type, r.params, ttlMs);
      let reason = verdict.ok ? null : verdict.reason;
      let retryAfterMs: number | undefined;
      const def = verdict.def;
      if (!reason && def?.restricting && !(await store.isCommandApproved(r.vin, r.oem, r.type, t))) {
        reason = `"${r.type}" restricts the car: its owner has not approved it for ${r.oem}`;
      }
      const unconsented = reason
        ? undefined
        : await missingCommandConsent({ store, policyOf: deps.policyOf }, r, def, t);
      if (unconsented !== undefined)
        reason = `"${r.type}" serves "${unconsented}": its owner has not given consent to it for ${r.oem}`;
      if (!reason && def?.maxPerVehiclePerHour !== undefined) {
        const times = await store.commandTimes(r.vin, r.type, t - HOUR_MS + 1);
        if (times.length >= def.maxPerVehiclePerHour) {
          reason = `at most ${def.maxPerVehiclePerHour} "${r.type}" commands per vehicle per hour`;
          retryAfterMs = Math.max(1, times[times.length - def.maxPerVehiclePerHour]! + HOUR_MS - t);
        }
      }
      const id = uuidv7(t);
      const params = JSON.stringify(r.params);
      const command = await store.createCommand(
        {
          id,
          oem: r.oem,
          vin: r.vin,
          pseudonym: r.pseudonym,
          type: r.type,
          params: r.params,
          status: reason ? 'blocked' : 'queued',
          reason,
          apiKey: r.apiKey,
          createdAt: t,
          expiresAt: t + ttlMs,
        },
        leaf(
          { id, oem: r.oem, pseudonym: r.pseudonym, type: r.type },
          'requested',
          reason ? 'blocked' : 'allowed',
          reason,
          {
            apiKey: r.apiKey,
            restricting: def?.restricting ?? isBuiltInRestricting(r.type),
            ttlSeconds: Math.round(ttlMs / 1000),
            paramsSha256: createHash('sha256').update(params).digest('hex'),
          },
        ),
      );
      if (reason) {
        log.warn({ command: id, oem: r.oem, type: r.type, reason }, 'downlink: command blocked');
        return { command, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
      }
      await flush(r.vin);
      return { command: (await store.getCommand(id))! };
    },

    async get(id) {
      const c = await store.getCommand(id);
      if (c?.status !== 'queued' || c.expiresAt >= now()) return c;
      await expire(c, now());
      return store.getCommand(id);
    },

    attach(l) {
      link = l;
    },

    async onAck(vin, ack) {
      const c = await store.getCommand(ack.id);
      // Another car's command, or one never sent: the car learns nothing (same PUBACK), nothing changes.
      if (!c || c.vin !== vin) {
        log.warn({ command: ack.id }, 'downlink: acknowledgement for a command this car was not sent; ignored');
        return;
      }
      const t = now();
      const recorded = await store.recordCommandAck(
        { id: c.id, vin, ack: { status: ack.status, detail: ack.detail ?? null, at: t } },
        leaf(c, 'acknowledged', ack.status, ack.reason ?? null),
      );
      if (!recorded)
        log.info(
          { command: c.id, status: c.status, ack: ack.status },
          'downlink: acknowledgement of a command that is not open; ignored',
        );
    },

    onSubscribed(vin) {
      if (!closing) {
        retry.delete(vin);
        void flush(vin);
      }
    },

    ...rechecks,

    async close() {
      closing = true;
      clearInterval(sweep);
      await Promise.all([...flushing.values()]);
    },
  };
}
