/**
 * The egress log sequenced in batches on PostgreSQL: four settler instances, each a process of
 * its own, settle one outbox on one schema without a lock per append; one integrator at a time
 * (whoever takes the log's advisory lock) gives the entries their seq and leaf index. One of
 * them is killed (SIGKILL) right after it integrated, mid-run. The log must come out whole:
 * one `delivered` entry per projection, seq and leaf indexes consecutive from the start, and
 * `shekara verify` accepts the export against a signed checkpoint.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../src/store/pg/index.js';
import { createAuditLog } from '../../src/audit/index.js';
import { exportLines } from '../../src/audit/export.js';
import { createLogger } from '../../src/log.js';
import type { Store } from '../../src/store/index.js';
import { commitRecords } from '../egress/helpers.js';
import { PG_URL } from '../store/backends.js';
import { shekara } from './helpers.js';

const SETTLERS = 4;
const schema = `shk_integ_${process.pid}_${randomBytes(3).toString('hex')}`;

describe('egress log › batched integration on PostgreSQL', () => {
  let store: Store | undefined;
  const dir = mkdtempSync(path.join(tmpdir(), 'shekara-integ-'));
  afterAll(async () => {
    await store?.close();
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await c.end();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`${SETTLERS} settler processes on one schema build one gap-free log; killing the integrator loses nothing`, async () => {
    store = await openPostgresStore({ url: PG_URL, schema, poolSize: 4 });
    const rows = await commitRecords(store, 25, 40); // 1,000 projections, 25 vehicles
    const exits: Promise<number | null>[] = [];
    const procs: ChildProcess[] = [];
    let lastIntegrator: ChildProcess | undefined;
    let integrations = 0;
    for (let i = 0; i < SETTLERS; i++) {
      const p = spawn(process.execPath, ['--import', 'tsx', 'test/audit/settler-process.ts', PG_URL, schema], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      p.stdout!.on('data', (b: Buffer) => {
        if (b.toString().includes('integrated')) {
          lastIntegrator = p;
          integrations += 1;
        }
      });
      procs.push(p);
      exits.push(new Promise((r) => p.on('exit', (code) => r(code))));
    }
    // The integrator of the latest round dies mid-run, without a chance to clean up.
    for (let n = 0; n < 600 && !(integrations >= 3 && lastIntegrator); n++) await new Promise((r) => setTimeout(r, 50));
    expect(lastIntegrator).toBeDefined();
    const killed = lastIntegrator!;
    killed.kill('SIGKILL');
    const codes = await Promise.all(exits);
    expect(codes.filter((c) => c === 0)).toHaveLength(SETTLERS - 1);

    // What was settled before the kill is staged or integrated: reading the log catches up.
    const log = await store.listEgressLog({ limit: 100_000 });
    expect(log.map((r) => r.seq)).toEqual(log.map((_, i) => i + 1));
    const delivered = log.filter((r) => r.outcome === 'delivered');
    expect(delivered).toHaveLength(rows.length);
    expect(new Set(delivered.map((r) => r.recordId)).size).toBe(rows.length);
    expect((await store.counts()).outboxPending).toBe(0);
    expect((await store.egressLogStaged()).staged).toBe(0);
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    const leaves = (await c.query(`SELECT leaf_index FROM "${schema}".audit_leaves ORDER BY leaf_index`)).rows.map(
      (r: { leaf_index: string }) => Number(r.leaf_index),
    );
    await c.end();
    expect(leaves).toEqual(leaves.map((_, i) => i));

    const audit = await createAuditLog(
      { origin: 'shekara.test/egress-log', checkpointIntervalMs: 60_000, integrateIntervalMs: 100 },
      { store, log: createLogger('silent') },
    );
    const cp = await audit.checkpointNow();
    await audit.close();
    expect(cp.size).toBe(log.length);
    const lines: string[] = [];
    for await (const l of exportLines(store, cp.size)) lines.push(l);
    const files = { exp: path.join(dir, 'e.ndjson'), cp: path.join(dir, 'cp.txt'), key: path.join(dir, 'k.txt') };
    writeFileSync(files.exp, lines.join(''));
    writeFileSync(files.cp, cp.note);
    writeFileSync(files.key, `${audit.verifierKey}\n`);
    const r = await shekara('verify', '--export', files.exp, '--checkpoint', files.cp, '--pubkey', files.key);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`verified: ${cp.size} leaves`);
  }, 120_000);
});
