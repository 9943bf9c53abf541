/**
 * The exactly-once MQTT QoS 2 state on every Store backend: a QoS 2 packet id is written in the
 * same transaction as its record (or quarantine row), survives a reopen (a gateway restart),
 * and is forgotten on release or erasure.
 */
import { describe, expect, it } from 'vitest';
import { backends, useBackend, record, item, T0, VIN1, VIN2 } from './backends.js';

describe.each(backends())('store conformance, MQTT QoS 2: $name', (backend) => {
  const { fresh, second } = useBackend(backend);

  it('keeps the packet id of a QoS 2 record from its commit until it is released, across a reopen', async () => {
    const store = await fresh();
    const [a, b] = [record(), record({ vin: VIN2 })];
    await store.commitIngest([
      { ...item(a), mqttQos2: 7 },
      item(b),
      {
        kind: 'quarantine',
        item: { id: 'q1', vin: VIN1, channel: 'mqtt', receivedAt: T0, reason: 'not JSON', raw: Buffer.from('x') },
        mqttQos2: 9,
      },
    ]);
    expect(await store.pendingMqttQos2(VIN1)).toEqual([7, 9]);
    expect(await store.pendingMqttQos2(VIN2)).toEqual([]);
    const again = await second();
    expect(await again.pendingMqttQos2(VIN1)).toEqual([7, 9]);
    await again.releaseMqttQos2(VIN1, [7]);
    expect(await store.pendingMqttQos2(VIN1)).toEqual([9]);
    await store.releaseMqttQos2(VIN1, []);
    await store.releaseMqttQos2(VIN1, [9, 10]);
    expect(await store.pendingMqttQos2(VIN1)).toEqual([]);
  });

  it('writes no packet id when the batch fails, and lets a newer message take over an id', async () => {
    const store = await fresh();
    const r = record();
    await store.commitIngest([{ ...item(r), mqttQos2: 3 }]);
    await expect(store.commitIngest([{ ...item(record()), mqttQos2: 4 }, item(r)])).rejects.toThrow();
    expect(await store.pendingMqttQos2(VIN1)).toEqual([3]);
    await store.commitIngest([{ ...item(record()), mqttQos2: 3 }]);
    expect(await store.pendingMqttQos2(VIN1)).toEqual([3]);
  });

  it('forgets the packet ids of an erased vehicle', async () => {
    const store = await fresh();
    await store.commitIngest([{ ...item(record()), mqttQos2: 5 }]);
    await store.eraseVehicle(VIN1);
    expect(await store.pendingMqttQos2(VIN1)).toEqual([]);
  });

  it('keeps the broker delivery of each record from its commit; a reused packet id takes the newer; erasure forgets it', async () => {
    const store = await fresh();
    const d = (packetId: number, digest: string) => ({ session: 'shk-a-0', packetId, digest });
    const [a, b, c] = [record(), record({ vin: VIN2 }), record()];
    await store.commitIngest([
      { ...item(a), brokerDelivery: d(1, 'x') },
      { ...item(b), brokerDelivery: d(2, 'y') },
    ]);
    // A failed batch writes none of its deliveries.
    await expect(store.commitIngest([{ ...item(record()), brokerDelivery: d(3, 'z') }, item(a)])).rejects.toThrow();
    const again = await second();
    expect(await again.brokerDelivery('shk-a-0', 1)).toEqual({ recordId: a.id, digest: 'x' });
    expect(await again.brokerDelivery('shk-a-0', 3)).toBeUndefined();
    expect(await again.brokerDelivery('shk-b-0', 1)).toBeUndefined();
    await store.commitIngest([{ ...item(c), brokerDelivery: d(1, 'w') }]);
    expect(await store.brokerDelivery('shk-a-0', 1)).toEqual({ recordId: c.id, digest: 'w' });
    await store.eraseVehicle(VIN1);
    expect(await store.brokerDelivery('shk-a-0', 1)).toBeUndefined();
    expect(await store.brokerDelivery('shk-a-0', 2)).toEqual({ recordId: b.id, digest: 'y' });
  });
});
