/**
 * When the store pushes back (commit queue full or egress saturated), a caller that asks the
 * intake to retry gets the same decoded record and projections submitted again: the payload is
 * decoded and the policy evaluated once, and one record is stored, with one id.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { createCommitter } from '../../src/ingest/committer.js';
import { createIntake } from '../../src/ingest/intake.js';
import { BACKPRESSURE_MAX_WAIT_MS, pushbackRetry } from '../../src/ingest/pushback.js';
import { newCar, nextTelemetry, simVin } from '../../src/sim/telemetry.js';
import { createLogger } from '../../src/log.js';
import type { CanonicalRecord, Projection } from '../../src/record.js';
import type { Store } from '../../src/store/types.js';

describe('intake under push-back', () => {
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  const setup = (pushBacks: number) => {
    store = openSqliteStore(':memory:');
    let saturated = pushBacks;
    const committer = createCommitter(
      store,
      { maxBatch: 100, maxPending: 1_000, saturated: () => saturated-- > 0 },
      () => {},
    );
    const projected: string[] = [];
    const intake = createIntake({
      committer,
      project: async (r: CanonicalRecord): Promise<Projection[]> => {
        projected.push(r.id);
        return [];
      },
      log: createLogger('silent'),
    });
    const vin = simVin(1);
    const payload = Buffer.from(JSON.stringify(nextTelemetry(newCar(vin, 1), Date.now())));
    return { intake, projected, vin, payload, store };
  };

  it('decodes and projects once, however many times the commit is pushed back', async () => {
    const { intake, projected, vin, payload, store } = setup(3);
    const result = await intake.accept({ vin, oem: 'acme' }, 'mqtt', payload, {
      retry: { afterMs: 1, again: () => true },
    });
    expect(projected).toEqual([result.recordId]);
    expect(await store.counts()).toMatchObject({ records: 1 });
    expect((await store.getRecord(result.recordId))?.record.vin).toBe(vin);
  });

  it('rejects with the push-back once the caller stops asking, and stores nothing', async () => {
    const { intake, projected, vin, payload, store } = setup(1_000_000);
    await expect(
      intake.accept({ vin, oem: 'acme' }, 'mqtt', payload, { retry: { afterMs: 1, again: () => false } }),
    ).rejects.toMatchObject({ code: 'SHK_INGEST_BACKPRESSURE' });
    expect(projected).toHaveLength(1);
    expect(await store.counts()).toMatchObject({ records: 0 });
  });
});

describe('pushback wait', () => {
  const clock = () => {
    let t = 1_000_000;
    return { now: () => t, pass: (ms: number) => (t += ms) };
  };

  it('keeps waiting for a connected car with no bound, past the 30 s the other channels wait', () => {
    const c = clock();
    let connected = true;
    const retry = pushbackRetry(() => connected, Infinity, c.now);
    c.pass(BACKPRESSURE_MAX_WAIT_MS + 1);
    expect(retry.again()).toBe(true);
    c.pass(3_600_000); // an hour-long OEM outage
    expect(retry.again()).toBe(true);
    connected = false; // the car left: its message was never acknowledged, it sends it again
    expect(retry.again()).toBe(false);
  });

  it('gives up after the bound it is given, 30 s unless told', () => {
    const c = clock();
    const told = pushbackRetry(() => true, 5_000, c.now);
    const unbound = pushbackRetry(() => true, undefined, c.now);
    c.pass(4_999);
    expect([told.again(), unbound.again()]).toEqual([true, true]);
    c.pass(1);
    expect(told.again()).toBe(false);
    c.pass(BACKPRESSURE_MAX_WAIT_MS - 5_000);
    expect(unbound.again()).toBe(false);
  });
});
