/**
 * The backlog gate ingest asks per record (src/egress/backlog.ts), with a store that counts its
 * reads and a clock the test moves: the age bound costs no store round trip per record, pushes
 * back while an OEM's oldest undelivered row is past it, and says so once, not per reading.
 */
import { describe, expect, it } from 'vitest';
import { createBacklogGate } from '../../src/egress/backlog.js';
import { captureLog } from '../helpers/log-capture.js';

/**
 * A UUIDv7 made at `at` exactly. (The gateway's uuidv7() keeps ids increasing: it would move a
 * time earlier than the last id it made up to that id's.)
 */
const recordIdAt = (at: number) => {
  const h = at.toString(16).padStart(12, '0');
  return `${h.slice(0, 8)}-${h.slice(8)}-7000-8000-000000000000`;
};

/** Settles the background reads the gate started (they are promises on the fake store). */
const settle = () => new Promise((r) => setImmediate(r));

function rig(maxBacklogAgeSeconds: number) {
  const clock = { now: 1_000_000 };
  // The oldest undelivered row per OEM, as the store would report it; none at first.
  const oldest = new Map<string, number>();
  const reads = { count: 0, byOem: 0 };
  const store = {
    outboxBacklog: async () => {
      reads.count += 1;
      return oldest.size;
    },
    outboxBacklogByOem: async () => {
      reads.byOem += 1;
      return [...oldest].map(([oem, at]) => ({ oem, depth: 1, oldestRecordId: recordIdAt(at) }));
    },
  };
  const logs = captureLog('info');
  const gate = createBacklogGate(
    store,
    { maxBacklog: 100_000, maxBacklogAgeSeconds, backlog: { checkEveryMs: 5_000 } },
    { log: logs.log, now: () => clock.now },
  );
  return { clock, oldest, reads, logs, gate };
}

describe('egress backlog gate › the age bound', () => {
  it('reads the oldest rows at most once per backlog.checkEveryMs, however many records ask', async () => {
    const r = rig(120);
    const gate = await r.gate;
    expect(r.reads.byOem).toBe(1); // once at start: a backlog left by the last run counts
    for (let i = 0; i < 10_000; i++) expect(gate.saturated).toBe(false);
    await settle();
    expect(r.reads.byOem).toBe(1);
    r.clock.now += 4_999;
    expect(gate.saturated).toBe(false);
    await settle();
    expect(r.reads.byOem).toBe(1);
    expect(r.reads.count).toBe(2); // the count is read every 100 ms: at start and now
    r.clock.now += 1;
    expect(gate.saturated).toBe(false);
    await settle();
    expect(r.reads.byOem).toBe(2);
  });

  it('pushes back while an OEM’s oldest undelivered row is past the bound, and logs start and end once', async () => {
    const r = rig(120);
    const gate = await r.gate;
    r.oldest.set('oem-b', r.clock.now);
    r.oldest.set('oem-a', r.clock.now - 60_000);
    r.clock.now += 5_000; // a-rows 65 s old: within the bound
    void gate.saturated;
    await settle();
    expect(gate.saturated).toBe(false);
    for (let k = 0; k < 3; k++) {
      r.clock.now += 30_000; // 95, 125, 155 s: past it from the second reading on
      void gate.saturated;
      await settle();
    }
    expect(gate.saturated).toBe(true);
    const started = r.logs.lines().filter((l) => String(l.msg).startsWith('egress: ingest pushed back'));
    expect(started).toHaveLength(1); // two readings past the bound, one line
    expect(started[0]).toMatchObject({ maxBacklogAgeSeconds: 120, oems: [{ oem: 'oem-a', oldestAgeSeconds: 125 }] });

    r.oldest.delete('oem-a'); // delivered: oem-b's row is 95 s old
    r.clock.now += 5_000;
    void gate.saturated;
    await settle();
    expect(gate.saturated).toBe(false);
    expect(r.logs.lines().filter((l) => String(l.msg).startsWith('egress: ingest no longer pushed back'))).toHaveLength(
      1,
    );
  });

  it('with the bound at 0, never reads the rows per OEM and never pushes back for their age', async () => {
    const r = rig(0);
    const gate = await r.gate;
    r.oldest.set('oem-a', r.clock.now - 3_600_000);
    r.clock.now += 60_000;
    expect(gate.saturated).toBe(false);
    await settle();
    expect(gate.saturated).toBe(false);
    expect(r.reads.byOem).toBe(0);
  });
});
