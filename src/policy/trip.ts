/**
 * Trip-endpoint suppression. The start and end of trips reveal home and work (de Montjoye et
 * al., 2013; Golle & Partridge, 2009), so no point within `radiusMeters` of either leaves.
 *
 * - A trip starts at the first point after the ignition goes on, after a silence longer than
 *   `gapMs`, or at the first point seen for a vehicle at all (after a restart we cannot know
 *   where the trip began, so we assume here: fail safe).
 * - Points near the start are suppressed. Every other point is held back until the car is
 *   farther than the radius from it; when the trip ends (ignition off, a silence, or standing
 *   still for `stopMs`), what is still held is the tail near the end and is released without
 *   its position.
 * - Ends are remembered per vehicle (a few), so a later trip that passes home again does not
 *   send points there either.
 * It lives in memory; every vehicle's trip state except what it holds can be taken out and put
 * back (`dirty`/`restore`), which is how it survives a restart (src/policy/state.ts). Held
 * points are gone after a restart (dropped, never leaked).
 */
import { distanceMeters, type Point } from './geo.js';

const IGNITION = 'Vehicle.LowVoltageSystemState';
const SPEED = 'Vehicle.Speed';

export interface TripConfig {
  readonly radiusMeters: number;
  readonly gapMs: number;
  readonly stopMs: number;
}

export type TripVerdict = 'none' | 'hold' | 'suppress-start' | 'suppress-end' | 'suppress-known' | 'suppress-order';

export const TRIP_REASONS: Readonly<Record<Exclude<TripVerdict, 'none' | 'hold'>, string>> = {
  'suppress-start': 'suppressed: trip start radius',
  'suppress-end': 'suppressed: trip end radius',
  'suppress-known': 'suppressed: near a known trip endpoint',
  'suppress-order': 'suppressed: point older than the last one seen (cannot be placed in its trip)',
};

interface State<T> {
  lastAt: number;
  seenAt: number;
  last: Point | undefined;
  ignition: string | undefined;
  start: Point | undefined;
  stoppedSince: number | undefined;
  parked: boolean;
  endpoints: Point[];
  held: { point: Point; item: T }[];
}

/** A vehicle's trip state without what it holds: what is saved so that it survives a restart. */
export type TripSnapshot = Omit<State<unknown>, 'held'>;

export interface TripObservation<T> {
  readonly verdict: TripVerdict;
  /** Held items the car has now moved away from: safe to send as they are. */
  readonly released: T[];
  /** Held items of a trip that just ended: near its end, to send without their position. */
  readonly tail: T[];
}

const MAX_ENDPOINTS = 8;
const SWEEP_EVERY = 4096;

export class TripTracker<T> {
  private readonly states = new Map<string, State<T>>();
  /** Vehicles whose state changed since the last `dirty()`. */
  private changed = new Set<string>();
  private observations = 0;
  /** Held items dropped because a vehicle held too many, or went silent for a day. */
  dropped = 0;

  constructor(
    private readonly cfg: TripConfig,
    private readonly maxHeldPerVehicle = 256,
  ) {}

  /** The current trip's start and the remembered endpoints of `vin` (home, work…). */
  endpointsOf(vin: string): readonly Point[] {
    const s = this.states.get(vin);
    if (!s) return [];
    return s.start ? [s.start, ...s.endpoints] : s.endpoints;
  }

  get held(): number {
    let n = 0;
    for (const s of this.states.values()) n += s.held.length;
    return n;
  }

  observe(
    vin: string,
    t: number,
    seenAt: number,
    pos: Point | undefined,
    ignition: string | undefined,
    speed: number | undefined,
  ): TripObservation<T> {
    if (++this.observations % SWEEP_EVERY === 0) this.sweep(seenAt);
    this.changed.add(vin);
    const out = { verdict: 'none' as TripVerdict, released: [] as T[], tail: [] as T[] };
    let s = this.states.get(vin);
    let newTrip = false;
    if (!s) {
      s = {
        lastAt: t,
        seenAt,
        last: undefined,
        ignition: undefined,
        start: undefined,
        stoppedSince: undefined,
        parked: false,
        endpoints: [],
        held: [],
      };
      this.states.set(vin, s);
      newTrip = true;
    } else if (t < s.lastAt) {
      if (pos) out.verdict = 'suppress-order';
      return out;
    } else if (t - s.lastAt > this.cfg.gapMs) {
      this.end(s, s.last, out);
      newTrip = true;
    } else if (ignition === 'ON' && s.ignition === 'OFF') {
      newTrip = true;
    }
    s.lastAt = t;
    s.seenAt = seenAt;
    if (ignition !== undefined) s.ignition = ignition;
    if (ignition === 'OFF') {
      // Parked here: this is where the trip ends.
      this.end(s, pos ?? s.last, out);
      if (pos) {
        s.last = pos;
        out.verdict = 'suppress-end';
      }
      return out;
    }
    if (!pos) return out;
    s.last = pos;
    if (speed !== undefined && speed <= 1) {
      s.stoppedSince ??= t;
      if (t - s.stoppedSince >= this.cfg.stopMs) {
        // Standing still this long is parking: the trip ends here.
        if (!s.parked) {
          const since = s.stoppedSince;
          this.end(s, pos, out);
          s.stoppedSince = since;
          s.parked = true;
        }
        out.verdict = 'suppress-end';
        return out;
      }
    } else {
      s.stoppedSince = undefined;
      if (s.parked) {
        s.parked = false;
        newTrip = true;
      }
    }
    if (newTrip || s.start === undefined) s.start = pos;
    const r = this.cfg.radiusMeters;
    if (s.held.length > 0) {
      const keep: { point: Point; item: T }[] = [];
      for (const h of s.held) {
        if (distanceMeters(h.point, pos) > r) out.released.push(h.item);
        else keep.push(h);
      }
      s.held = keep;
    }
    if (distanceMeters(pos, s.start) <= r) out.verdict = 'suppress-start';
    else if (s.endpoints.some((e) => distanceMeters(pos, e) <= r)) out.verdict = 'suppress-known';
    else out.verdict = 'hold';
    return out;
  }

  /** The state of every vehicle observed since the last call (what to save), held items left out. */
  dirty(): [vin: string, state: TripSnapshot][] {
    const out: [string, TripSnapshot][] = [];
    for (const vin of this.changed) {
      const s = this.states.get(vin);
      if (!s) continue;
      const { held: _held, ...rest } = s;
      out.push([vin, structuredClone(rest)]);
    }
    this.changed = new Set();
    return out;
  }

  /** Puts back a saved state (at start, before any observation of the vehicle). */
  restore(vin: string, state: TripSnapshot): void {
    this.states.set(vin, { ...structuredClone(state), held: [] });
  }

  /** `observe` with the ignition state and speed read from a record's signals. */
  observeSignals(
    vin: string,
    t: number,
    seenAt: number,
    pos: Point | undefined,
    signals: Readonly<Record<string, unknown>>,
  ): TripObservation<T> {
    const ign = signals[IGNITION];
    const speed = signals[SPEED];
    return this.observe(
      vin,
      t,
      seenAt,
      pos,
      typeof ign === 'string' ? ign : undefined,
      typeof speed === 'number' ? speed : undefined,
    );
  }

  /** Holds an item for the point the last `observe` of this vehicle said `hold` for. */
  hold(vin: string, point: Point, item: T): void {
    const s = this.states.get(vin);
    if (!s) return; // state lost: drop (fail safe)
    if (s.held.length >= this.maxHeldPerVehicle) {
      s.held.shift();
      this.dropped += 1;
    }
    s.held.push({ point, item });
  }

  private end(s: State<T>, at: Point | undefined, out: { tail: T[] }): void {
    // Both ends are remembered: the start of the first trip seen is often home, and the way back
    // there must not release the cell that holds it before that trip's own end is known.
    for (const p of [s.start, at]) {
      if (!p) continue;
      // The same place again (parked, repeated ignition-off messages) moves to the front.
      const i = s.endpoints.findIndex((e) => distanceMeters(e, p) <= this.cfg.radiusMeters / 2);
      if (i >= 0) s.endpoints.splice(i, 1);
      s.endpoints.unshift(p);
      if (s.endpoints.length > MAX_ENDPOINTS) s.endpoints.pop();
    }
    for (const h of s.held) out.tail.push(h.item);
    s.held = [];
    s.start = undefined;
    s.stoppedSince = undefined;
  }

  /** Forgets vehicles silent for a day; what they held is dropped, never sent. */
  private sweep(now: number): void {
    for (const [vin, s] of this.states) {
      if (now - s.seenAt > 86_400_000) {
        this.dropped += s.held.length;
        this.states.delete(vin);
      }
    }
  }
}
