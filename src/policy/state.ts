/**
 * The policy's stateful rules across a restart (a `kill -9` too): minimum interval, trip state
 * and k-anonymity counts. Each comes back from what the store already holds durably, or nearly:
 *
 * - the last send per purpose and vehicle is read from the outbox, whose rows commit with their
 *   records (exact);
 * - trip states (current trip start, remembered ends, ignition, last point) are saved every few
 *   seconds; at activation they are loaded and the records received since the last save (and a
 *   margin before it) are replayed through the trackers, so a kill between two saves loses
 *   nothing. Held projections are not saved: after a restart they are dropped, never sent;
 * - k-anonymity counts are rebuilt by replaying the positions observed in the current and the
 *   previous window (what the counter holds), from the route points.
 *
 * A replayed record that the saved state already reflects changes nothing: a tracker ignores a
 * point older than the vehicle's last one, and counting a vehicle in a cell twice counts it once.
 */
import type { Evaluator, PurposeState } from './evaluate.js';
import type { TripSnapshot } from './trip.js';
import { LAT, LON, type Point } from './geo.js';
import type { PolicyStateStore, TripStateRow } from '../store/types.js';

/** How often trip states are saved. */
export const SAVE_EVERY_MS = 5_000;
/**
 * Records received this long before the last save are replayed too: a record waiting for its
 * consent look-up when the save ran was received before it but not yet reflected in it.
 */
const REPLAY_MARGIN_MS = 60_000;
/** Sends this long before the longest interval are read back: a car's clock may lag the gateway's. */
const CLOCK_LAG_MS = 3_600_000;

/** Brings a freshly created evaluator's state to where the previous one (or process) left it. */
export async function restoreState(ev: Evaluator, store: PolicyStateStore, now: number): Promise<void> {
  const oem = ev.policy.oem;
  const byId = new Map(ev.state.map((s) => [s.id, s]));
  const longest = Math.max(0, ...ev.state.map((s) => s.minIntervalMs));
  if (longest > 0) {
    for (const r of await store.lastSends(oem, now - longest - CLOCK_LAG_MS)) {
      const s = byId.get(r.purpose);
      if (!s?.minIntervalMs) continue;
      const known = s.lastSent.get(r.vin);
      if (known === undefined || r.observedAt > known) s.lastSent.set(r.vin, r.observedAt);
    }
  }

  const trips = ev.state.filter((s) => s.tracker);
  const counted = ev.state.filter((s) => s.counter && s.cellsOf);
  if (trips.length === 0 && counted.length === 0) return;
  let receivedSince = Infinity;
  if (trips.length > 0) {
    const saved = await store.loadTripStates(oem);
    for (const row of saved.rows)
      byId.get(row.purpose)?.tracker?.restore(row.vin, JSON.parse(row.state) as TripSnapshot);
    // Never saved (a first start): there is nothing to replay onto.
    if (saved.savedAt !== null) receivedSince = saved.savedAt - REPLAY_MARGIN_MS;
  }
  // The counter keeps the current and the previous window.
  const observedSince = Math.min(Infinity, ...counted.map((s) => (Math.floor(now / s.kWindowMs) - 1) * s.kWindowMs));
  if (receivedSince === Infinity && observedSince === Infinity) return;
  const rows = await store.policyReplay(oem, {
    receivedSince: Math.min(receivedSince, Number.MAX_SAFE_INTEGER),
    observedSince: Math.min(observedSince, Number.MAX_SAFE_INTEGER),
  });
  for (const r of rows) {
    const lat = r.signals[LAT];
    const lon = r.signals[LON];
    const pos: Point | undefined = typeof lat === 'number' && typeof lon === 'number' ? { lat, lon } : undefined;
    if (r.receivedAt >= receivedSince)
      for (const s of trips) s.tracker!.observeSignals(r.vin, r.observedAt, r.receivedAt, pos, r.signals);
    if (pos && r.observedAt >= observedSince)
      for (const s of counted) s.counter!.see(r.vin, r.observedAt, s.cellsOf!(pos));
  }
}

/**
 * Saves the trip states that changed since the last save, per OEM. States a failed save could
 * not write are kept and written by the next one (a newer state of the same vehicle wins).
 */
export function createStateSaver(
  store: PolicyStateStore,
): (evaluators: Iterable<Evaluator>, now: number) => Promise<void> {
  const unsaved = new Map<string, Map<string, TripStateRow>>();
  let running: Promise<void> | undefined;
  const saveNow = async (evaluators: Iterable<Evaluator>, now: number): Promise<void> => {
    for (const ev of evaluators) {
      const trips = ev.state.filter((s): s is PurposeState & { tracker: NonNullable<PurposeState['tracker']> } =>
        Boolean(s.tracker),
      );
      if (trips.length === 0) continue;
      let rows = unsaved.get(ev.policy.oem);
      if (!rows) unsaved.set(ev.policy.oem, (rows = new Map()));
      for (const s of trips)
        for (const [vin, state] of s.tracker.dirty())
          rows.set(`${s.id}\n${vin}`, { purpose: s.id, vin, state: JSON.stringify(state) });
    }
    for (const [oem, rows] of unsaved) {
      await store.saveTripStates(oem, [...rows.values()], now);
      unsaved.delete(oem);
    }
  };
  return (evaluators, now) => {
    // One save at a time: a slow store makes saves rarer, never concurrent.
    running ??= saveNow(evaluators, now).finally(() => {
      running = undefined;
    });
    return running;
  };
}
