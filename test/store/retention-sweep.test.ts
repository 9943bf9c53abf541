import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { startRetentionSweep, type RetentionSweep } from '../../src/store/index.js';
import { createLogger } from '../../src/log.js';
import type { Store } from '../../src/store/types.js';
import { eventually } from '../helpers/gateway.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2031, 5, 1);
const cfg = { rawRecordsDays: 90, routePointsDays: 30, accountDataDays: 365, sweepIntervalMinutes: 60 };

function logCapture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { lines, log: createLogger('info', stream) };
}

describe('retention sweep', () => {
  let store: Store;
  let sweep: RetentionSweep | undefined;
  let dir: string;
  afterEach(async () => {
    await sweep?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const ingestAt = async (id: string, at: number) =>
    store.commitIngest([
      {
        kind: 'record',
        raw: Buffer.from('{}'),
        projections: [],
        record: {
          id,
          vin: 'LSHKZ000000000001',
          oem: 'acme',
          channel: 'mqtt',
          receivedAt: at,
          observedAt: at,
          signals: { 'Vehicle.CurrentLocation.Latitude': 43.2, 'Vehicle.CurrentLocation.Longitude': 76.9 },
          account: { 'Account.Owner.Name': 'A' },
          unknownKeys: [],
        },
      },
    ]);

  it('deletes what is older than its period soon after start, and logs how much', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'shekara-sweep-'));
    store = openSqliteStore(path.join(dir, 's.db'));
    await ingestAt('old', NOW - 100 * DAY);
    await ingestAt('new', NOW - DAY);
    const { lines, log } = logCapture();
    sweep = startRetentionSweep(cfg, { store, log, now: () => NOW, firstSweepDelayMs: 0 });
    const line = await eventually(
      () => lines.find((l) => l.msg === 'retention: deleted personal data older than its period'),
      5_000,
      'the sweep log line',
    );
    expect(line).toMatchObject({
      module: 'retention',
      removed: { records: 1, routePoints: 1, accountData: 0, quarantine: 0 },
    });
    expect(await store.getRecord('old')).toBeUndefined();
    expect(await store.getRecord('new')).toBeDefined();
    // The account data of the deleted record is kept until its own period ends.
    expect(await sweep.sweepNow()).toEqual({ records: 0, routePoints: 0, accountData: 0, quarantine: 0 });
  });

  it('logs a failed sweep and keeps its schedule', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'shekara-sweep-'));
    store = openSqliteStore(path.join(dir, 's.db'));
    const { lines, log } = logCapture();
    let calls = 0;
    const failing = {
      applyRetention: async () => {
        calls += 1;
        throw new Error('disk I/O error');
      },
    };
    sweep = startRetentionSweep(cfg, { store: failing, log, now: () => NOW, firstSweepDelayMs: 0 });
    const line = await eventually(() => lines.find((l) => l.level === 50), 5_000, 'the error line');
    expect(line).toMatchObject({
      msg: 'retention: the sweep failed; it runs again at the next interval',
      err: { message: 'disk I/O error' },
    });
    await expect(sweep.sweepNow()).rejects.toThrow('disk I/O error');
    expect(calls).toBe(2);
  });
});
