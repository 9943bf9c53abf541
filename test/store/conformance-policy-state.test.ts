/**
 * What the policy engine reads back at start on every Store backend so that its rate rules hold
 * across a restart: per OEM, purpose and vehicle, the latest observation that became a
 * projection (the outbox row commits with its record, so this is exactly as durable as the data).
 */
import { describe, expect, it } from 'vitest';
import { backends, useBackend, record, projection, item, T0, VIN1, VIN2 } from './backends.js';

describe.each(backends())('store conformance, policy state: $name', (backend) => {
  const { fresh, second } = useBackend(backend);

  it('gives the last projected observation per purpose and vehicle, from another instance too', async () => {
    const store = await fresh();
    const a = record({ observedAt: T0 - 5_000 });
    const b = record({ observedAt: T0 - 1_000, receivedAt: T0 + 10 });
    const c = record({ vin: VIN2, observedAt: T0 - 2_000 });
    const old = record({ vin: VIN2, receivedAt: T0 - 600_000, observedAt: T0 + 60_000 });
    const other = record({ observedAt: T0 + 1_000 });
    await store.commitIngest([
      item(a, [projection(a), projection(a, { purpose: 'trips' })]),
      item(b, [projection(b)]),
      item(c, [projection(c)]),
      item(old, [projection(old)]), // received before the horizon: not read
      item(other, [projection(other, { oem: 'other' })]),
      item(record({ observedAt: T0 + 2_000 })), // no projection: never sent, not a send
    ]);
    const rows = await (await second()).lastSends('acme', T0 - 60_000);
    expect([...rows].sort((x, y) => `${x.purpose}${x.vin}`.localeCompare(`${y.purpose}${y.vin}`))).toEqual([
      { purpose: 'speed', vin: VIN1, observedAt: T0 - 1_000 },
      { purpose: 'speed', vin: VIN2, observedAt: T0 - 2_000 },
      { purpose: 'trips', vin: VIN1, observedAt: T0 - 5_000 },
    ]);
    expect(await store.lastSends('nobody', 0)).toEqual([]);
  });

  it('keeps trip states per OEM, purpose and vehicle across a reopen, drops day-old ones, erases a vehicle', async () => {
    const store = await fresh();
    expect(await store.loadTripStates('acme')).toEqual({ savedAt: null, rows: [] });
    await store.saveTripStates('acme', [{ purpose: 'trips', vin: VIN1, state: '{"a":1}' }], T0 - 2 * 86_400_000);
    await store.saveTripStates(
      'acme',
      [
        { purpose: 'trips', vin: VIN2, state: '{"b":1}' },
        { purpose: 'other', vin: VIN2, state: '{"c":1}' },
      ],
      T0,
    );
    await store.saveTripStates('acme', [{ purpose: 'trips', vin: VIN2, state: '{"b":2}' }], T0 + 5_000);
    await store.saveTripStates('zeta', [], T0 + 7_000);
    const again = await second();
    const loaded = await again.loadTripStates('acme');
    expect(loaded.savedAt).toBe(T0 + 5_000);
    expect([...loaded.rows].sort((x, y) => x.purpose.localeCompare(y.purpose))).toEqual([
      { purpose: 'other', vin: VIN2, state: '{"c":1}' },
      { purpose: 'trips', vin: VIN2, state: '{"b":2}' }, // VIN1's, saved two days before, is gone
    ]);
    expect(await again.loadTripStates('zeta')).toEqual({ savedAt: T0 + 7_000, rows: [] });
    await store.eraseVehicle(VIN2);
    expect((await store.loadTripStates('acme')).rows).toEqual([]);
  });

  it('replays records received since a time, or observed since a time with a position, in order of receipt', async () => {
    const store = await fresh();
    const late = record({ receivedAt: T0 + 2_000, observedAt: T0 - 9_000 });
    const positioned = record({ vin: VIN2, receivedAt: T0 - 50_000, observedAt: T0 - 40_000, lat: 43.2 });
    const unpositioned = record({ receivedAt: T0 - 50_000, observedAt: T0 - 40_000 });
    const recent = record({ receivedAt: T0 + 1_000 });
    const old = record({ vin: VIN2, receivedAt: T0 - 90_000, observedAt: T0 - 90_000, lat: 43.3 });
    await store.commitIngest([late, positioned, unpositioned, recent, old].map((r) => item(r)));
    const rows = await (await second()).policyReplay('acme', { receivedSince: T0, observedSince: T0 - 60_000 });
    expect(rows.map((r) => [r.vin, r.receivedAt, r.observedAt, r.signals['Vehicle.CurrentLocation.Latitude']])).toEqual(
      [
        [VIN2, T0 - 50_000, T0 - 40_000, 43.2],
        [VIN1, T0 + 1_000, T0 + 1_000, undefined],
        [VIN1, T0 + 2_000, T0 - 9_000, undefined],
      ],
    );
    expect(await store.policyReplay('other', { receivedSince: 0, observedSince: 0 })).toEqual([]);
  });
});
