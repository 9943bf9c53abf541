/**
 * The policy module's one door. `createPolicyEngine` loads and compiles every OEM's policy
 * once; `project(record)` returns what may leave for the record's OEM, per purpose.
 * Deny by default: a vehicle whose OEM has no policy sends nothing; a purpose that requires
 * consent sends nothing without a grant (or without a consent registry at all).
 *
 * OEMs come from two places: config OEMs have a policy file (re-read by `reload`, SIGHUP); OEMs
 * of the registry (admin API, CLI) get their policy through `activatePolicy` at run time. A
 * disabled OEM (`upsertOem({ enabled: false })`) gets no projections at all.
 *
 * `project` is called at ingest before the group commit; it MAY return projections of EARLIER
 * records of the same vehicle that were held back (trip endpoints) and are now released —
 * each carries its own recordId. The stateful rules' state comes back after a restart
 * (src/policy/state.ts), except held projections: those are gone (dropped, never sent).
 *
 * `project` is asynchronous only because consent lives in the store: the grants a record's
 * purposes need are looked up first (one look-up per consent-requiring purpose, none per
 * field), then the policy is evaluated synchronously. Records are evaluated in the order they
 * were handed in, whatever order the look-ups answer in: the stateful rules (trips, minimum
 * interval, k-anonymity) depend on it.
 */
import type { Catalog } from '../catalog/index.js';
import { loadPolicyFile } from './load.js';
import { createPseudonymizer, type Pseudonymizer } from './pseudonym.js';
import { createDeliveryIds } from './delivery-id.js';
import { createEvaluator, type Evaluator, type Withheld } from './evaluate.js';
import { createStateSaver, restoreState, SAVE_EVERY_MS } from './state.js';
import type { ConsentLookup } from './consent.js';
import { createSecureRandom } from './random.js';
import type { CompiledPolicy } from './compile.js';
import type { CanonicalRecord, Projection } from '../record.js';
import type { PolicyHistoryStore, PolicyStateStore } from '../store/types.js';
import { ShekaraError } from '../errors.js';
import { ATTR } from '../telemetry/names.js';
import type { Metrics } from '../telemetry/index.js';

export { parsePolicy, loadPolicyFile } from './load.js';
export type { CompiledPolicy, CompiledPurpose } from './compile.js';
export { DEFAULT_CONSENT_MAX_DAYS } from './compile.js';
export { VIN_PATH } from './compile.js';
export type { Withheld } from './evaluate.js';
export type { ConsentLookup, SendTimeRules } from './consent.js';
export { createEvaluator } from './evaluate.js';
export { consentStillGiven, sendTimeVerdict, SEND_BLOCKED } from './consent.js';

/** What a record's owner allows, looked up before evaluation (which never waits on a store). */
interface Gates {
  readonly granted: ReadonlySet<string>;
  readonly objected: ReadonlySet<string>;
}

export interface PolicyEngineConfig {
  /** OEMs whose policy is a file (the config's); `reload` re-reads exactly these. */
  readonly oems: readonly { readonly id: string; readonly policyFile: string }[];
  readonly epochDays: number;
  /** The signal catalog with the operator's extensions (default: VSS and Shekara's own). */
  readonly catalog?: Catalog;
}

export interface PolicyEngineDeps {
  /** The pseudonymization master key; it stays in the local store. */
  readonly masterKey: Buffer;
  /** The consent registry. Without it, purposes that require consent send nothing. */
  readonly consent?: ConsentLookup;
  /**
   * Where the stateful rules' state survives a restart (src/policy/state.ts): each activated
   * version starts from the last sends, the saved trip states and the k-anonymity counts, so
   * they hold across a restart or a policy change. Trip states are saved every few seconds.
   */
  readonly state?: PolicyStateStore;
  /** Whether a VIN is registered on this gateway: the identifier detector looks for every car's VIN. */
  readonly isRegisteredVin?: (vin: string) => boolean;
  /** Where each activated policy version is recorded (hash, text, time). */
  readonly history?: Pick<PolicyHistoryStore, 'recordPolicyActivation'>;
  readonly now?: () => number;
  /** Uniform [0, 1); a CSPRNG by default. Tests inject a seeded one. */
  readonly random?: () => number;
  /** `shekara.policy.decisions` is counted here when metrics are on (src/telemetry). */
  readonly metrics?: Pick<Metrics, 'enabled' | 'policyDecisions'>;
}

export interface ReloadResult {
  /** OEMs whose policy changed: old and new hash. Their held projections were dropped. */
  readonly changed: readonly {
    readonly oem: string;
    readonly from: string;
    readonly to: string;
    readonly droppedHeld: number;
  }[];
  readonly unchanged: readonly string[];
}

/** What one activation did. */
export interface ActivationResult {
  readonly oem: string;
  /** The hash that was active before, or null when the OEM had no policy. */
  readonly from: string | null;
  readonly to: string;
  /** False when `to` was already the active version (nothing changed, nothing recorded). */
  readonly changed: boolean;
  /** Projections the old version held back (trip endpoints) and that are now dropped, never sent. */
  readonly droppedHeld: number;
}

export interface PolicyEngine {
  /** Resolves in call order. Rejects (the record then sends nothing) if consent cannot be looked up. */
  project(record: CanonicalRecord): Promise<Projection[]>;
  /** Like `project`, and also says why a purpose produced nothing (dry runs). */
  explain(record: CanonicalRecord): Promise<{ projections: Projection[]; withheld: Withheld[] }>;
  /** The active policy of an OEM, if any. */
  policyOf(oem: string): CompiledPolicy | undefined;
  /** The pseudonym an OEM knows a VIN by at a given time. */
  pseudonymFor(oem: string, vin: string, atMs: number): string | undefined;
  /**
   * Re-reads every policy file. All or nothing: if any file is invalid this rejects with its
   * SHK_POLICY_* error (file, line, path, reason) and every previous version stays in force.
   * Reloads run one after another.
   */
  reload(): Promise<ReloadResult>;
  /**
   * Makes an OEM known (its pseudonyms exist from now on) and says whether it may send. A new
   * OEM sends nothing until a policy is activated for it; a disabled one sends nothing at all.
   */
  upsertOem(oem: { readonly id: string; readonly enabled: boolean }): void;
  /**
   * Makes `policy` its OEM's active version, all or nothing: the activation is recorded in the
   * history first, and only once that is durable does the new version decide. If recording
   * fails, the previous version stays in force. The same hash again changes nothing.
   * Activations and reloads run one after another.
   */
  activatePolicy(policy: CompiledPolicy): Promise<ActivationResult>;
  /** Projections held back right now (trip endpoints), all OEMs. */
  held(): number;
  close(): Promise<void>;
}

interface Entry {
  readonly evaluator: Evaluator;
  readonly pseudonym: Pseudonymizer;
}

export async function createPolicyEngine(cfg: PolicyEngineConfig, deps: PolicyEngineDeps): Promise<PolicyEngine> {
  const now = deps.now ?? Date.now;
  const random = deps.random ?? createSecureRandom();
  const pseudonyms = new Map(cfg.oems.map((o) => [o.id, createPseudonymizer(deps.masterKey, o.id, cfg.epochDays)]));
  const pseudonymOf = (oem: string): Pseudonymizer => {
    let p = pseudonyms.get(oem);
    if (!p) pseudonyms.set(oem, (p = createPseudonymizer(deps.masterKey, oem, cfg.epochDays)));
    return p;
  };
  const deliveryIds = createDeliveryIds(deps.masterKey);
  const disabled = new Set<string>();
  const fileBacked = new Set(cfg.oems.map((o) => o.id));
  const loadAll = (): Map<string, CompiledPolicy> => {
    const out = new Map<string, CompiledPolicy>();
    for (const oem of cfg.oems) {
      const policy = loadPolicyFile(oem.policyFile, cfg.catalog);
      if (policy.oem !== oem.id) {
        throw new ShekaraError(
          'SHK_POLICY_INVALID',
          `policy ${oem.policyFile} is for OEM "${policy.oem}" but the config assigns it to "${oem.id}"`,
          { details: { file: oem.policyFile, path: 'oem', reason: 'OEM mismatch' } },
        );
      }
      out.set(oem.id, policy);
    }
    return out;
  };
  const activate = async (policy: CompiledPolicy): Promise<Entry> => {
    await deps.history?.recordPolicyActivation({
      oem: policy.oem,
      policyHash: policy.hash,
      source: policy.source,
      content: policy.text,
      activatedAt: now(),
    });
    const evaluator = createEvaluator(policy, deliveryIds);
    if (deps.state) await restoreState(evaluator, deps.state, now());
    return { evaluator, pseudonym: pseudonymOf(policy.oem) };
  };

  let byOem = new Map<string, Entry>();
  for (const [oem, policy] of loadAll()) byOem.set(oem, await activate(policy));
  const save = deps.state && createStateSaver(deps.state);
  const saveAll = () =>
    save?.(
      [...byOem.values()].map((e) => e.evaluator),
      now(),
    );
  // A failed save is retried by the next one; until then a restart replays a little more.
  const saver = save && setInterval(() => void saveAll()?.catch(() => undefined), SAVE_EVERY_MS).unref();
  // Saved once at start too: what was restored is the base a kill before the next save replays onto.
  await saveAll()?.catch(() => undefined);

  // One context reused for every record (evaluation is synchronous): no closure per record.
  const ctx = {
    at: 0,
    pseudonym: undefined as Pseudonymizer | undefined,
    pseudonymize(v: string): string {
      return this.pseudonym!(v, this.at);
    },
    random,
    isRegisteredVin: deps.isRegisteredVin,
  };
  const run = (
    entry: Entry,
    record: CanonicalRecord,
    withheld: Withheld[] | undefined,
    gates: Gates | undefined,
  ): Projection[] => {
    ctx.at = record.receivedAt;
    ctx.pseudonym = entry.pseudonym;
    const out: Projection[] = [];
    entry.evaluator.evaluate(
      record,
      entry.pseudonym(record.vin, record.receivedAt),
      ctx,
      out,
      withheld,
      gates?.granted,
      gates?.objected,
    );
    return out;
  };

  /**
   * The consent-requiring purposes granted for this record and the automated purposes its owner
   * objects to; undefined when there is nothing to ask.
   */
  const gatesFor = (entry: Entry, record: CanonicalRecord): Promise<Gates> | undefined => {
    const consentIds = entry.evaluator.consentPurposes;
    const consent = deps.consent;
    const objectionIds = consent?.isProcessingObjected ? entry.evaluator.automatedPurposes : [];
    if (!consent || (consentIds.length === 0 && objectionIds.length === 0)) return undefined;
    const ask = (ids: readonly string[], q: (id: string) => Promise<boolean>) =>
      Promise.all(ids.map(q)).then((ok) => new Set(ids.filter((_, i) => ok[i])));
    return Promise.all([
      ask(consentIds, (id) => consent.isConsentGranted(record.vin, record.oem, id, record.receivedAt)),
      ask(objectionIds, (id) => consent.isProcessingObjected!(record.vin, record.oem, id, record.receivedAt)),
    ]).then(([granted, objected]) => ({ granted, objected }));
  };

  // Evaluations waiting for an earlier record's look-ups, and the last of them.
  let queued = 0;
  let tail: Promise<unknown> = Promise.resolve();
  const evaluate = (record: CanonicalRecord, withheld?: Withheld[]): Promise<Projection[]> => {
    const entry = byOem.get(record.oem);
    if (!entry || disabled.has(record.oem)) return Promise.resolve([]);
    const gates = gatesFor(entry, record);
    if (gates === undefined && queued === 0) {
      // Nothing to look up and nobody ahead: evaluated at once, in this turn.
      try {
        return Promise.resolve(run(entry, record, withheld, undefined));
      } catch (err) {
        return Promise.reject(err);
      }
    }
    queued += 1;
    const result = tail
      .then(() => gates)
      .then(
        (g) => {
          queued -= 1;
          return run(entry, record, withheld, g);
        },
        (err: unknown) => {
          queued -= 1;
          throw err;
        },
      );
    tail = result.catch(() => undefined);
    return result;
  };

  let reloading: Promise<unknown> = Promise.resolve();
  const reloadNow = async (): Promise<ReloadResult> => {
    const fresh = loadAll(); // throws before anything changes
    // Registry OEMs (no policy file) keep what was activated for them.
    const next = new Map([...byOem].filter(([oem]) => !fileBacked.has(oem)));
    const changed: { oem: string; from: string; to: string; droppedHeld: number }[] = [];
    const unchanged: string[] = [];
    for (const [oem, policy] of fresh) {
      const old = byOem.get(oem);
      if (old && old.evaluator.policy.hash === policy.hash) {
        next.set(oem, old); // same version: keep its state (trips, counts, intervals)
        unchanged.push(oem);
      } else {
        // A new version starts from the saved state (src/policy/state.ts), without what the
        // old one held: that is dropped, never sent under rules that are no longer in force.
        next.set(oem, await activate(policy));
        changed.push({
          oem,
          from: old?.evaluator.policy.hash ?? '(none)',
          to: policy.hash,
          droppedHeld: old?.evaluator.held ?? 0,
        });
      }
    }
    byOem = next;
    return { changed, unchanged };
  };
  const activateNow = async (policy: CompiledPolicy): Promise<ActivationResult> => {
    const old = byOem.get(policy.oem);
    if (old?.evaluator.policy.hash === policy.hash)
      return { oem: policy.oem, from: policy.hash, to: policy.hash, changed: false, droppedHeld: 0 };
    const entry = await activate(policy); // durable first: an activation not in the history never decides
    byOem = new Map(byOem).set(policy.oem, entry);
    return {
      oem: policy.oem,
      from: old?.evaluator.policy.hash ?? null,
      to: policy.hash,
      changed: true,
      droppedHeld: old?.evaluator.held ?? 0,
    };
  };
  /** Reloads and activations, one after another: each sees the state the previous one left. */
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const result = reloading.then(fn);
    reloading = result.catch(() => undefined);
    return result;
  };

  /**
   * Counts one decision per record and purpose: `approved`, or the first word of why not
   * (`blocked`, `down-sampled`, `nothing-to-send`, `held`); a held projection released by a
   * later record counts as `released`. The withheld list it needs is only built when counted.
   */
  const counted = async (record: CanonicalRecord): Promise<Projection[]> => {
    const withheld: Withheld[] = [];
    const out = await evaluate(record, withheld);
    const counter = deps.metrics!.policyDecisions;
    for (const p of out) {
      counter.add(1, {
        [ATTR.oem]: p.oem,
        [ATTR.purpose]: p.purpose,
        [ATTR.outcome]: p.recordId === record.id ? 'approved' : 'released',
      });
    }
    for (const w of withheld) {
      counter.add(1, { [ATTR.oem]: record.oem, [ATTR.purpose]: w.purpose, [ATTR.outcome]: decisionOutcome(w.reason) });
    }
    return out;
  };

  return {
    project: deps.metrics?.enabled ? counted : (record) => evaluate(record),
    async explain(record) {
      const withheld: Withheld[] = [];
      return { projections: await evaluate(record, withheld), withheld };
    },
    policyOf: (oem) => byOem.get(oem)?.evaluator.policy,
    pseudonymFor: (oem, vin, atMs) => pseudonyms.get(oem)?.(vin, atMs),
    reload: () => serial(reloadNow),
    upsertOem(oem) {
      pseudonymOf(oem.id);
      if (oem.enabled) disabled.delete(oem.id);
      else disabled.add(oem.id);
    },
    activatePolicy: (policy) => serial(() => activateNow(policy)),
    held: () => [...byOem.values()].reduce((n, e) => n + e.evaluator.held, 0),
    close: async () => {
      if (saver) clearInterval(saver);
      // The second save writes what changed while a save already under way ran.
      await saveAll();
      await saveAll();
    },
  };
}

/** `blocked: no consent` → `blocked`, `nothing to send` → `nothing-to-send`: a small, fixed label vocabulary. */
function decisionOutcome(reason: string): string {
  const colon = reason.indexOf(':');
  return (colon < 0 ? reason : reason.slice(0, colon)).trim().replaceAll(' ', '-');
}
