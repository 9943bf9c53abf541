/**
 * The CLI's way into the admin operations (src/admin): the config's store, opened directly
 * (like `vehicles add` always has), with the config's OEMs read-only. Changes are written to
 * the store; a running gateway applies OEM and policy changes, and cuts connections whose
 * credentials changed, on SIGHUP (or at its next start). The admin API applies them at once.
 *
 * External-broker mode with credential sync: a vehicle change (`broker`) also goes to the
 * broker from the CLI itself, because only now is the new secret in hand (the store keeps its
 * hash): the car works at once, whichever door registered it.
 */
import { createCatalog } from '../catalog/index.js';
import type { Config } from '../config/schema.js';
import { loadConfigFile } from '../config/load.js';
import { createStore, type Store } from '../store/index.js';
import { createAdmin, type Admin } from '../admin/index.js';
import type { BrokerCredentials } from '../ingest/dynsec.js';
import { createLogger } from '../log.js';
import { ShekaraError } from '../errors.js';
import { cliIo, out } from './io.js';

export const CLI_ACTOR = 'cli';
export const APPLY_HINT =
  'a running gateway applies this on SIGHUP (kill -HUP) or at its next start; the admin API applies it at once';

/**
 * `broker`: `required` — nothing is written unless the broker can be reached (a new secret the
 * broker never got would leave the car refused); `best-effort` — a revocation is written
 * whatever happens: the running gateway's reconcile then cuts the car off at the broker.
 */
export async function withAdmin<T>(
  configFile: string | undefined,
  fn: (admin: Admin, store: Store) => Promise<T>,
  opts: { broker?: 'required' | 'best-effort' } = {},
): Promise<T> {
  const config = loadConfigFile(configFile, { env: cliIo().env });
  const store = await createStore(config.store, config.dataDir, config.keys);
  let broker: BrokerCredentials | undefined;
  try {
    if (opts.broker) broker = await reachBroker(config, store, opts.broker);
    return await fn(
      createAdmin({ store, configOems: config.oems, broker, catalog: createCatalog(config.catalog) }),
      store,
    );
  } finally {
    await broker?.close();
    await store.close();
  }
}

async function reachBroker(
  config: Config,
  store: Store,
  need: 'required' | 'best-effort',
): Promise<BrokerCredentials | undefined> {
  if (config.mqtt.mode !== 'external') return undefined;
  // Imported here, not at the top: it loads the MQTT client, which a command on the built-in
  // broker never needs (every CLI spawn paid for it).
  const { dynsecConfigOf, startDynsecSync } = await import('../ingest/dynsec.js');
  const dynsec = dynsecConfigOf(config.mqtt.external);
  if (!dynsec) return undefined;
  const log = createLogger(config.log.level, cliIo().stdout);
  try {
    return await startDynsecSync(
      dynsec,
      { listVehicles: () => store.listVehicles(), log, vehicleRef: () => 'vehicle' },
      'change',
    );
  } catch (err) {
    const why = `the external broker's credential sync at ${dynsec.url} could not be reached (${(err as Error).message})`;
    if (need === 'required')
      throw new ShekaraError('SHK_BROKER_UNAVAILABLE', `${why}: nothing changed; try again, or use the admin API`);
    cliIo().stderr.write(`warning: ${why}; the running gateway's reconcile applies it at the broker\n`);
    return undefined;
  }
}

export { out };
export const json = (v: unknown): void => out(JSON.stringify(v, null, 2));
