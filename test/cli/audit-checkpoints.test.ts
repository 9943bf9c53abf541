/**
 * `shekara audit checkpoints`: the built binary lists the checkpoint history of a real store,
 * newest first, a page at a time (`--before` from the "more:" line), and `--json` gives the
 * signed notes, each verifying with the log's key.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load.js';
import { createAuditLog } from '../../src/audit/index.js';
import { parseAndVerifyCheckpoint } from '../../src/audit/checkpoint.js';
import { createLogger } from '../../src/log.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { shekara } from '../audit/helpers.js';

describe('shekara audit checkpoints', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'shekara-checkpoints-cli-'));
  const config = path.join(dir, 'shekara.yaml');
  const cli = (...args: string[]) => shekara(...args, '-c', config);
  const sizes: number[] = [];
  let verifierKey = '';

  beforeAll(async () => {
    writeFileSync(config, `dataDir: ${dir}\nlog: { level: silent }\n`);
    const store = openSqliteStore(path.join(dir, 'shekara.db'));
    const audit = await createAuditLog(
      { ...loadConfigFile(config).audit, checkpointIntervalMs: 3_600_000 },
      { store, log: createLogger('silent') },
    );
    for (let i = 0; i < 3; i++) {
      await store.appendAuditEvent('access', Date.now(), { action: 'test', n: i });
      await audit.checkpointNow();
    }
    verifierKey = audit.verifierKey;
    await audit.close();
    // The log signs one at start too (size 0): four in all.
    sizes.push(...(await store.listCheckpoints(Number.MAX_SAFE_INTEGER, 100)).map((c) => c.size));
    expect(sizes).toEqual([3, 2, 1, 0]);
    await store.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lists the checkpoints newest first, a page at a time', async () => {
    const first = await cli('audit', 'checkpoints', '--limit', '2');
    expect(first.code, first.stderr).toBe(0);
    expect(
      first.stdout
        .trim()
        .split('\n')
        .map((l) => Number(l.split('\t')[0])),
    ).toEqual(sizes.slice(0, 2));
    expect(first.stdout).toMatch(/^\d+\t\d{4}-\d\d-\d\dT[\d:.]+Z\t[A-Za-z0-9+/]{43}=$/m);
    expect(first.stderr).toContain(`more: --before ${sizes[1]}`);
    const rest = await cli('audit', 'checkpoints', '--limit', '2', '--before', String(sizes[1]));
    expect(
      rest.stdout
        .trim()
        .split('\n')
        .map((l) => Number(l.split('\t')[0])),
    ).toEqual(sizes.slice(2));
    expect(rest.stdout.trim().split('\n')).toHaveLength(2);
    expect(rest.stderr).not.toContain('more:');
    const bad = await cli('audit', 'checkpoints', '--limit', '0');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('SHK_BAD_REQUEST');
  }, 120_000);

  it('gives the signed notes as JSON, each verifying with the log key', async () => {
    const r = await cli('audit', 'checkpoints', '--json');
    expect(r.code, r.stderr).toBe(0);
    const { checkpoints, nextCursor } = JSON.parse(r.stdout) as {
      checkpoints: { size: number; note: string }[];
      nextCursor: string | null;
    };
    expect(nextCursor).toBeNull();
    expect(checkpoints.map((c) => parseAndVerifyCheckpoint(c.note, verifierKey).size)).toEqual(sizes);
  }, 60_000);
});
