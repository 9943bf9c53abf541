/**
 * The gateway-process helper's cleanup. A test that times out while `await spawnGateway(...)`
 * waits never gets the process back, so an afterAll that kills the gateways it holds (`if (gw)
 * kill(gw)`) leaves that one running, with its ports, store and Kafka consumer group, into the
 * next files. killGateways() kills every process the file spawned, started or still starting.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killGateways, spawnGateway, startGatewayProcess } from './gateway-process.js';
import { freePort } from './net.js';

describe('test helpers › gateway processes', () => {
  let dir: string;
  const config = async () => {
    const ports = { mqtt: await freePort(), http: await freePort() };
    const file = path.join(dir, 'shekara.yaml');
    writeFileSync(
      file,
      stringify({
        dataDir: dir,
        mqtt: { host: '127.0.0.1', port: ports.mqtt },
        http: { host: '127.0.0.1', port: ports.http },
        oems: [],
        log: { level: 'warn' },
      }),
    );
    return { file, ports };
  };
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'shekara-gwproc-'));
  });
  afterAll(async () => {
    await killGateways();
    rmSync(dir, { recursive: true, force: true });
  });

  it('killGateways kills a gateway that is up', async () => {
    const { file, ports } = await config();
    const gw = await spawnGateway('up', file, ports);
    expect(await killGateways()).toBe(1);
    expect(await gw.exited).toBeNull(); // ended by the signal, not an exit of its own
  });

  it('killGateways kills a gateway still starting, whose spawnGateway never returned', async () => {
    const { file, ports } = await config();
    const starting = spawnGateway('starting', file, ports).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(await killGateways()).toBe(1);
    expect((await starting)?.message).toMatch(/^gateway starting exited \(SIGKILL\) before it was up/);
    expect(await killGateways()).toBe(0); // nothing left running
  });

  it('fails a start that has stopped making progress after its stall bound, long before its total', async () => {
    // Alive and idle: an import before the CLI's that never finishes uses no CPU and writes nothing.
    const hang = path.join(dir, 'hang.mjs');
    writeFileSync(hang, 'setInterval(() => undefined, 1e9);\nawait new Promise(() => undefined);\n');
    const { file } = await config();
    const t0 = Date.now();
    const err = await startGatewayProcess('idle', file, {
      ready: /Shekara gateway is up\./,
      readyMs: 120_000,
      stallMs: 2_000,
      env: { NODE_OPTIONS: `--import=${hang}` },
    }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/^gateway idle did not start: no progress for 2000 ms/);
    expect(Date.now() - t0).toBeLessThan(60_000); // the stall ended it, not the 120 s total
    expect(await killGateways()).toBe(0); // killed when it failed
  });
});
