/**
 * The keep-alive pool (createTransport, src/egress/deliver.ts): every POST to an OEM address goes
 * through one pool of connections, so a busy OEM costs no TCP (or TLS) handshake per delivery.
 * Counted at a real HTTP OEM endpoint: the connections it accepted over a few hundred deliveries,
 * several in flight at once, are no more than the POSTs the gateway allows in flight.
 */
import { describe, expect, it } from 'vitest';
import { commitRecords, eventually, useEgressRig } from './helpers.js';

describe('egress › keep-alive connections to the OEM', () => {
  const rig = useEgressRig('local');

  it('reuses its connections: at most batch.maxInFlight of them over 200 deliveries', async () => {
    const maxInFlight = 4;
    const vehicles = 50;
    const perVehicle = 4; // 200 rows, one POST each (batch.maxRecords 1)
    const { store, sink, egress } = await rig.start({
      egress: { concurrency: 32 },
      oem: { batch: { maxInFlight } },
    });
    await commitRecords(store, vehicles, perVehicle); // 50 vehicles due at once: POSTs overlap
    egress.wake();
    await eventually(() => sink.posts >= vehicles * perVehicle, 60_000, 'every row delivered');
    expect(sink.posts).toBe(vehicles * perVehicle);
    // More than one: several POSTs were in flight at once (a pool opens another connection only
    // when those it has are busy). At most maxInFlight: each was reused, not opened per request.
    expect(sink.connections).toBeGreaterThan(1);
    expect(sink.connections).toBeLessThanOrEqual(maxInFlight);
  }, 90_000);
});
