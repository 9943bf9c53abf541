/**
 * The egress log sequenced in batches on PostgreSQL: four settler instances, each a process of
 * its own, settle one outbox on one schema without a lock per append; one integrator at a time
 * (whoever takes the log's advisory lock) gives the entries their seq and leaf index. The
 * leader is killed (SIGKILL) in the middle of a round, holding the lock and the entries it
 * took; the survivors integrate them. The log must come out whole:
 * one `delivered` entry per projection, seq and leaf indexes consecutive from the start, and
 * `shekara verify` accepts the export against a signed checkpoint.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
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

/** True when process `pid` holds the TCP socket whose local port is `port` (Linux /proc). */
function ownsLocalPort(pid: number, port: number): boolean {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set(
    ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((f) =>
      readFileSync(f, 'utf8')
        .split('\n')
        .slice(1)
        .map((l) => l.trim().split(/\s+/))
        .filter((c) => c[1]?.endsWith(`:${hex}`))
        .map((c) => c[9]!),
    ),
  );
  const fds = readdirSync(`/proc/${pid}/fd`);
  return fds.some((fd) => {
    let target = '';
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`, 'utf8');
    } catch {
      return false; // closed since the listing
    }
    const m = /^socket:\[(\d+)\]$/.exec(target);
    return m !== null && inodes.has(m[1]!);
  });
}

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
    /** Who integrated, and when the test saw it. */
    const rounds: { proc: ChildProcess; at: number }[] = [];
    for (let i = 0; i < SETTLERS; i++) {
      const p = spawn(process.execPath, ['--import', 'tsx', 'test/audit/settler-process.ts', PG_URL, schema], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      p.stdout!.on('data', (b: Buffer) => {
        if (b.toString().includes('integrated')) rounds.push({ proc: p, at: Date.now() });
      });
      procs.push(p);
      exits.push(new Promise((r) => p.on('exit', (code) => r(code))));
    }
    for (let n = 0; n < 600 && rounds.length === 0; n++) await new Promise((r) => setTimeout(r, 50));
    expect(rounds.length).toBeGreaterThan(0);

    // The leader is killed in the middle of a round: it took the log's lock and the staged
    // entries, and is held on its write to egress_log by a table lock this test takes.
    const blocker = new pg.Client({ connectionString: PG_URL });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query(`LOCK TABLE "${schema}".egress_log IN EXCLUSIVE MODE`);
    let leaderPort: number | undefined;
    for (let n = 0; n < 600 && leaderPort === undefined; n++) {
      const r = await blocker.query<{ port: number }>(
        `SELECT a.client_port AS port FROM pg_locks w JOIN pg_stat_activity a ON a.pid = w.pid
          WHERE w.relation = '"${schema}".egress_log'::regclass AND NOT w.granted
            AND EXISTS (SELECT 1 FROM pg_locks h WHERE h.pid = w.pid AND h.locktype = 'advisory' AND h.granted)`,
      );
      leaderPort = r.rows[0]?.port;
      if (leaderPort === undefined) await new Promise((r) => setTimeout(r, 50));
    }
    expect(leaderPort).toBeDefined();
    const killed = procs.find((p) => ownsLocalPort(p.pid!, leaderPort!));
    expect(killed).toBeDefined();
    killed!.kill('SIGKILL');
    const killedAt = Date.now();
    await blocker.query('COMMIT');
    await blocker.end();
    const codes = await Promise.all(exits);
    expect(codes.filter((c) => c === 0)).toHaveLength(SETTLERS - 1);
    // The survivors took over: one of them integrated after the kill, and left nothing staged
    // (they stop only then) before any reader caught the log up.
    expect(rounds.some((r) => r.proc !== killed && r.at > killedAt)).toBe(true);
    expect((await store.egressLogStaged()).staged).toBe(0);

    // What was settled before the kill is staged or integrated: reading the log catches up.
    const log = await store.listEgressLog({ limit: 100_000 });
    expect(log.map((r) => r.seq)).toEqual(log.map((_, i) => i + 1));
    const delivered = log.filter((r) => r.outcome === 'delivered');
    expect(delivered).toHaveLength(rows.length);
    expect(new Set(delivered.map((r) => r.recordId)).size).toBe(rows.length);
    expect((await store.counts()).outboxPending).toBe(0);
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
