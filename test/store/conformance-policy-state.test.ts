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
});
