/**
 * `shekara start` prints its banner only once its signal handlers are in place. Whoever waits for
 * the banner (an operator's script, the SIGHUP test) may signal at once; a SIGHUP that came before
 * the handler killed the gateway outright (seen under load: test/policy/reload-signal.test.ts).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { startGateway } from '../../src/cli/start.js';

const SIGNALS = ['SIGHUP', 'SIGTERM', 'SIGINT'] as const;

describe('shekara start', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'shekara-start-signals-'));
  const config = path.join(dir, 'shekara.yaml');
  writeFileSync(
    config,
    [
      'dataDir: ./data',
      'mqtt: { host: 127.0.0.1, port: 0 }',
      'http: { host: 127.0.0.1, port: 0 }',
      'log: { level: silent }',
    ].join('\n'),
  );
  const before = new Map(SIGNALS.map((s) => [s, process.listeners(s)]));
  afterAll(() => {
    // The handlers belong to this test process now: take back the ones startGateway added.
    for (const s of SIGNALS) for (const l of process.listeners(s)) if (!before.get(s)!.includes(l)) process.off(s, l);
  });

  it('has its SIGHUP, SIGTERM and SIGINT handlers in place when the banner is written', async () => {
    const atBanner: Record<string, number>[] = [];
    const out = new Writable({
      write(chunk: Buffer, _encoding, done) {
        if (String(chunk).includes('Shekara gateway is up.'))
          atBanner.push(Object.fromEntries(SIGNALS.map((s) => [s, process.listenerCount(s) - before.get(s)!.length])));
        done();
      },
    });
    const gateway = await startGateway({ config }, out);
    await gateway.close();
    expect(atBanner).toEqual([{ SIGHUP: 1, SIGTERM: 1, SIGINT: 1 }]);
  });

  it('on SIGTERM stops and resolves to exit code 0 without ending the process, then drops its handlers', async () => {
    const others = new Map(SIGNALS.map((s) => [s, process.listeners(s)]));
    const gateway = await startGateway({ config }, new Writable({ write: (_c, _e, done) => done() }));
    process.emit('SIGTERM', 'SIGTERM');
    expect(await gateway.stopped).toBe(0);
    for (const s of SIGNALS) expect(process.listeners(s)).toEqual(others.get(s));
  });
});
