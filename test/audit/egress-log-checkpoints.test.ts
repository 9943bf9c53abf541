/** Signed checkpoints of the egress log, with an injected clock. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAuditLog } from '../../src/audit/index.js';
import { parseAndVerifyCheckpoint } from '../../src/audit/checkpoint.js';
import { verifyExport } from '../../src/audit/verify.js';
import { exportLines } from '../../src/audit/export.js';
import { createLogger } from '../../src/log.js';
import { configFor, egressOnce, shekara, tempStore, type TempStore } from './helpers.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 23, 9);
const cfg = { origin: 'shekara.test/egress-log', checkpointIntervalMs: 60_000, integrateIntervalMs: 100 };
const log = createLogger('silent');

const collect = async (it: AsyncIterable<string>) => {
  const out: string[] = [];
  for await (const l of it) out.push(l);
  return out;
};

describe('egress log › checkpoints', () => {
  let t: TempStore;
  let clock: number;
  beforeEach(() => {
    t = tempStore();
    clock = T0;
  });
  afterEach(() => t.dispose());

  it('two checkpoints taken an hour apart verify as consistent, in the library and with `shekara verify`', async () => {
    const audit = await createAuditLog(cfg, { store: t.store, log, now: () => clock });
    for (let i = 0; i < 11; i++)
      await egressOnce(t.store, { vin: `LTEST0000000000${String(i).padStart(2, '0')}`, at: clock + i });
    const first = await audit.checkpointNow();
    clock += HOUR;
    for (let i = 0; i < 6; i++) await egressOnce(t.store, { vin: `LTEST0000000001${i}0`, at: clock + i });
    const second = await audit.checkpointNow();
    await audit.close();

    expect([first.size, second.size]).toEqual([11, 17]);
    expect(second.signedAt - first.signedAt).toBe(HOUR);
    expect(parseAndVerifyCheckpoint(second.note, audit.verifierKey).rootHash.equals(second.root)).toBe(true);

    const lines = await collect(exportLines(t.store, second.size));
    const report = await verifyExport({
      lines,
      verifierKey: audit.verifierKey,
      checkpoints: [
        { label: 'a', note: first.note },
        { label: 'b', note: second.note },
      ],
    });
    expect(report.consistency).toEqual({ from: 11, to: 17, proofHashes: expect.any(Number) });

    const files = {
      exp: path.join(t.dir, 'export.ndjson'),
      a: path.join(t.dir, 'cp-a.txt'),
      b: path.join(t.dir, 'cp-b.txt'),
      key: path.join(t.dir, 'key.txt'),
    };
    writeFileSync(files.exp, lines.join(''));
    writeFileSync(files.a, first.note);
    writeFileSync(files.b, second.note);
    writeFileSync(files.key, `${audit.verifierKey}\n`);
    const r = await shekara(
      'verify',
      '--export',
      files.exp,
      '--checkpoint',
      files.a,
      '--checkpoint',
      files.b,
      '--pubkey',
      files.key,
      '--entry',
      '13',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('verified: 17 leaves of shekara.test/egress-log');
    expect(r.stdout).toMatch(/consistent: size 11 → 17/);
    expect(r.stdout).toMatch(/entry seq 13 \(leaf 12\) is included in checkpoint 17/);
  });

  it('signs only when the log grew, and keeps one key across restarts', async () => {
    const a = await createAuditLog(cfg, { store: t.store, log, now: () => clock });
    const empty = await a.checkpointNow();
    expect(empty.size).toBe(0);
    expect(await a.checkpointNow()).toEqual(empty);
    await a.close();
    await t.reopen();
    const b = await createAuditLog(cfg, { store: t.store, log, now: () => clock });
    expect(b.verifierKey).toBe(a.verifierKey);
    await b.close();
    await expect(createAuditLog({ ...cfg, origin: 'other.test/log' }, { store: t.store, log })).rejects.toThrow(
      /audit.origin is "other.test\/log" but this store's egress log is "shekara.test\/egress-log"/,
    );
  });

  it('refuses to sign a tree that is not consistent with the last checkpoint', async () => {
    const audit = await createAuditLog(cfg, { store: t.store, log, now: () => clock });
    for (let i = 0; i < 6; i++) await egressOnce(t.store, { vin: `LTEST00000000000${i}`, at: clock + i });
    await audit.checkpointNow();
    await egressOnce(t.store, { vin: 'LTEST000000000009', at: clock + 9 });
    // Someone rewrites history under the store: the subtree of leaves 0–3.
    const raw = new Database(t.file);
    raw.exec(
      `DROP TRIGGER audit_nodes_no_update; UPDATE audit_nodes SET hash = zeroblob(32) WHERE level = 2 AND idx = 0`,
    );
    raw.close();
    // The leaves rebuild the true root; the stored nodes that proofs come from give another.
    await expect(audit.checkpointNow()).rejects.toThrow(
      expect.objectContaining({ code: 'SHK_AUDIT_SELF_CHECK', details: { reason: 'node-mismatch' } }),
    );
    expect((await t.store.latestCheckpoint())!.size).toBe(6);
    await audit.close();
  });

  it('`shekara audit pubkey` prints the verifier key the checkpoints verify under', async () => {
    const config = configFor(t.dir);
    const audit = await createAuditLog(cfg, { store: t.store, log });
    const cp = await audit.checkpointNow();
    await audit.close();
    await t.store.close();
    const r = await shekara('audit', 'pubkey', '-c', config);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(audit.verifierKey);
    expect(r.stdout).not.toContain('PRIVATE');
    expect(parseAndVerifyCheckpoint(cp.note, r.stdout.trim()).size).toBe(0);
  });
});
