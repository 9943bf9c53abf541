/**
 * Gateway start seeds the config's OEMs into the shared registry, and the config wins. When the
 * stored definition of a config OEM is another one (another instance's config on the same store,
 * or this config edited), the operator is told which OEM and which fields, once, in the log.
 */
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l));
      done();
    },
  });
  return { lines, log: createLogger('warn', stream) };
}

const changeWarnings = (lines: Record<string, unknown>[]) =>
  lines.filter((l) => typeof l.msg === 'string' && l.msg.includes('differs from the stored one'));

describe('registry seeding › when the stored definition of a config OEM differs from this config', () => {
  let gw: TestGateway | undefined;
  afterEach(async () => {
    await gw?.stop();
    gw = undefined;
  });

  it("warns naming the OEM and the fields, and the stored definition becomes this config's; the same config again warns of nothing", async () => {
    // The first instance: its config sends demo-oem to its own sink.
    gw = await startTestGateway({ cars: 0 });
    const dir = gw.dir;
    const first = `http://127.0.0.1:${gw.sink.port}/oem/telemetry`;
    await gw.stop({ keepDir: true });

    // Same store, same definition: nothing to say.
    const same = capture();
    gw = await startTestGateway({ cars: 0, dir, log: same.log, oem: { endpoint: first } });
    expect(changeWarnings(same.lines)).toEqual([]);
    await gw.stop({ keepDir: true });

    // Same store, another config: demo-oem goes to another sink.
    const other = capture();
    gw = await startTestGateway({ cars: 0, dir, log: other.log });
    const second = `http://127.0.0.1:${gw.sink.port}/oem/telemetry`;
    expect(changeWarnings(other.lines)).toEqual([
      expect.objectContaining({
        level: 40,
        oem: 'demo-oem',
        fields: ['endpoint'],
        msg: "registry: OEM demo-oem's definition in this config differs from the stored one (endpoint); this config's is now stored for every instance sharing the store",
      }),
    ]);
    expect(await gw.app.store.getOem('demo-oem')).toMatchObject({ source: 'config', endpoint: second });
  });
});
