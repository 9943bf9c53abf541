/**
 * The hot path: one compiled policy applied to one record, per purpose. Stateful rules keep
 * their state here, in memory, per evaluator (one per OEM and policy version):
 * trip-endpoint hold-back, minimum interval per vehicle, k-anonymity counts. `state` exposes it
 * so that src/policy/state.ts can save it and bring it back after a restart.
 *
 * Order per purpose, and why:
 *  1. trip tracking and k-anonymity counting see EVERY record with a position, before any
 *     gate, so down-sampling or a missing consent cannot hide a trip start or a vehicle;
 *  2. consent, an objection to automated processing, then minimum interval: a purpose that
 *     may not send stops here;
 *  3. fields, deny by default: only named paths (wildcards never select the VIN, the raw
 *     position or account data);
 *  4. the position last: sensitive zones, trip endpoints, then generalization with k-anonymity.
 */
import type { CanonicalRecord, Projection, SignalValue } from '../record.js';
import type { CompiledPolicy, CompiledPurpose, CompiledRule } from './compile.js';
import type { TransformContext } from './transforms/index.js';
import { VIN_PATH } from './selectors.js';
import { LAT, LON, type Point } from './geo.js';
import { TripTracker, TRIP_REASONS, type TripVerdict } from './trip.js';
import { CellCounter } from './kanon.js';
import { identifierIn, idContext, IDENTIFIER_FOUND } from './identifier-check.js';
import {
  RELEASED_NEAR_ENDPOINT,
  revealedZone,
  revealsEndpoint,
  stripLocation,
  suppressLocation,
  withNote,
  zoneReleaseReason,
} from './release.js';
import { ephemeralDeliveryIds, type DeliveryIds } from './delivery-id.js';
import {
  FieldDecisions,
  NOT_LISTED,
  NOT_LISTED_ACCOUNT,
  NOT_LISTED_VIN,
  TRANSFORM_DECLINED,
  UNKNOWN_KEY,
  interned,
} from './decision.js';
import { shapeMaker } from './shape.js';

/** A purpose that produced nothing for a record, and why (dry runs print these). */
export interface Withheld {
  readonly recordId: string;
  readonly purpose: string;
  readonly reason: string;
}

export interface Evaluator {
  readonly policy: CompiledPolicy;
  /** Ids of the purposes that send nothing without the owner's consent, in policy order. */
  readonly consentPurposes: readonly string[];
  /** Ids of the purposes flagged `automatedDecisions`: an owner's open objection stops them. */
  readonly automatedPurposes: readonly string[];
  /**
   * Appends this record's projections, and earlier held ones now released, to `out`.
   * `granted`: the purposes of `consentPurposes` whose consent was in force at the record's
   * receipt; `objected`: the purposes of `automatedPurposes` the owner objects to (both looked
   * up by the caller beforehand: evaluation itself never waits on a store).
   */
  evaluate(
    record: CanonicalRecord,
    vehicle: string,
    ctx: TransformContext,
    out: Projection[],
    withheld?: Withheld[],
    granted?: ReadonlySet<string>,
    objected?: ReadonlySet<string>,
  ): void;
  /** Projections held back (trip endpoints) right now. */
  readonly held: number;
  /** Each purpose's stateful rules, to save and restore them across a restart (src/policy/state.ts). */
  readonly state: readonly PurposeState[];
}

/** One purpose's state: the last send per VIN, its trip tracker and k-anonymity counts (if it has them). */
export interface PurposeState {
  readonly id: string;
  readonly minIntervalMs: number;
  readonly lastSent: Map<string, number>;
  readonly tracker: TripTracker<Projection> | undefined;
  readonly counter: CellCounter | undefined;
  readonly kWindowMs: number;
  /** The cells a position is counted in (every coarsening level), when k-anonymity applies. */
  readonly cellsOf: ((pos: Point) => string[]) | undefined;
}

/** What every purpose reads of a record, computed once per record. */
interface RecordView {
  readonly keys: readonly string[];
  readonly values: readonly SignalValue[];
  /** rules[i][purpose]: the rule for keys[i], or null. */
  readonly rules: readonly (readonly (CompiledRule | null)[])[];
  readonly accountKeys: readonly string[];
  /** `$unknown.KEY` for each unknown payload key. */
  readonly unknown: readonly string[];
}

/** `ids`: the gateway's delivery ids (keyed by its master key); ids under a throw-away key if absent. */
export function createEvaluator(policy: CompiledPolicy, ids: DeliveryIds = ephemeralDeliveryIds()): Evaluator {
  // One per policy version: the shapes of its projections (./shape.ts), shared by its purposes.
  const shapeOf = shapeMaker();
  const purposes = policy.purposes.map((p) => purposeEvaluator(policy, p, ids(policy.oem, p.id), shapeOf));
  // path → the rule of each purpose for it (null: not listed). One lookup per signal per
  // record, whatever the number of purposes. Cars may send any VSS path: bounded.
  const rulesByPath = new Map<string, readonly (CompiledRule | null)[]>();
  const rulesFor = (path: string): readonly (CompiledRule | null)[] => {
    let r = rulesByPath.get(path);
    if (r === undefined) {
      r = purposes.map((p) => p.resolve(path));
      if (rulesByPath.size < 10_000) rulesByPath.set(path, r);
    }
    return r;
  };
  let lastKeys: readonly string[] = [];
  let lastRules: readonly (readonly (CompiledRule | null)[])[] = [];
  return {
    policy,
    consentPurposes: policy.purposes.filter((p) => p.consentRequired).map((p) => p.id),
    automatedPurposes: policy.purposes.filter((p) => p.automatedDecisions).map((p) => p.id),
    evaluate(record, vehicle, ctx, out, withheld, granted, objected) {
      // Keys, values and rules once per record, not once per purpose.
      // Decoded records are dictionary-mode objects (built key by key), where Object.values
      // costs four times Object.keys plus one lookup per key.
      const signals = record.signals;
      const keys = Object.keys(signals);
      const values = new Array<SignalValue>(keys.length);
      for (let i = 0; i < keys.length; i++) values[i] = signals[keys[i]!]!;
      // Records of one decoder mostly share their key order: when it is the last one's, its
      // rules are reused (key strings are interned, so the comparison is by pointer).
      let same = keys.length === lastKeys.length;
      for (let i = 0; same && i < keys.length; i++) same = keys[i] === lastKeys[i];
      let rules = lastRules;
      if (!same) {
        const r = new Array<readonly (CompiledRule | null)[]>(keys.length);
        for (let i = 0; i < keys.length; i++) r[i] = rulesFor(keys[i]!);
        lastKeys = keys;
        lastRules = rules = r;
      }
      const view: RecordView = {
        keys,
        values,
        rules,
        accountKeys: Object.keys(record.account),
        unknown: record.unknownKeys.map((k) => `$unknown.${k}`),
      };
      for (let pi = 0; pi < purposes.length; pi++)
        purposes[pi]!.evaluate(record, view, pi, vehicle, ctx, out, withheld, granted, objected);
    },
    get held() {
      return purposes.reduce((n, p) => n + (p.tracker?.held ?? 0), 0);
    },
    state: purposes.map((pe) => pe.state),
  };
}

function purposeEvaluator(
  policy: CompiledPolicy,
  p: CompiledPurpose,
  deliveryIdOf: (recordId: string) => string,
  shapeOf: ReturnType<typeof shapeMaker>,
) {
  const tracker = p.trip ? new TripTracker<Projection>(p.trip) : undefined;
  const counter = p.kAnonymity ? new CellCounter(p.kAnonymity.windowMs) : undefined;
  const lastSent = new Map<string, number>();
  const cellsOf =
    counter && p.location?.cellKey
      ? (pos: Point): string[] => {
          const cells: string[] = [];
          for (let i = 0; i <= p.kAnonymity!.maxCoarsen; i++) cells.push(p.location!.cellKey!(pos.lat, pos.lon, i));
          return cells;
        }
      : undefined;
  const state: PurposeState = {
    id: p.id,
    minIntervalMs: p.minIntervalMs,
    lastSent,
    tracker,
    counter,
    kWindowMs: p.kAnonymity?.windowMs ?? 0,
    cellsOf,
  };
  const resolve = (path: string): CompiledRule | null =>
    p.exact.get(path) ?? p.wildcards.find((w) => w.matcher.test(path))?.rule ?? null;
  // Decisions that depend only on the coarsening level, built once.
  const locationDecisions = Array.from(
    { length: 8 },
    (_, level) => p.location && interned('transformed', p.location.describe(level)),
  );
  const kAnonReason =
    p.kAnonymity &&
    interned('suppressed', `suppressed: k-anonymity (fewer than ${p.kAnonymity.k} vehicles in the cell)`);
  const withheldNote = (w: Withheld[] | undefined, recordId: string, reason: string) =>
    w?.push({ recordId, purpose: p.id, reason });

  function evaluate(
    record: CanonicalRecord,
    { keys, values, rules, accountKeys, unknown }: RecordView,
    pi: number,
    vehicle: string,
    ctx: TransformContext,
    out: Projection[],
    withheld: Withheld[] | undefined,
    granted: ReadonlySet<string> | undefined,
    objected: ReadonlySet<string> | undefined,
  ): void {
    const lat = record.signals[LAT];
    const lon = record.signals[LON];
    const pos: Point | undefined = typeof lat === 'number' && typeof lon === 'number' ? { lat, lon } : undefined;
    let verdict: TripVerdict = 'none';
    if (tracker) {
      const obs = tracker.observeSignals(record.vin, record.observedAt, record.receivedAt, pos, record.signals);
      verdict = obs.verdict;
      // A released projection's decision changed since it was held: so did its shape.
      const shaped = (r: Projection): Projection => ({ ...r, shape: shapeOf(r) });
      for (const h of obs.released)
        out.push(shaped(withNote(h, 'held back until the car left the trip radius, then released')));
      for (const h of obs.tail) {
        const stripped = stripLocation(h, interned('suppressed', TRIP_REASONS['suppress-end']));
        if (stripped) out.push(shaped(stripped));
      }
    }
    // The time the per-vehicle limits go by: the car's own, unless it was flagged as far from the
    // time of receipt (src/ingest/intake.ts); a car that says 2099 must not escape minInterval.
    const at = record.clockSkew ? record.receivedAt : record.observedAt;
    let cells: string[] | undefined;
    if (counter && pos && cellsOf) {
      cells = cellsOf(pos);
      counter.see(record.vin, at, cells);
    }

    if (p.consentRequired && !(granted?.has(p.id) ?? false)) {
      return void withheldNote(withheld, record.id, 'blocked: no consent');
    }
    if (p.automatedDecisions && (objected?.has(p.id) ?? false)) {
      return void withheldNote(withheld, record.id, 'blocked: the owner objects to automated processing');
    }
    if (p.minIntervalMs > 0) {
      const last = lastSent.get(record.vin);
      if (last !== undefined && at >= last && at - last < p.minIntervalMs) {
        return void withheldNote(withheld, record.id, 'down-sampled: minimum interval');
      }
    }

    const signals: Record<string, SignalValue> = {};
    const decision = new FieldDecisions(keys);
    const base = decision.base;
    const sent: string[] = [];
    // Hand-inlined (no closure per record): this loop runs for every signal of every record.
    const skipPosition = p.location !== undefined;
    for (let i = 0; i < keys.length; i++) {
      const path = keys[i]!;
      if (skipPosition && (path === LAT || path === LON)) continue; // the position as a whole, below
      const rule = rules[i]![pi];
      if (!rule) {
        base[i] = path === VIN_PATH ? NOT_LISTED_VIN : NOT_LISTED;
        continue;
      }
      let v = rule.value.apply(values[i]!, ctx);
      if (v === undefined) {
        base[i] = rule.value.outcome === 'dropped' ? rule.decision : TRANSFORM_DECLINED;
        continue;
      }
      if (p.timeBucketMs > 0 && p.timeValued.has(path)) {
        // A time value is bucketed like observedAt: nothing in the delivery is finer.
        v = bucketTime(v, p.timeBucketMs);
        if (v === undefined) {
          base[i] = TIME_UNBUCKETABLE;
          continue;
        }
      }
      if (typeof v !== 'number' && typeof v !== 'boolean' && rule.transform !== 'pseudonymize') {
        const found = rule.namedIdentifier ? undefined : identifierIn(v, idContext(record, ctx));
        if (found) {
          base[i] = IDENTIFIER_FOUND[found];
          continue;
        }
      }
      signals[path] = v;
      base[i] = rule.decision;
      sent.push(path);
    }
    // Account data: exact names only, never a wildcard.
    for (const path of accountKeys) {
      const rule = p.exact.get(path);
      const v = rule?.value.apply(record.account[path]!, ctx);
      const found =
        rule && v !== undefined && rule.transform !== 'pseudonymize' && !rule.namedIdentifier
          ? identifierIn(v, idContext(record, ctx))
          : undefined;
      if (rule === undefined || v === undefined || found) {
        decision.add(
          path,
          rule === undefined
            ? NOT_LISTED_ACCOUNT
            : v === undefined
              ? rule.value.outcome === 'dropped'
                ? rule.decision
                : TRANSFORM_DECLINED
              : IDENTIFIER_FOUND[found!],
        );
        continue;
      }
      signals[path] = v;
      decision.add(path, rule.decision);
      sent.push(path);
    }
    for (const k of unknown) decision.add(k, UNKNOWN_KEY);

    let locationSent = false;
    if (p.emitsLocation && pos) {
      const zone = policy.zones.find((z) => z.contains(pos));
      const reason = zone
        ? interned('suppressed', `suppressed: sensitive zone "${zone.name}"`)
        : verdict !== 'none' && verdict !== 'hold'
          ? interned('suppressed', TRIP_REASONS[verdict])
          : undefined;
      let level = 0;
      if (!reason && counter && cells) {
        level = cells.findIndex((c) => counter.count(at, c) >= p.kAnonymity!.k);
      }
      const suppressed =
        reason ??
        (level < 0 ? kAnonReason : undefined) ??
        (tracker &&
        p.location?.cellKey &&
        revealsEndpoint(p.location, pos, level, tracker.endpointsOf(record.vin), p.trip!.radiusMeters)
          ? RELEASED_NEAR_ENDPOINT
          : undefined);
      if (suppressed) {
        suppressLocation(signals, sent, decision, suppressed);
      } else {
        p.location?.apply(pos.lat, pos.lon, ctx, level, signals);
        // Zones are checked again on what would be released: the cell, or the point sent.
        const zoneHit = revealedZone(policy.zones, p.location, pos, level, signals);
        if (zoneHit) {
          suppressLocation(signals, sent, decision, zoneReleaseReason(zoneHit));
        } else if (p.location) {
          const d = locationDecisions[level]!;
          decision.add(LAT, d);
          decision.add(LON, d);
          for (const o of p.location.outputs) sent.push(o);
          locationSent = true;
        } else {
          locationSent = LAT in signals || LON in signals;
        }
      }
    } else if (p.location) {
      for (const path of [LAT, LON]) if (path in record.signals) decision.add(path, TRANSFORM_DECLINED);
    }

    if (sent.length === 0 || (sent.length === 1 && sent[0] === VIN_PATH)) {
      // The pseudonym alone says nothing about the car: such a projection is not sent.
      return void withheldNote(withheld, record.id, 'nothing to send');
    }
    const fieldsDropped = decision.dropped();
    const projection: Projection = {
      recordId: record.id,
      deliveryId: deliveryIdOf(record.id),
      oem: policy.oem,
      purpose: p.id,
      policyHash: policy.hash,
      vehicle,
      observedAt:
        p.timeBucketMs > 0 ? Math.floor(record.observedAt / p.timeBucketMs) * p.timeBucketMs : record.observedAt,
      signals,
      fieldsSent: sent,
      fieldsDropped,
      decision,
      shape: shapeOf({ fieldsSent: sent, fieldsDropped, decision }),
    };
    if (p.minIntervalMs > 0) lastSent.set(record.vin, at);
    if (verdict === 'hold' && locationSent && pos) {
      tracker!.hold(record.vin, pos, projection);
      withheldNote(withheld, record.id, 'held: waiting until the car leaves the trip radius');
    } else {
      out.push(projection);
    }
  }
  return { evaluate, tracker, resolve, state };
}

const TIME_UNBUCKETABLE = interned('dropped', "dropped: a time that cannot be floored to the purpose's timeBucket");

/** An ISO 8601 time floored to the bucket, or undefined when the value is not one. */
function bucketTime(v: SignalValue, bucketMs: number): string | undefined {
  const ms = typeof v === 'string' ? Date.parse(v) : NaN;
  return Number.isFinite(ms) ? new Date(Math.floor(ms / bucketMs) * bucketMs).toISOString() : undefined;
}
