/**
 * The gateway checks its own log: a store edited behind its back (append-only triggers dropped,
 * an entry or a leaf hash rewritten) stops the signing of checkpoints and raises an alarm: an
 * error line, the `shekara_audit_self_check_failed` gauge and `/readyz` `degraded`. A log that
 * was not touched signs as before. Real SQLite files, edited through a second raw connection.
 */
import path from 'node:path';
import { stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { createAuditLog, type AuditLog } from '../../src/audit/index.js';
import { parseConfig } from '../../src/config/load.js';
import { RECHECK_PER_SECOND } from '../../src/audit/self-check.js';
import { entryLeafHash } from '../../src/audit/leaf.js';
import { captureLog, type LogCapture } from '../helpers/log-capture.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { EDIT_ENTRY, egressOnce, tamper, tempStore, type TempStore } from './helpers.js';

const T0 = Date.UTC(2026, 10, 23, 8);
const CFG = { origin: 'shekara.test/egress-log', checkpointIntervalMs: 3_600_000, integrateIntervalMs: 100 };

describe('egress log › the gateway checks its own log before signing', () => {
  let t: TempStore;
  let audit: AuditLog | undefined;
  let logs: LogCapture;
  afterEach(async () => {
    await audit?.close();
    audit = undefined;
    await t?.dispose();
  });

  // The re-check of old leaves is paced by this clock (RECHECK_PER_SECOND per second between checks).
  let clock = T0;
  const now = () => clock;
  let leavesRead = 0;
  /** The store, counting the leaves the self-check reads back. */
  const counted = (store: TempStore['store']): TempStore['store'] =>
    new Proxy(store, {
      get(target, key) {
        if (key === 'exportLeaves')
          return async (...args: Parameters<TempStore['store']['exportLeaves']>) => {
            const page = await target.exportLeaves(...args);
            leavesRead += page.length;
            return page;
          };
        const v = Reflect.get(target, key) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });

  async function logWith(n: number): Promise<void> {
    t = tempStore();
    logs = captureLog();
    audit = await createAuditLog(CFG, { store: counted(t.store), log: logs.log, now });
    for (let i = 0; i < n; i++)
      await egressOnce(t.store, { vin: `LTEST0000000000${String(i).padStart(2, '0')}`, at: T0 + i * 1000 });
    await audit.checkpointNow();
  }
  const restart = async () => {
    await audit?.close();
    await t.reopen();
    logs = captureLog();
    audit = await createAuditLog(CFG, { store: counted(t.store), log: logs.log, now });
  };
  const alarms = () => logs.lines().filter((l) => l.code === 'SHK_AUDIT_SELF_CHECK' || l.code === 'SHK_AUDIT_PROOF');

  it('signs an untouched log as before, across a restart', async () => {
    await logWith(6);
    await restart();
    await egressOnce(t.store, { vin: 'LTEST0000000000XX', at: T0 + 10_000 });
    const cp = await audit!.checkpointNow();
    expect(cp.size).toBe(7);
    expect(audit!.alarm).toBeUndefined();
    expect(alarms()).toEqual([]);
  });

  it('at start, finds an entry edited in place and stops signing (the start itself goes on)', async () => {
    await logWith(8);
    tamper(t.file, EDIT_ENTRY(4));
    await restart();
    expect(audit!.alarm).toMatchObject({ code: 'SHK_AUDIT_SELF_CHECK', reason: 'leaf-mismatch' });
    expect(audit!.alarm!.message).toContain('leaf 3 (entry seq 4) does not hash to its stored leaf hash');
    // One error line, naming the leaf and the entry, never its content.
    const lines = alarms();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 50, reason: 'leaf-mismatch', index: 3, seq: 4 });
    // More outcomes arrive: nothing is signed over them.
    await egressOnce(t.store, { vin: 'LTEST0000000000XX', at: T0 + 20_000 });
    await expect(audit!.checkpointNow()).rejects.toMatchObject({ code: 'SHK_AUDIT_SELF_CHECK' });
    expect((await t.store.latestCheckpoint())!.size).toBe(8);
    expect(alarms()).toHaveLength(1);
  });

  it('at start, finds an entry and its leaf hash both rewritten: the last checkpoint does not sign them', async () => {
    await logWith(8);
    tamper(t.file, EDIT_ENTRY(3));
    // A careful forger also writes the forged entry's hash into the leaf, and leaves the nodes alone.
    const [leaf] = await t.store.exportLeaves(1, 3, 1);
    tamper(
      t.file,
      `DROP TRIGGER audit_leaves_no_update; UPDATE audit_leaves SET leaf_hash = x'${entryLeafHash(leaf!.entry).toString('hex')}' WHERE leaf_index = 2`,
    );
    await restart();
    expect(audit!.alarm).toMatchObject({ code: 'SHK_AUDIT_SELF_CHECK', reason: 'root-mismatch' });
    expect(audit!.alarm!.message).toContain('is not the one the last checkpoint signed');
  });

  it('while running, finds an edited entry that is not signed yet, and never signs it', async () => {
    await logWith(4);
    for (let i = 0; i < 3; i++) await egressOnce(t.store, { vin: `LTEST00000000Y${i}`, at: T0 + 30_000 + i });
    tamper(t.file, EDIT_ENTRY(6));
    await expect(audit!.checkpointNow()).rejects.toMatchObject({ code: 'SHK_AUDIT_SELF_CHECK' });
    expect((await t.store.latestCheckpoint())!.size).toBe(4);
    expect(audit!.alarm).toMatchObject({ reason: 'leaf-mismatch' });
  });

  it('while running, finds an already signed entry edited in place at the next signing a second later (rolling re-check)', async () => {
    await logWith(6);
    tamper(t.file, EDIT_ENTRY(2));
    await egressOnce(t.store, { vin: 'LTEST0000000000ZZ', at: T0 + 40_000 });
    clock += 1_000;
    await expect(audit!.checkpointNow()).rejects.toMatchObject({ code: 'SHK_AUDIT_SELF_CHECK' });
    expect(audit!.alarm!.message).toContain('leaf 1 (entry seq 2)');
  });

  it('re-reads old leaves at RECHECK_PER_SECOND, however often it signs', async () => {
    await logWith(40);
    leavesRead = 0;
    // A burst of signings 1 ms apart (the API asks for one when a regulator looks up a fresh entry).
    for (let i = 0; i < 10; i++) {
      clock += 1;
      await audit!.checkpointNow();
    }
    expect(leavesRead).toBe(10); // 10 ms at 1,000 a second, not the whole log at each signing
    expect(RECHECK_PER_SECOND).toBe(1_000);
    expect(audit!.alarm).toBeUndefined();
  });

  it('finds an edit to an old leaf within two passes: 2 × ⌈size / RECHECK_PER_SECOND⌉ s plus two intervals', async () => {
    const size = 40;
    await logWith(size);
    tamper(t.file, EDIT_ENTRY(31));
    const intervalMs = 5; // signings 5 ms apart: 5 old leaves each
    const boundMs = 2 * Math.ceil((size / RECHECK_PER_SECOND) * 1000) + 2 * intervalMs;
    let signings = 0;
    while (!audit!.alarm && signings * intervalMs <= boundMs) {
      clock += intervalMs;
      signings += 1;
      await audit!.checkpointNow().catch(() => undefined);
    }
    expect(audit!.alarm).toMatchObject({ code: 'SHK_AUDIT_SELF_CHECK', reason: 'leaf-mismatch' });
    expect(audit!.alarm!.message).toContain('leaf 30 (entry seq 31)');
    expect(signings * intervalMs).toBeLessThanOrEqual(boundMs);
    expect((await t.store.latestCheckpoint())!.size).toBe(size); // nothing signed since the edit grew the log
  });
});

describe('egress log › a failed self-check as an operator sees it', () => {
  let gw: TestGateway | undefined;
  afterEach(async () => gw?.stop());

  const config = {
    telemetry: { metrics: { prometheus: { enabled: true, port: 0 } } },
    audit: { checkpointIntervalMs: 3_600_000 },
    store: { kind: 'sqlite' },
  };
  const readyz = async (g: TestGateway) => {
    const res = await fetch(`${g.httpUrl}/readyz`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const gauge = async (g: TestGateway) =>
    (await (await fetch(`http://127.0.0.1:${g.app.telemetry.metrics.prometheusPort}/metrics`)).text()).match(
      /^shekara_audit_self_check_failed(?:\{[^}]*\})? (\d+)$/m,
    )?.[1];

  /**
   * A store with three outcomes and a checkpoint over them, signed with the gateway's own audit
   * config, as a stopped gateway leaves it: the gateway under test starts on it. Written without a
   * gateway of its own (a start costs more than the rest of a case); that a fresh gateway is
   * ready is the third case's first check.
   */
  async function signedLog(vinPrefix: string): Promise<TempStore> {
    const dir = tempStore('shekara-test-');
    const { audit: cfg } = parseConfig(stringify({ ...config, dataDir: dir.dir }), 'test-config.yaml', dir.dir, {
      env: {},
    });
    const log = await createAuditLog(cfg, { store: dir.store, log: captureLog().log });
    for (let i = 0; i < 3; i++) await egressOnce(dir.store, { vin: `${vinPrefix}${i}`, at: T0 + i, oem: 'demo-oem' });
    await log.checkpointNow();
    await log.close();
    await dir.store.close();
    return dir;
  }

  it('/readyz answers degraded with the reason and the gauge reads 1; the gateway still starts', async () => {
    const first = await signedLog('LTEST000000000R');
    tamper(first.file, EDIT_ENTRY(2));

    gw = await startTestGateway({ cars: 0, config, dir: first.dir });
    const res = await fetch(`${gw.httpUrl}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      status: 'degraded',
      problems: [{ code: 'SHK_AUDIT_SELF_CHECK', reason: 'leaf-mismatch' }],
    });
    const metrics = await (await fetch(`http://127.0.0.1:${gw.app.telemetry.metrics.prometheusPort}/metrics`)).text();
    expect(metrics).toMatch(/^shekara_audit_self_check_failed(?:\{[^}]*\})? 1$/m);
  });

  // Degraded is 200, not 503 (docs/deployment.md "Health"): every instance on the store sees the
  // same edited log, so a 503 would take all of them out of service over an evidence problem.
  it('a log whose tail was deleted is degraded too (SHK_AUDIT_PROOF log-shrank), and cars are still served', async () => {
    const first = await signedLog('LTEST000000000S');
    tamper(first.file, 'DROP TRIGGER audit_leaves_no_delete; DELETE FROM audit_leaves WHERE leaf_index >= 1;');

    gw = await startTestGateway({ cars: 1, config, dir: first.dir });
    expect(await readyz(gw)).toMatchObject({
      status: 200,
      body: { status: 'degraded', problems: [{ code: 'SHK_AUDIT_PROOF', reason: 'log-shrank' }] },
    });
    expect(await gauge(gw)).toBe('1');
    const car = gw.cars[0]!;
    const posted = await fetch(`${gw.httpUrl}/v1/vehicles/${car.vin}/telemetry`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from(`${car.vin}:${car.secret}`).toString('base64')}`,
      },
      body: JSON.stringify({ speed: 40 }),
    });
    expect(posted.status).toBe(202);
  });

  it('turns degraded while running, without a restart, at the first signing once the re-check reached the edit', async () => {
    gw = await startTestGateway({ cars: 0, config });
    for (let i = 0; i < 3; i++)
      await egressOnce(gw.app.store, { vin: `LTEST000000000T${i}`, at: T0 + i, oem: 'demo-oem' });
    await gw.app.audit.checkpointNow();
    expect(await readyz(gw)).toEqual({ status: 200, body: { status: 'ready' } });
    expect(await gauge(gw)).toBe('0');
    tamper(path.join(gw.dir, 'shekara.db'), EDIT_ENTRY(2));
    await egressOnce(gw.app.store, { vin: 'LTEST000000000T9', at: T0 + 9, oem: 'demo-oem' });
    // The re-check of old leaves is paced by time (1,000 a second): 100 ms covers the three.
    await new Promise((r) => setTimeout(r, 100));
    await expect(gw.app.audit.checkpointNow()).rejects.toMatchObject({ code: 'SHK_AUDIT_SELF_CHECK' });
    expect(await readyz(gw)).toMatchObject({
      status: 200,
      body: { status: 'degraded', problems: [{ code: 'SHK_AUDIT_SELF_CHECK', reason: 'leaf-mismatch' }] },
    });
    expect(await gauge(gw)).toBe('1');
  });
});
