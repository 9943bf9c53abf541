/**
 * With tracing off (the default) the intake makes no spans and no trace contexts for a payload:
 * nothing is recorded, so nothing is allocated for it on the hot path. The record is stored as
 * before, its outbox rows without a traceparent; with tracing on, the same payload gets its
 * receive, projection and commit spans.
 */
import type { Span, SpanOptions, Tracer } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { createCommitter } from '../../src/ingest/committer.js';
import { createIntake } from '../../src/ingest/intake.js';
import { newCar, nextTelemetry, simVin } from '../../src/sim/telemetry.js';
import { createLogger } from '../../src/log.js';
import { disabledTelemetry, type Telemetry } from '../../src/telemetry/index.js';
import type { Store } from '../../src/store/types.js';

describe('intake › telemetry on the hot path', () => {
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  /** The no-op tracer, counting the spans asked of it. */
  const telemetry = (enabled: boolean) => {
    const base = disabledTelemetry();
    const started: string[] = [];
    const tracer: Tracer = {
      startSpan(name: string, opts?: SpanOptions): Span {
        started.push(name);
        return base.tracing.tracer.startSpan(name, opts);
      },
      startActiveSpan: base.tracing.tracer.startActiveSpan.bind(base.tracing.tracer) as Tracer['startActiveSpan'],
    };
    const t: Telemetry = { ...base, tracing: { ...base.tracing, enabled, tracer } };
    return { t, started };
  };

  const accept = async (enabled: boolean) => {
    store = openSqliteStore(':memory:');
    const s = store;
    const committer = createCommitter(s, { maxBatch: 100, maxPending: 1_000 }, () => {});
    const { t, started } = telemetry(enabled);
    const intake = createIntake({ committer, project: async () => [], log: createLogger('silent'), telemetry: t });
    const vin = simVin(1);
    const payload = Buffer.from(JSON.stringify(nextTelemetry(newCar(vin, 1), Date.now())));
    const result = await intake.accept({ vin, oem: 'acme' }, 'mqtt', payload);
    await intake.accept({ vin, oem: 'acme' }, 'mqtt', Buffer.from('not json'));
    return { result, started, store: s };
  };

  it('when tracing is off, a payload starts no span and is stored all the same', async () => {
    const { result, started, store: s } = await accept(false);
    expect(started).toEqual([]);
    expect(result.quarantined).toBe(false);
    expect(await s.counts()).toMatchObject({ records: 1, quarantine: 1 });
  });

  it('when tracing is on, each payload gets its receive, projection and commit spans', async () => {
    const { started } = await accept(true);
    expect(started).toEqual([
      'shekara.ingest.receive',
      'shekara.policy.project',
      'shekara.store.commit',
      'shekara.ingest.receive',
      'shekara.store.commit',
    ]);
  });
});
