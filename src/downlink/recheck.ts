/**
 * The send-time rechecks of commands already past the request: `recheckSent` before the embedded
 * broker puts a 'sent' command on the wire again, `recheckQueued` when the owner revokes a
 * consent or withdraws an approval. Both ask the same guard as the first send (send-guard.ts)
 * and record a stop the same way: the state change and its 'stopped' leaf in one transaction.
 * Built by createDownlink (index.ts), which hands in its leaf builder, its per-vehicle queue and
 * its stop; the Downlink interface there documents both methods.
 */
import type { AuditEventBody } from '../audit/events.js';
import type { CommandRow, Store } from '../store/index.js';
import type { Logger } from '../log.js';
import { sendTimeVerdict, type SendGuardDeps, type SendVerdict } from './send-guard.js';

export interface RecheckDeps {
  readonly store: SendGuardDeps['store'] & Pick<Store, 'getCommand' | 'queuedCommands' | 'blockSentCommand'>;
  readonly policyOf: SendGuardDeps['policyOf'];
  readonly log: Logger;
  readonly now: () => number;
  /** The body of a 'command' leaf of the egress log. */
  readonly leaf: (
    c: Pick<CommandRow, 'id' | 'oem' | 'pseudonym' | 'type'>,
    action: string,
    outcome: string,
    reason: string | null,
  ) => AuditEventBody;
  /** Runs `run` after the vehicle's flush or recheck under way, so two never interleave. */
  readonly serial: (vin: string, run: () => Promise<void>) => Promise<void>;
  /** Ends a queued command the guard stopped: expired, or blocked with a 'stopped' leaf. */
  readonly stop: (c: CommandRow, t: number, verdict: Exclude<SendVerdict, { send: true }>) => Promise<void>;
}

export interface Rechecks {
  recheckSent(vin: string, id: string): Promise<boolean>;
  recheckQueued(vin: string): Promise<void>;
}

export function createRechecks(deps: RecheckDeps): Rechecks {
  const { store, log, now, leaf } = deps;
  const guard = { store, policyOf: deps.policyOf };
  return {
    async recheckSent(vin, id) {
      const c = await store.getCommand(id);
      // Answered by the car (it has it), stopped, or not this car's: nothing more goes.
      if (c?.vin !== vin || c.status !== 'sent') return false;
      const t = now();
      const verdict = await sendTimeVerdict(guard, c, t);
      if (verdict.send) return true;
      // Sent once, so not 'expired' (never sent): a re-send its ttl outlived is stopped like the rest.
      const reason =
        verdict.status === 'expired'
          ? `at send time: ttl passed at ${new Date(c.expiresAt).toISOString()} before it could be sent again`
          : verdict.reason;
      if (await store.blockSentCommand(c.id, t, reason, leaf(c, 'stopped', 'blocked', reason)))
        log.warn({ command: c.id, oem: c.oem, type: c.type, reason }, 'downlink: re-send of a sent command stopped');
      return false;
    },

    recheckQueued(vin) {
      return deps.serial(vin, async () => {
        for (const c of await store.queuedCommands(vin)) {
          const t = now();
          const verdict = await sendTimeVerdict(guard, c, t, 'on revocation');
          if (!verdict.send) await deps.stop(c, t, verdict);
        }
      });
    },
  };
}
