/**
 * The evidence pack on a seeded store: it verifies offline with the log's key alone, and a
 * changed log entry, a changed policy text or a report checkpoint from another key each fail.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { createAuditLog } from '../../src/audit/index.js';
import { createLogger } from '../../src/log.js';
import { buildEvidencePack, verifyEvidencePack } from '../../src/reports/evidence.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { PERIOD, seedStore } from './seed.js';

describe('evidence pack', () => {
  const setup = async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'shekara-evidence-'));
    const store = openSqliteStore(path.join(dir, 's.db'));
    await seedStore(store);
    const config = parseConfig('', 'test.yaml', dir);
    const audit = await createAuditLog(
      { ...config.audit, checkpointIntervalMs: 3_600_000 },
      { store, log: createLogger('silent') },
    );
    const checkpoint = await audit.checkpointNow();
    await audit.close();
    const pack = await buildEvidencePack({ store, config, checkpoint, now: Date.now() }, PERIOD);
    await store.close();
    return { pack, key: audit.verifierKey };
  };

  it('verifies offline: the log against the checkpoint, every report checkpoint, every policy text', async () => {
    const { pack, key } = await setup();
    const r = await verifyEvidencePack(pack, key);
    expect(r).toMatchObject({ leaves: 7, reports: 4, policyVersions: 3 });
    expect(pack.reports.map((x) => x.report)).toEqual(['inventory', 'processing', 'ledger', 'access']);
  });

  it('fails on a changed log entry, a changed policy text, and a foreign key', async () => {
    const { pack, key } = await setup();
    const log = [...pack.log];
    log[2] = log[2]!.replace('"outcome":"delivered"', '"outcome":"blocked"');
    await expect(verifyEvidencePack({ ...pack, log }, key)).rejects.toThrow(/does not hash to its leafHash/);
    const policyVersions = pack.policyVersions.map((v, i) =>
      i === 0 ? { ...v, content: `${v.content}\n# edited` } : v,
    );
    await expect(verifyEvidencePack({ ...pack, policyVersions }, key)).rejects.toThrow(/the text was altered/);
    const other = await setup();
    await expect(verifyEvidencePack(pack, other.key)).rejects.toMatchObject({ code: 'SHK_AUDIT_SIGNATURE' });
  });
});
