import { loadConfigFile } from '../config/load.js';
import { createStore } from '../store/index.js';
import { registerSimCars, simulate } from '../sim/simulate.js';
import { ShekaraError } from '../errors.js';
import { cliIo } from './io.js';

export async function simulateCommand(opts: {
  config?: string;
  vehicles: number;
  rate: number;
  duration: number;
  oem?: string;
  qos: string;
  url?: string;
  protocol?: string;
  edition?: string;
}): Promise<number> {
  const config = loadConfigFile(opts.config, { env: cliIo().env });
  const oem = opts.oem ?? config.oems[0]?.id;
  if (!oem || !config.oems.some((o) => o.id === oem)) {
    throw new ShekaraError(
      'SHK_CONFIG_INVALID',
      `OEM "${oem ?? ''}" is not in the config; name one of: ${config.oems.map((o) => o.id).join(', ') || '(none configured)'}`,
    );
  }
  const store = await createStore(config.store, config.dataDir, config.keys);
  const creds = await registerSimCars(store, opts.vehicles, oem).finally(() => store.close());
  if (opts.protocol === 'gbt32960') {
    const port = config.gbt32960.tcp.port;
    if (!config.gbt32960.enabled || !config.gbt32960.tcp.enabled)
      throw new ShekaraError(
        'SHK_CONFIG_INVALID',
        'simulate --protocol gbt32960 needs gbt32960.enabled and gbt32960.tcp',
      );
    const edition = opts.edition === '2025' ? 2025 : 2016;
    cliIo().stderr.write(
      `simulate: ${opts.vehicles} GB/T 32960 (${edition}) cars of ${oem} → tcp://127.0.0.1:${port}, ${opts.rate} reports/s for ${opts.duration} s\n`,
    );
    const { simulateGbt32960 } = await import('../sim/gbt32960-drive.js');
    const result = await simulateGbt32960(
      creds.map((c) => c.vin),
      {
        host: '127.0.0.1',
        port,
        rate: opts.rate,
        durationSeconds: opts.duration,
        edition,
        onProgress: (p) =>
          cliIo().stderr.write(
            `  ${p.elapsedSeconds}s  logged in ${p.connected}  sent ${p.sent}  answered ${p.acked}  errors ${p.errors}\n`,
          ),
      },
    );
    cliIo().stdout.write(`${JSON.stringify({ ...result, oem, protocol: 'gbt32960', port })}\n`);
    return result.errors > 0 ? 1 : 0;
  }
  const url = opts.url ?? `mqtt://127.0.0.1:${config.mqtt.port}`;
  cliIo().stderr.write(
    `simulate: ${opts.vehicles} cars of ${oem} → ${url}, ${opts.rate} msg/s for ${opts.duration} s (QoS ${opts.qos})\n`,
  );
  const result = await simulate(creds, {
    url,
    vehicles: opts.vehicles,
    rate: opts.rate,
    durationSeconds: opts.duration,
    oem,
    qos: opts.qos === '0' ? 0 : 1,
    onProgress: (p) =>
      cliIo().stderr.write(
        `  ${p.elapsedSeconds}s  connected ${p.connected}  sent ${p.sent}  acknowledged ${p.acked}  errors ${p.errors}\n`,
      ),
  });
  cliIo().stdout.write(`${JSON.stringify({ ...result, oem, url })}\n`);
  return result.errors > 0 ? 1 : 0;
}
