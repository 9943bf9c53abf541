/**
 * The gateway checks its own log on a thread of its own (SQLite file store): while it reads back
 * and hashes thousands of leaves the gateway still answers, and an edited log is still found and
 * never signed. The same checks as self-check.test.ts, through the thread, with the test's clock.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createAuditLog, type AuditLog } from '../../src/audit/index.js';
import { selfCheckThread } from '../../src/audit/self-check-thread.js';
import { captureLog, type LogCapture } from '../helpers/log-capture.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { EDIT_ENTRY, egressOnce, tamper, tempStore, type TempStore } from './helpers.js';

const T0 = Date.UTC(2026, 10, 23, 8);
const CFG = { origin: 'shekara.test/egress-log', checkpointIntervalMs: 3_600_000, integrateIntervalMs: 100 };

/** The newest leaf's stored hash overwritten: its entry no longer hashes to it. */
const EDIT_LAST_LEAF = `DROP TRIGGER audit_leaves_no_update;
  UPDATE audit_leaves SET leaf_hash = zeroblob(32) WHERE leaf_index = (SELECT MAX(leaf_index) FROM audit_leaves);`;

describe('egress log › the self-check runs on a thread of its own', () => {
  let gw: TestGateway | undefined;
  afterEach(async () => gw?.stop());

  it('the gateway answers while it checks 5,000 new leaves, and an edited leaf among them is found and not signed', async () => {
    gw = await startTestGateway({
      cars: 0,
      config: { audit: { checkpointIntervalMs: 3_600_000 }, store: { kind: 'sqlite' } },
    });
    const signedBefore = (await gw.app.store.latestCheckpoint())?.size ?? 0;
    for (let i = 0; i < 5_000; i++)
      await gw.app.store.appendAuditEvent('incident', T0 + i, { incident: `i-${i}`, status: 'open' });
    tamper(path.join(gw.dir, 'shekara.db'), EDIT_LAST_LEAF);

    let verdict: 'pending' | 'settled' = 'pending';
    const signing = gw.app.audit.checkpointNow().finally(() => (verdict = 'settled'));
    signing.catch(() => undefined);
    // Asked after the check began: on the main thread the check would hold the event loop until its verdict.
    const res = await fetch(`${gw.httpUrl}/readyz`);
    expect(await res.json()).toEqual({ status: 'ready' });
    expect(verdict).toBe('pending');

    await expect(signing).rejects.toMatchObject({ code: 'SHK_AUDIT_SELF_CHECK', details: { reason: 'leaf-mismatch' } });
    expect(gw.app.audit.alarm).toMatchObject({ code: 'SHK_AUDIT_SELF_CHECK', reason: 'leaf-mismatch' });
    expect((await gw.app.store.latestCheckpoint())?.size ?? 0).toBe(signedBefore);
    expect(await (await fetch(`${gw.httpUrl}/readyz`)).json()).toMatchObject({
      status: 'degraded',
      problems: [{ code: 'SHK_AUDIT_SELF_CHECK', reason: 'leaf-mismatch' }],
    });
  });
});

describe('egress log › the self-check thread keeps the checks of the main thread', () => {
  let t: TempStore;
  let audit: AuditLog | undefined;
  let logs: LogCapture;
  let clock = T0;
  const now = () => clock;
  afterEach(async () => {
    await audit?.close();
    audit = undefined;
    await t?.dispose();
  });

  const open = async () => {
    logs = captureLog();
    audit = await createAuditLog(CFG, { store: t.store, log: logs.log, now, selfCheckThread: true });
  };
  async function logWith(n: number): Promise<void> {
    t = tempStore();
    await open();
    for (let i = 0; i < n; i++)
      await egressOnce(t.store, { vin: `LTEST0000000000${String(i).padStart(2, '0')}`, at: T0 + i * 1000 });
    await audit!.checkpointNow();
  }
  const restart = async () => {
    await audit?.close();
    await t.reopen();
    await open();
  };

  it('signs an untouched log, across a restart', async () => {
    await logWith(6);
    await restart();
    await egressOnce(t.store, { vin: 'LTEST0000000000XX', at: T0 + 10_000 });
    expect((await audit!.checkpointNow()).size).toBe(7);
    expect(audit!.alarm).toBeUndefined();
  });

  it('at start, finds an entry edited in place, with the same message and details', async () => {
    await logWith(8);
    tamper(t.file, EDIT_ENTRY(4));
    await restart();
    expect(audit!.alarm).toMatchObject({ code: 'SHK_AUDIT_SELF_CHECK', reason: 'leaf-mismatch' });
    expect(audit!.alarm!.message).toContain('leaf 3 (entry seq 4) does not hash to its stored leaf hash');
    const lines = logs.lines().filter((l) => l.code === 'SHK_AUDIT_SELF_CHECK');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 50, reason: 'leaf-mismatch', index: 3, seq: 4 });
  });

  it("finds an already signed entry edited in place by the rolling re-check, paced by the caller's clock", async () => {
    await logWith(6);
    tamper(t.file, EDIT_ENTRY(2));
    await egressOnce(t.store, { vin: 'LTEST0000000000ZZ', at: T0 + 40_000 });
    clock += 1_000;
    await expect(audit!.checkpointNow()).rejects.toMatchObject({ code: 'SHK_AUDIT_SELF_CHECK' });
    expect(audit!.alarm!.message).toContain('leaf 1 (entry seq 2)');
  });
});

describe('egress log › a self-check thread that fails', () => {
  it('fails the check under way with an error line, never a root, and the next check starts a new thread', async () => {
    const logs = captureLog();
    const t = tempStore();
    const missing = path.join(t.dir, 'gone', 'shekara.db');
    const check = selfCheckThread(missing, { log: logs.log, now: Date.now });
    try {
      await expect(check.check(0, undefined, Buffer.alloc(32))).rejects.toThrow();
      expect(logs.lines().some((l) => l.level === 50 && /self-check thread/.test(String(l.msg)))).toBe(true);
      await expect(check.check(0, undefined, Buffer.alloc(32))).rejects.toThrow();
    } finally {
      await check.close();
      await t.dispose();
    }
  });
});
