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
import { killGateways, spawnGateway } from './gateway-process.js';
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
});
