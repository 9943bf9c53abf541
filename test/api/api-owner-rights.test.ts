/**
 * Owner rights over real sockets: objections to automated processing (opened by the owner,
 * answered by the operator through the admin API and the CLI) and erasure, which leaves the
 * egress log verifiable with the regulator's own verifier.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportLines } from '../../src/audit/export.js';
import { verifyExport } from '../../src/audit/verify.js';
import { eventually } from '../helpers/gateway.js';
import { shekara as cli } from '../helpers/cli.js';
import { drained, startOwnerGateway, type OwnerGateway } from './owner-helpers.js';

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const HOUR_MS = 3_600_000;
// Retries >= 500 ms apart: an objection or erasure lands between two attempts, not during one
// (a delivery already on the wire when it lands cannot be called back).
const SLOW_RETRIES = {
  egress: { initialBackoffMs: 1_000, maxBackoffMs: 1_000, pollIntervalMs: 20, requestTimeoutMs: 1_000 },
};

interface Objection {
  id: string;
  oem: string;
  purpose: string;
  reason: string;
  receivedAt: string;
  dueAt: string;
  status: string;
  overdue: boolean;
  answer: string | null;
  resolvedAt: string | null;
}

describe('owner API › objections to automated processing', () => {
  let o: OwnerGateway;
  let config: string;
  let first: Objection;
  beforeAll(async () => {
    o = await startOwnerGateway({ cars: 2, config: SLOW_RETRIES });
    // The operator's config file for the CLI: the same store and policy as the running gateway.
    config = path.join(o.gw.dir, 'shekara.yaml');
    writeFileSync(
      config,
      stringify({
        dataDir: o.gw.dir,
        ...(o.gw.storeConfig ? { store: o.gw.storeConfig } : {}),
        oems: [
          {
            id: 'demo-oem',
            endpoint: `http://127.0.0.1:${o.gw.sink.port}/oem/telemetry`,
            policyFile: 'policy.yaml',
            allowPrivateNetworks: true,
          },
        ],
        log: { level: 'silent' },
      }),
    );
    await o.publish(0, 2);
    await o.publish(1, 2);
    await drained(o.gw);
  });
  afterAll(async () => o?.stop());

  it('records an objection with a three-day deadline, stops the automated purpose for that vehicle only, and its queued deliveries with it', async () => {
    expect(o.delivered(0, 'battery-score')).toHaveLength(2);
    // The OEM is down: the car's next projections wait in the queue.
    o.gw.sink.setStatus(503);
    await o.publish(0, 1);
    await eventually(
      async () =>
        (await o.gw.app.store.listEgressLog()).some((r) => r.outcome === 'failed' && r.purpose === 'battery-score'),
      5_000,
      'a failed battery-score attempt',
    );

    const reason = 'I do not agree to my battery being scored by a machine.';
    const res = await o.owner<{ objection: Objection; stopsProcessing: boolean; leafIndex: number }>(
      'POST',
      `/vehicles/${o.gw.cars[0]!.vin}/objections`,
      {
        body: { oem: 'demo-oem', purpose: 'battery-score', reason },
      },
    );
    expect(res.status).toBe(201);
    first = res.body.objection;
    expect(res.body.stopsProcessing).toBe(true);
    expect(first).toMatchObject({
      oem: 'demo-oem',
      purpose: 'battery-score',
      reason,
      status: 'open',
      overdue: false,
      answer: null,
      resolvedAt: null,
    });
    expect(Date.parse(first.dueAt) - Date.parse(first.receivedAt)).toBe(72 * HOUR_MS);

    const [leaf] = await o.gw.app.store.exportLeaves(res.body.leafIndex - 1, res.body.leafIndex + 1, 1);
    expect(leaf!.entry).toEqual({
      v: 1,
      kind: 'objection',
      index: res.body.leafIndex,
      at: Date.parse(first.receivedAt),
      action: 'opened',
      objection: first.id,
      pseudonym: o.pseudonym(0),
      oem: 'demo-oem',
      purpose: 'battery-score',
      status: 'open',
      dueAt: Date.parse(first.dueAt),
      automated: true,
      blockedPending: 1,
      textSha256: sha256(reason),
      source: 'owner-app',
      apiKey: o.keys.ownerApp.split('_')[1],
      owner: o.tokenIds[0],
    });
    expect(JSON.stringify(leaf)).not.toContain(o.gw.cars[0]!.vin);
    expect(JSON.stringify(leaf)).not.toContain('battery being scored');

    o.gw.sink.setStatus(200);
    await o.publish(0, 3);
    await o.publish(1, 3);
    await drained(o.gw);
    expect(o.delivered(0, 'battery-score')).toHaveLength(2); // nothing more, the queued one included
    expect(o.delivered(0, 'odometer')).toHaveLength(6); // other purposes of the same car go on
    expect(o.delivered(1, 'battery-score')).toHaveLength(5); // the other car's automated purpose goes on
  });

  it('shows the operator the open objections, with overdue ones flagged', async () => {
    // One received four days ago, for a purpose that is not automated (recorded, stops nothing).
    const now = Date.now();
    const old = await o.gw.app.store.openObjection({
      vin: o.gw.cars[1]!.vin,
      oem: 'demo-oem',
      purpose: 'odometer',
      pseudonym: o.pseudonym(1),
      reason: 'old one',
      receivedAt: now - 96 * HOUR_MS,
      dueAt: now - 24 * HOUR_MS,
      automated: false,
      actor: { source: 'owner-app', apiKey: null, owner: null },
    });
    const open = await o.admin<{ objections: (Objection & { vin: string; pseudonym: string })[] }>(
      'GET',
      '/objections?status=open',
    );
    expect(open.status).toBe(200);
    expect(open.body.objections.map((x) => [x.id, x.vin, x.overdue])).toEqual([
      [old.objection.id, o.gw.cars[1]!.vin, true],
      [first.id, o.gw.cars[0]!.vin, false],
    ]);
    const overdue = await o.admin<{ objections: Objection[] }>('GET', '/objections?overdue=true');
    expect(overdue.body.objections.map((x) => x.id)).toEqual([old.objection.id]);
    const bobs = await o.owner<{ objections: Objection[] }>('GET', `/vehicles/${o.gw.cars[1]!.vin}/objections`, {
      token: o.tokens[1],
    });
    expect(bobs.body.objections).toEqual([
      expect.objectContaining({ id: old.objection.id, overdue: true, status: 'open' }),
    ]);
    const listed = await cli('objections', 'list', '--overdue', '-c', config);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(
      new RegExp(
        `^${old.objection.id}\\t${o.gw.cars[1]!.vin}\\tdemo-oem\\todometer\\treceived \\S+\\tdue \\S+\\topen OVERDUE\\t"old one"$`,
        'm',
      ),
    );
    expect(listed.stdout).not.toContain(first.id);
    // Not automated: the open objection does not stop the odometer purpose.
    const before = o.delivered(1, 'odometer').length;
    await o.publish(1, 1);
    await drained(o.gw);
    expect(o.delivered(1, 'odometer')).toHaveLength(before + 1);
  });

  it('resumes the purpose when the operator rejects the objection, logs the answer as a digest, and refuses a second answer', async () => {
    const answer = 'The score only selects cars for a free battery check; no decision is taken about you.';
    const res = await o.admin<{ objection: Objection & { resolvedBy: string }; leafIndex: number }>(
      'POST',
      `/objections/${first.id}/resolve`,
      { status: 'rejected', answer },
    );
    expect(res.status).toBe(200);
    expect(res.body.objection).toMatchObject({
      id: first.id,
      status: 'rejected',
      answer,
      overdue: false,
      resolvedBy: o.keys.operator.split('_')[1],
    });
    const [leaf] = await o.gw.app.store.exportLeaves(res.body.leafIndex - 1, res.body.leafIndex + 1, 1);
    expect(leaf!.entry).toMatchObject({
      kind: 'objection',
      action: 'resolved',
      objection: first.id,
      status: 'rejected',
      pseudonym: o.pseudonym(0),
      textSha256: sha256(answer),
      source: 'operator',
      owner: null,
    });

    await o.publish(0, 2);
    await drained(o.gw);
    expect(o.delivered(0, 'battery-score')).toHaveLength(4);

    const again = await o.admin('POST', `/objections/${first.id}/resolve`, {
      status: 'upheld',
      answer: 'changed my mind',
    });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'SHK_OBJECTION_RESOLVED' });
    expect(
      (
        await o.admin('POST', '/objections/00000000-0000-7000-8000-000000000000/resolve', {
          status: 'upheld',
          answer: 'x',
        })
      ).status,
    ).toBe(404);
    const mine = await o.owner<{ objections: Objection[] }>('GET', `/vehicles/${o.gw.cars[0]!.vin}/objections`);
    expect(mine.body.objections).toEqual([expect.objectContaining({ id: first.id, status: 'rejected', answer })]);
  });

  it('keeps the purpose stopped for the vehicle when the objection is upheld (here with the CLI)', async () => {
    const res = await o.owner<{ objection: Objection }>('POST', `/vehicles/${o.gw.cars[0]!.vin}/objections`, {
      body: { oem: 'demo-oem', purpose: 'battery-score', reason: 'Again: no scoring.' },
    });
    expect(res.status).toBe(201);
    const resolved = await cli(
      'objections',
      'resolve',
      res.body.objection.id,
      '--status',
      'upheld',
      '--answer',
      'Agreed: your car is excluded from scoring.',
      '-c',
      config,
    );
    expect(resolved.code, resolved.stderr).toBe(0);
    expect(resolved.stdout).toMatch(
      new RegExp(`^objection ${res.body.objection.id}: upheld; logged as leaf \\d+$`, 'm'),
    );
    const twice = await cli(
      'objections',
      'resolve',
      res.body.objection.id,
      '--status',
      'rejected',
      '--answer',
      'no',
      '-c',
      config,
    );
    expect(twice.code).not.toBe(0);
    expect(twice.stderr).toContain('SHK_OBJECTION_RESOLVED');
    await o.publish(0, 2);
    await drained(o.gw);
    expect(o.delivered(0, 'battery-score')).toHaveLength(4);
    expect(o.delivered(0, 'odometer')).toHaveLength(10);
  });
});

describe('owner API › erasure', () => {
  let o: OwnerGateway;
  beforeAll(async () => {
    o = await startOwnerGateway({ cars: 2, config: SLOW_RETRIES });
    await o.publish(0, 4);
    await o.publish(0, 1, () => '{"speed": 50, '); // kept in quarantine
    await o.publish(1, 2);
    await drained(o.gw);
  });
  afterAll(async () => o?.stop());

  it("removes the vehicle's local personal data, stops what was still queued, answers with counts, and the egress log still verifies", async () => {
    const { store, audit } = o.gw.app;
    const vin = o.gw.cars[0]!.vin;
    const delivered = await recordsOf(store, o.delivered(0, 'odometer'));
    expect(delivered).toHaveLength(4);
    expect((await store.listQuarantine()).filter((q) => q.vin === vin)).toHaveLength(1);
    // Two more records wait in the queue while the OEM is down.
    o.gw.sink.setStatus(503);
    await o.publish(0, 2);
    await eventually(
      async () => (await store.listEgressLog()).some((r) => r.outcome === 'failed'),
      5_000,
      'a failed attempt',
    );
    const before = await audit.checkpointNow();
    const sentBefore = o.gw.sink.deliveries.length;

    const res = await o.owner<{ erased: Record<string, number>; leafIndex: number; erasedAt: string }>(
      'POST',
      `/vehicles/${vin}/erasure`,
    );
    expect(res.status).toBe(200);
    expect(res.body.erased).toEqual({ records: 6, routePoints: 6, accountData: 6, quarantine: 1 });

    for (const id of delivered) expect(await store.getRecord(id)).toBeUndefined();
    expect((await store.listQuarantine()).filter((q) => q.vin === vin)).toEqual([]);
    expect(await store.pseudonymsOfVin(vin)).toEqual([]);
    const others = await recordsOf(store, o.delivered(1, 'odometer'));
    expect(others).toHaveLength(2);
    for (const id of others)
      expect((await store.getRecord(id))?.record.account).toMatchObject({
        'Account.Owner.Email': expect.stringMatching(/@example\.kz$/),
      });

    // Nothing queued for the car leaves once the OEM is back.
    o.gw.sink.setStatus(200);
    await o.publish(1, 1);
    await drained(o.gw);
    expect(o.gw.sink.deliveries.slice(sentBefore).map((d) => (d.body as { vehicle: string }).vehicle)).not.toContain(
      o.pseudonym(0),
    );
    expect(o.delivered(1, 'odometer')).toHaveLength(3);

    const [leaf] = await store.exportLeaves(res.body.leafIndex - 1, res.body.leafIndex + 1, 1);
    expect(leaf!.entry).toEqual({
      v: 1,
      kind: 'erasure',
      index: res.body.leafIndex,
      at: Date.parse(res.body.erasedAt),
      pseudonym: o.pseudonym(0),
      oem: 'demo-oem',
      records: 6,
      routePoints: 6,
      accountData: 6,
      quarantine: 1,
      source: 'owner-app',
      apiKey: o.keys.ownerApp.split('_')[1],
      owner: o.tokenIds[0],
    });
    expect(JSON.stringify(leaf)).not.toContain(vin);

    // The regulator's verifier over the whole export, against a checkpoint from before the erasure and one after.
    const after = await audit.checkpointNow();
    expect(after.size).toBeGreaterThan(before.size);
    const lines: string[] = [];
    for await (const line of exportLines(store, after.size)) lines.push(line);
    const report = await verifyExport({
      lines,
      checkpoints: [
        { label: 'before', note: before.note },
        { label: 'after', note: after.note },
      ],
      verifierKey: audit.verifierKey,
    });
    expect(report).toMatchObject({
      leaves: after.size,
      uncovered: 0,
      consistency: { from: before.size, to: after.size },
    });
    expect(lines.join('')).not.toContain(vin);
  });

  it('still tells the owner what left the country about the car after the erasure', async () => {
    const res = await o.owner<{
      entries: { outcome: string; purpose: string }[];
      totals: { purpose: string; delivered: number }[];
    }>('GET', `/vehicles/${o.gw.cars[0]!.vin}/report?limit=1000`);
    expect(res.status).toBe(200);
    expect(res.body.totals).toEqual(
      expect.arrayContaining([expect.objectContaining({ purpose: 'odometer', delivered: 4 })]),
    );
  });
});

/** The OEM knows a delivery by its delivery id; the egress log maps it back to the record, in the country. */
async function recordsOf(
  store: { listEgressLog(f: { deliveryId: string }): Promise<{ recordId: string }[]> },
  deliveries: readonly { deliveryId: string }[],
): Promise<string[]> {
  return Promise.all(
    deliveries.map(async (d) => (await store.listEgressLog({ deliveryId: d.deliveryId }))[0]!.recordId),
  );
}
