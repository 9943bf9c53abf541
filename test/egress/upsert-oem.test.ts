/**
 * OEMs added and changed while egress runs (the OEM registry): a new OEM is delivered to at
 * once, a changed destination rule is judged afresh at the next delivery, and a disabled OEM's
 * rows wait — no attempt, nothing blocked or dropped — until it is enabled again.
 */
import { describe, expect, it } from 'vitest';
import { DISABLED_RECHECK_MS, type Egress, type OemDestination, type Transport } from '../../src/egress/index.js';
import type { Store } from '../../src/store/index.js';
import { commitRecords, eventually, useEgressRig, type TestSink } from './helpers.js';

describe('egress › upsertOem', () => {
  const rig = useEgressRig();
  let store: Store;
  let sink: TestSink;
  let egress: Egress;
  const start = async (extra: { transport?: Transport } = {}) => {
    // No OEM at start: each test registers demo-oem at run time.
    ({ store, sink, egress } = await rig.start({ deps: { oems: [], ...extra } }));
    return {
      id: 'demo-oem',
      endpoint: sink.url,
      allowedCountries: [],
      allowPrivateNetworks: true,
    } satisfies OemDestination;
  };
  const outcomes = async () => (await store.listEgressLog()).map((e) => e.outcome);

  it('delivers to an OEM added at run time, and judges a withdrawn allowance at the very next delivery', async () => {
    const oem = await start();
    await egress.upsertOem(oem);
    await commitRecords(store, 1, 1);
    egress.wake();
    await eventually(async () => sink.hits.length === 1 && (await outcomes()).length === 1, 5_000, 'the delivery');

    // Within the 5 s a destination verdict is reused: the change must not be judged by the old one.
    await egress.upsertOem({ ...oem, allowPrivateNetworks: false });
    await commitRecords(store, 1, 1);
    egress.wake();
    await eventually(async () => (await outcomes()).length === 2, 5_000, 'the second outcome');
    expect(await outcomes()).toEqual(['delivered', 'blocked']);
    expect(sink.hits).toHaveLength(1);
  });

  it("a disabled OEM's rows are put off without an attempt, and delivered once it is enabled", async () => {
    let attempts = 0;
    const oem = await start({
      transport: async () => {
        attempts += 1;
        return { ok: true, status: 200 };
      },
    });
    await egress.upsertOem({ ...oem, enabled: false });
    const committedAt = Date.now();
    await commitRecords(store, 2, 1);
    egress.wake();
    // The worker looked at them and put them off: their next attempt moved past the recheck interval.
    await eventually(
      async () => ((await store.nextDueAt()) ?? 0) >= committedAt + DISABLED_RECHECK_MS / 2,
      5_000,
      'the rows to be put off',
    );
    expect(attempts).toBe(0);
    expect(await store.counts()).toMatchObject({ outboxPending: 2, outboxDead: 0, egressLog: 0 });

    await egress.upsertOem({ ...oem, enabled: true });
    await eventually(async () => (await outcomes()).length === 2, 5_000, 'both deliveries');
    expect([attempts, ...(await outcomes())]).toEqual([2, 'delivered', 'delivered']);
  });
});
