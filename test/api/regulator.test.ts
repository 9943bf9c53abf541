/**
 * The regulator API over a real socket: a real gateway (MQTT cars → SQLite → egress → a real
 * HTTP OEM sink), and a regulator using fetch with bearer keys.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../src/ingest/index.js';
import { newCar, nextTelemetry } from '../../src/sim/telemetry.js';
import { parseAndVerifyCheckpoint } from '../../src/audit/checkpoint.js';
import { leafHash, verifyConsistency, verifyInclusion } from '../../src/audit/merkle.js';
import { verifyExport } from '../../src/audit/verify.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';

interface Entry {
  seq: number;
  leafIndex: number;
  recordId: string;
  pseudonym: string;
  outcome: string;
  fieldsSent: string[];
  destinationCountry: string | null;
}

describe('regulator API over HTTP', () => {
  let gw: TestGateway;
  const keys: Record<'regulator' | 'operator' | 'oem', string> = { regulator: '', operator: '', oem: '' };
  const sent: Record<string, number> = {};
  const get = (path: string, key: string | null = keys.regulator, init: RequestInit = {}) =>
    fetch(`${gw.httpUrl}/regulator/v1${path}`, {
      ...init,
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...init.headers },
    });
  const json = async <T>(path: string): Promise<T> => {
    const res = await get(path);
    expect(res.status, await res.clone().text()).toBe(200);
    return res.json() as Promise<T>;
  };
  const vinOf = async (recordId: string) => (await gw.app.store.getRecord(recordId))!.record.vin;

  beforeAll(async () => {
    gw = await startTestGateway({ cars: 3 });
    for (const role of ['regulator', 'operator', 'oem'] as const)
      keys[role] = (await gw.app.store.createApiKey({ role, label: `test ${role}`, now: Date.now() })).key;
    const plan = [3, 2, 0];
    for (const [i, n] of plan.entries()) {
      const car = gw.cars[i]!;
      sent[car.vin] = n;
      if (n === 0) continue;
      const client = await gw.connect(car);
      const sim = newCar(car.vin, i);
      for (let k = 0; k < n; k++)
        await client.publishAsync(telemetryTopic(car.vin), JSON.stringify(nextTelemetry(sim, Date.now())), { qos: 1 });
    }
    await eventually(
      async () => gw.sink.deliveries.length >= 10 && (await gw.app.store.counts()).egressLog >= 10,
      10_000,
      '10 deliveries',
    );
  });
  afterAll(async () => gw?.stop());

  it('has exactly one leaf per egress, and as many delivered leaves as the OEM sink received', async () => {
    const all = await json<{ entries: Entry[] }>('/entries?limit=1000');
    expect(all.entries).toHaveLength((await gw.app.store.counts()).egressLog);
    expect(new Set(all.entries.map((e) => e.leafIndex)).size).toBe(all.entries.length);
    expect(all.entries.filter((e) => e.outcome === 'delivered')).toHaveLength(gw.sink.deliveries.length);
  });

  it("search by VIN returns that car's crossings and nobody else's", async () => {
    for (const car of gw.cars) {
      const { entries } = await json<{ entries: Entry[] }>(`/entries?vin=${car.vin}`);
      expect(entries).toHaveLength(sent[car.vin]! * 2); // two purposes in the demo policy
      for (const e of entries) expect(await vinOf(e.recordId)).toBe(car.vin);
      expect(JSON.stringify(entries)).not.toContain(car.vin);
    }
  });

  it('logs each re-identification as an access leaf naming the key and pseudonyms, never the VIN', async () => {
    const before = await gw.app.store.auditTreeSize();
    await json(`/entries?vin=${gw.cars[0]!.vin}`);
    const [leaf] = await gw.app.store.exportLeaves(before - 1, before + 1, 1);
    const keyId = keys.regulator.split('_')[1];
    expect(leaf!.entry).toMatchObject({
      kind: 'access',
      action: 'vin-resolved',
      apiKey: keyId,
      role: 'regulator',
      index: before,
    });
    const { entries } = await json<{ entries: Entry[] }>(
      `/entries?recordId=${(await json<{ entries: Entry[] }>(`/entries?vin=${gw.cars[0]!.vin}&limit=1`)).entries[0]!.recordId}`,
    );
    expect(leaf!.entry.pseudonyms).toEqual([entries[0]!.pseudonym]); // one pseudonym per OEM and epoch
    expect(JSON.stringify(leaf)).not.toContain(gw.cars[0]!.vin);
  });

  it('pages with a cursor: every entry once, in order', async () => {
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const page: { entries: Entry[]; nextCursor: string | null } = await json(
        `/entries?limit=3${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.entries.length).toBeLessThanOrEqual(3);
      seen.push(...page.entries.map((e) => e.seq));
      cursor = page.nextCursor;
    } while (cursor);
    const all = await json<{ entries: Entry[] }>('/entries?limit=1000');
    expect(seen).toEqual(all.entries.map((e) => e.seq));
  });

  it('filters by field, outcome, OEM, country and time', async () => {
    const speed = await json<{ entries: Entry[] }>('/entries?field=Vehicle.Speed&limit=1000');
    expect(speed.entries.length).toBe(5);
    for (const e of speed.entries) expect(e.fieldsSent).toContain('Vehicle.Speed');
    expect((await json<{ entries: Entry[] }>('/entries?outcome=blocked')).entries).toEqual([]);
    expect((await json<{ entries: Entry[] }>('/entries?oem=other-oem')).entries).toEqual([]);
    expect((await json<{ entries: Entry[] }>('/entries?country=CN')).entries).toEqual([]);
    expect(
      (await json<{ entries: Entry[] }>(`/entries?to=${encodeURIComponent('2000-01-01T00:00:00Z')}`)).entries,
    ).toEqual([]);
  });

  it('exports matching entries as NDJSON and as CSV', async () => {
    const vin = gw.cars[1]!.vin;
    const nd = await get(`/entries/export?vin=${vin}&format=ndjson`);
    expect(nd.headers.get('content-type')).toContain('application/x-ndjson');
    const lines = (await nd.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Entry);
    expect(lines).toHaveLength(4);
    for (const e of lines) expect(await vinOf(e.recordId)).toBe(vin);
    const csv = await get(`/entries/export?vin=${vin}&format=csv`);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const rows = (await csv.text()).trim().split('\r\n');
    expect(rows[0]).toMatch(/^seq,leafIndex,at,oem,destination,/);
    expect(rows).toHaveLength(5);
  });

  it('serves an entry with an inclusion proof that verifies against the signed checkpoint', async () => {
    const { entries } = await json<{ entries: Entry[] }>('/entries?limit=1');
    const { verifierKey } = await json<{ verifierKey: string }>('/pubkey');
    const r = await json<{
      leaf: { index: number; hash: string; canonical: string };
      checkpoint: { size: number; note: string };
      inclusionProof: string[];
    }>(`/entries/${entries[0]!.seq}`);
    const cp = parseAndVerifyCheckpoint(r.checkpoint.note, verifierKey);
    const hash = leafHash(Buffer.from(r.leaf.canonical, 'utf8'));
    expect(hash.toString('hex')).toBe(r.leaf.hash);
    expect(
      verifyInclusion(
        r.leaf.index,
        cp.size,
        hash,
        r.inclusionProof.map((p) => Buffer.from(p, 'base64')),
        cp.rootHash,
      ),
    ).toBe(true);
    expect((await get('/entries/999999')).status).toBe(404);
  });

  it('serves checkpoints and a consistency proof between them', async () => {
    const { verifierKey } = await json<{ verifierKey: string }>('/pubkey');
    const first = await gw.app.audit.checkpointNow();
    await json(`/entries?vin=${gw.cars[2]!.vin}`); // grows the log by one access leaf
    const second = await gw.app.audit.checkpointNow();
    const latest = await json<{ size: number; note: string }>('/checkpoints/latest');
    expect(latest.size).toBe(second.size);
    const old = await json<{ note: string }>(`/checkpoints/${first.size}`);
    const a = parseAndVerifyCheckpoint(old.note, verifierKey);
    const b = parseAndVerifyCheckpoint(latest.note, verifierKey);
    const c = await json<{ proof: string[] }>(`/consistency?from=${a.size}&to=${b.size}`);
    expect(
      verifyConsistency(
        a.size,
        b.size,
        c.proof.map((p) => Buffer.from(p, 'base64')),
        a.rootHash,
        b.rootHash,
      ),
    ).toBe(true);
    expect((await get(`/consistency?from=${b.size}&to=${b.size + 1000}`)).status).toBe(400);
  });

  it('lists past checkpoints newest first, a page at a time, each signed by the log key', async () => {
    const { verifierKey } = await json<{ verifierKey: string }>('/pubkey');
    for (const car of gw.cars) {
      await json(`/entries?vin=${car.vin}`); // grows the log by one access leaf
      await gw.app.audit.checkpointNow();
    }
    const stored = (await gw.app.store.listCheckpoints(Number.MAX_SAFE_INTEGER, 1_000)).map((c) => c.size);
    expect(stored.length).toBeGreaterThanOrEqual(3);
    const seen: number[] = [];
    let pages = 0;
    for (let cursor: string | null = ''; cursor !== null; pages++) {
      const page: { checkpoints: { size: number; note: string; signedAt: string }[]; nextCursor: string | null } =
        await json(`/checkpoints?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.checkpoints.length).toBeLessThanOrEqual(2);
      for (const c of page.checkpoints) {
        expect(parseAndVerifyCheckpoint(c.note, verifierKey).size).toBe(c.size);
        seen.push(c.size);
      }
      cursor = page.nextCursor;
    }
    expect(seen).toEqual(stored);
    expect(seen).toEqual([...seen].sort((x, y) => y - x));
    expect(pages).toBe(Math.ceil(stored.length / 2));
    // The first listed is the latest. The gateway's timer may sign another between two reads (each
    // read adds an access leaf), so compare only when the latest did not change around the listing.
    for (let tries = 0; ; tries++) {
      const latest = async () => (await json<{ size: number }>('/checkpoints/latest')).size;
      const before = await latest();
      const listed = await json<{ checkpoints: { size: number }[] }>('/checkpoints?limit=1');
      if (before === (await latest())) {
        expect(listed.checkpoints[0]!.size).toBe(before);
        break;
      }
      expect(tries).toBeLessThan(5);
    }
    expect((await get('/checkpoints?limit=0')).status).toBe(400);
    expect((await get('/checkpoints?cursor=-1')).status).toBe(400);
  });

  it('exports the whole log so that the offline verifier accepts it', async () => {
    const cp = await json<{ size: number; note: string }>('/checkpoints/latest');
    const { verifierKey } = await json<{ verifierKey: string }>('/pubkey');
    const res = await get(`/log/export?size=${cp.size}`);
    expect(res.headers.get('x-shekara-tree-size')).toBe(String(cp.size));
    const report = await verifyExport({
      lines: (await res.text()).split('\n').filter(Boolean),
      checkpoints: [{ label: 'latest', note: cp.note }],
      verifierKey,
    });
    expect(report.leaves).toBe(cp.size);
  });

  it('reports delivered records and bytes per day × OEM × country × field', async () => {
    const { rows } = await json<{
      rows: { day: string; oem: string; field: string; records: number; bytes: number }[];
    }>('/reports/summary');
    const speed = rows.find((r) => r.field === 'Vehicle.Speed')!;
    expect(speed).toMatchObject({ day: new Date().toISOString().slice(0, 10), oem: 'demo-oem', records: 5 });
    expect(speed.bytes).toBeGreaterThan(0);
  });

  it('rejects an unknown query parameter, naming it, and an invalid value', async () => {
    const r = await get('/entries?vni=LTEST000000000001');
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({
      code: 'SHK_BAD_REQUEST',
      message: expect.stringContaining('unknown query parameter "vni"'),
    });
    const v = await get('/entries?limit=0');
    expect(v.status).toBe(400);
    expect(((await v.json()) as { message: string }).message).toMatch(/limit/);
    expect((await get('/entries?vin=not-a-vin')).status).toBe(400);
    expect((await get('/no-such-route?x=1')).status).toBe(404);
  });

  it('serves an OpenAPI 3.1 document generated from the route schemas', async () => {
    const doc = await json<{
      openapi: string;
      paths: Record<string, Record<string, { parameters: { name: string }[] }>>;
    }>('/openapi.json');
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/regulator/v1/entries',
        '/regulator/v1/entries/export',
        '/regulator/v1/entries/{seq}',
        '/regulator/v1/checkpoints',
        '/regulator/v1/checkpoints/latest',
        '/regulator/v1/consistency',
        '/regulator/v1/log/export',
        '/regulator/v1/reports/summary',
        '/regulator/v1/pubkey',
      ]),
    );
    expect(doc.paths['/regulator/v1/entries']!.get!.parameters.map((p) => p.name)).toEqual(
      expect.arrayContaining(['vin', 'cursor', 'limit', 'policyHash']),
    );
  });

  describe('authorization matrix', () => {
    const routes = [
      '/entries',
      '/entries/export',
      '/entries/1',
      '/checkpoints',
      '/checkpoints?limit=1',
      '/checkpoints/latest',
      '/checkpoints/0',
      '/consistency?from=1&to=1',
      '/log/export',
      '/pubkey',
      '/reports/summary',
      '/openapi.json',
      '/no-such-route',
    ];
    it('every route refuses no key, a malformed key, a wrong key and a revoked key (401)', async () => {
      const revoked = await gw.app.store.createApiKey({ role: 'regulator', label: 'gone', now: Date.now() });
      await gw.app.store.revokeApiKey(revoked.id, Date.now());
      const wrong = `${keys.regulator.slice(0, -4)}AAAA`;
      for (const route of routes) {
        for (const key of [null, 'nonsense', wrong, revoked.key]) {
          const r = await get(route, key);
          expect(r.status, `${route} with ${key}`).toBe(401);
          expect(r.headers.get('www-authenticate')).toContain('Bearer');
          expect(((await r.json()) as { code: string }).code).toBe('SHK_AUTH_REQUIRED');
        }
      }
    });
    it('every route refuses an OEM key and an operator key (403)', async () => {
      for (const route of routes) {
        for (const key of [keys.oem, keys.operator]) {
          const r = await get(route, key);
          expect(r.status, `${route}`).toBe(403);
          expect(((await r.json()) as { code: string }).code).toBe('SHK_AUTH_FORBIDDEN');
        }
      }
    });
    it('a regulator key cannot write anything', async () => {
      const size = await gw.app.store.auditTreeSize();
      for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
        for (const route of ['/entries', '/entries/1', '/checkpoints', '/checkpoints/latest', '/log/export']) {
          const r = await get(
            route,
            keys.regulator,
            method === 'DELETE' ? { method } : { method, headers: { 'content-type': 'application/json' }, body: '{}' },
          );
          expect(r.status, `${method} ${route}`).toBe(405);
          expect((await get(route, null, { method })).status).toBe(401);
        }
      }
      expect(await gw.app.store.auditTreeSize()).toBe(size);
    });
  });
});
