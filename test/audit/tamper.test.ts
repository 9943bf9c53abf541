/**
 * Tamper evidence, end to end with the built CLI: the operator exports the log, the regulator
 * runs `shekara verify` with only the export, the checkpoint and the public key. Any altered
 * stored entry, stored leaf hash, export line or checkpoint — or a truncated or reordered log —
 * makes it exit non-zero and say where.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createAuditLog } from '../../src/audit/index.js';
import { createLogger } from '../../src/log.js';
import { verifyCommand } from '../../src/cli/verify.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { configFor, egressOnce, shekara } from './helpers.js';

const T0 = Date.UTC(2026, 10, 23, 8);
const N = 12;

describe('egress log › tamper evidence with `shekara verify`', () => {
  let dir: string;
  const f = (name: string) => path.join(dir, name);

  /** A copy of the store, altered through a raw SQLite connection that drops the append-only trigger first. */
  async function exportAltered(name: string, sql: string): Promise<string> {
    const copy = mkdtempSync(path.join(dir, `${name}-`));
    copyFileSync(f('shekara.db'), path.join(copy, 'shekara.db'));
    // The store's secrets are sealed by the key file beside it (keys apart from data): a copy
    // of the store is readable only with that key, so the copy takes it along, owner-only.
    mkdirSync(path.join(copy, 'keys'), { mode: 0o700 });
    copyFileSync(path.join(f('keys'), 'store.key'), path.join(copy, 'keys', 'store.key'));
    const raw = new Database(path.join(copy, 'shekara.db'));
    raw.exec(sql);
    raw.close();
    const out = path.join(copy, 'export.ndjson');
    const r = await shekara('audit', 'export', '-c', configFor(copy), '--size', String(N), '--out', out);
    expect(r.code).toBe(0);
    return out;
  }
  const verify = (exp: string, cp = f('cp.txt')) =>
    shekara('verify', '--export', exp, '--checkpoint', cp, '--pubkey', f('key.txt'), '--quiet');

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'shekara-tamper-'));
    const store = openSqliteStore(f('shekara.db'));
    const audit = await createAuditLog(
      { origin: 'shekara.test/egress-log', checkpointIntervalMs: 60_000, integrateIntervalMs: 100 },
      { store, log: createLogger('silent') },
    );
    for (let i = 0; i < N; i++)
      await egressOnce(store, { vin: `LTEST0000000000${String(i).padStart(2, '0')}`, at: T0 + i * 1000 });
    await audit.checkpointNow();
    await audit.close();
    await store.close();
    const config = configFor(dir);
    const key = await shekara('audit', 'pubkey', '-c', config);
    writeFileSync(f('key.txt'), key.stdout);
    const cp = await shekara('audit', 'checkpoint', '-c', config);
    writeFileSync(f('cp.txt'), cp.stdout);
    const exp = await shekara('audit', 'export', '-c', config, '--out', f('export.ndjson'));
    expect(exp.code).toBe(0);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("accepts the untouched log and proves an entry's inclusion", async () => {
    const r = await shekara(
      'verify',
      '--export',
      f('export.ndjson'),
      '--checkpoint',
      f('cp.txt'),
      '--pubkey',
      f('key.txt'),
      '--entry',
      '5',
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`verified: ${N} leaves`);
    expect(r.stdout).toContain('entry seq 5 (leaf 4) is included in checkpoint 12');
  });

  it('-q prints nothing on success: the exit status is the answer', async () => {
    const r = await verify(f('export.ndjson'));
    expect([r.code, r.stdout, r.stderr]).toEqual([0, '', '']);
  });

  it('prints no progress line for a short log, however slow the machine: stderr stays for failures', async () => {
    // A loaded machine (a CI run) made `verify` of 1,868 leaves take over a second, and the final
    // count came out on stderr as "verify: 1868 leaves checked…" just before the report said the
    // same on stdout. A clock that jumps 2 s per reading stands in for the slow machine.
    let t = Date.now();
    const clock = vi.spyOn(Date, 'now').mockImplementation(() => (t += 2_000));
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const written = { stderr: [] as string[], stdout: '' };
    try {
      await verifyCommand({ export: f('export.ndjson'), checkpoint: [f('cp.txt')], pubkey: f('key.txt') });
    } finally {
      written.stderr = err.mock.calls.map(([text]) => String(text));
      written.stdout = out.mock.calls.map(([text]) => String(text)).join('');
      clock.mockRestore();
      err.mockRestore();
      out.mockRestore();
    }
    expect(written.stderr).toEqual([]);
    expect(written.stdout).toContain(`verified: ${N} leaves`);
  });

  it('fails naming the entry when one stored entry was altered in the store', async () => {
    const exp = await exportAltered(
      'entry',
      `DROP TRIGGER egress_log_no_update; UPDATE egress_log SET destination_country = 'KZ' WHERE seq = 7`,
    );
    const r = await verify(exp);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'SHK_AUDIT_EXPORT: line 7 (leaf index 6, entry seq 7): the entry does not hash to its leafHash',
    );
  });

  it('fails when a stored entry and its stored leaf hash were both rewritten: the signed root no longer matches', async () => {
    const exp0 = await exportAltered(
      'both',
      `DROP TRIGGER egress_log_no_update; UPDATE egress_log SET fields_sent = '["Vehicle.Speed","Vehicle.CurrentLocation.Latitude"]' WHERE seq = 3`,
    );
    // Recompute the leaf hash of the forged entry and write it back too, as a careful forger would.
    const lines = readFileSync(exp0, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { leafHash: string; entry: Record<string, unknown> });
    const { entryLeafHash } = await import('../../src/audit/leaf.js');
    const forged = entryLeafHash(lines[2]!.entry).toString('hex');
    const exp = await exportAltered(
      'both2',
      `DROP TRIGGER egress_log_no_update; UPDATE egress_log SET fields_sent = '["Vehicle.Speed","Vehicle.CurrentLocation.Latitude"]' WHERE seq = 3;
      DROP TRIGGER audit_leaves_no_update; UPDATE audit_leaves SET leaf_hash = x'${forged}' WHERE leaf_index = 2`,
    );
    const r = await verify(exp);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('SHK_AUDIT_PROOF: checkpoint');
    expect(r.stderr).toContain('the root of the first 12 leaves of the export is not the signed root');
  });

  it('fails naming the line when one byte of a stored leaf hash was altered', async () => {
    const exp = await exportAltered(
      'leaf',
      `DROP TRIGGER audit_leaves_no_update; UPDATE audit_leaves SET leaf_hash = zeroblob(32) WHERE leaf_index = 9`,
    );
    const r = await verify(exp);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('line 10 (leaf index 9, entry seq 10)');
  });

  it('fails when a forged leaf follows the last checkpoint, unless told --allow-unsigned-tail', async () => {
    const text = readFileSync(f('export.ndjson'), 'utf8').trim();
    const last = JSON.parse(text.split('\n').at(-1)!) as { index: number; entry: Record<string, unknown> };
    const { entryLeafHash } = await import('../../src/audit/leaf.js');
    const entry = {
      ...last.entry,
      index: last.index + 1,
      seq: (last.entry.seq as number) + 1,
      destinationCountry: 'KZ',
    };
    const forged = { index: last.index + 1, leafHash: entryLeafHash(entry).toString('hex'), entry };
    writeFileSync(f('tail.ndjson'), `${text}\n${JSON.stringify(forged)}\n`);
    const r = await verify(f('tail.ndjson'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'SHK_AUDIT_CHECKPOINT: 1 leaves after the largest checkpoint (size 12) are not covered by a signature',
    );
    const allowed = await shekara(
      'verify',
      '--export',
      f('tail.ndjson'),
      '--checkpoint',
      f('cp.txt'),
      '--pubkey',
      f('key.txt'),
      '--allow-unsigned-tail',
    );
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toContain('note: 1 leaves after the largest checkpoint are not covered by a signature');
  });

  it('fails naming the line when one byte of an export line was altered', async () => {
    const text = readFileSync(f('export.ndjson'), 'utf8');
    const at = text.indexOf('"pseudonym":"p-000004"');
    const altered = f('byte.ndjson');
    writeFileSync(altered, `${text.slice(0, at + 14)}X${text.slice(at + 15)}`);
    const r = await verify(altered);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/SHK_AUDIT_EXPORT: line 5 \(leaf index 4, entry seq 5\)/);
  });

  it('fails when the checkpoint was altered, or signed by another key', async () => {
    const note = readFileSync(f('cp.txt'), 'utf8');
    writeFileSync(f('cp-size.txt'), note.replace(/\n12\n/, '\n11\n'));
    const r = await verify(f('export.ndjson'), f('cp-size.txt'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('SHK_AUDIT_SIGNATURE: checkpoint');
    const other = await shekara('audit', 'pubkey', '-c', configFor(mkdtempSync(path.join(dir, 'other-'))));
    writeFileSync(f('key-other.txt'), other.stdout);
    const r2 = await shekara(
      'verify',
      '--export',
      f('export.ndjson'),
      '--checkpoint',
      f('cp.txt'),
      '--pubkey',
      f('key-other.txt'),
    );
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/SHK_AUDIT_SIGNATURE: checkpoint .*cp\.txt/);
  });

  it('fails when the export was truncated or reordered', async () => {
    const lines = readFileSync(f('export.ndjson'), 'utf8').trim().split('\n');
    writeFileSync(f('short.ndjson'), `${lines.slice(0, -1).join('\n')}\n`);
    const r = await verify(f('short.ndjson'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('the export has 11 leaves but checkpoint');
    const swapped = [...lines];
    [swapped[3], swapped[4]] = [swapped[4]!, swapped[3]!];
    writeFileSync(f('swapped.ndjson'), `${swapped.join('\n')}\n`);
    const r2 = await verify(f('swapped.ndjson'));
    expect(r2.code).toBe(1);
    expect(r2.stderr).toContain('line 4 (leaf index 3, entry seq 5): says index 4');
  });
});
