import { loadConfigFile } from '../config/load.js';
import { createStore } from '../store/index.js';
import { generateSecret, hashSecret, MIN_SECRET_LENGTH, VIN_RE } from '../ingest/index.js';
import { ShekaraError } from '../errors.js';

export async function vehiclesAddCommand(opts: { config?: string; vin: string; oem: string; secret?: string; replace?: boolean }): Promise<void> {
  const config = loadConfigFile(opts.config);
  if (!VIN_RE.test(opts.vin)) {
    throw new ShekaraError('SHK_CONFIG_INVALID', `--vin ${opts.vin}: a VIN is 17 characters of digits and capitals, without I, O or Q`);
  }
  if (!config.oems.some((o) => o.id === opts.oem)) {
    throw new ShekaraError('SHK_CONFIG_INVALID', `--oem ${opts.oem}: not in the config; known: ${config.oems.map((o) => o.id).join(', ') || '(none)'}`);
  }
  if (opts.secret !== undefined && opts.secret.length < MIN_SECRET_LENGTH) {
    throw new ShekaraError('SHK_CONFIG_INVALID', `--secret: must be at least ${MIN_SECRET_LENGTH} characters`);
  }
  const secret = opts.secret ?? generateSecret();
  const store = await createStore(config.store, config.dataDir);
  try {
    await store.registerVehicle({ vin: opts.vin, oem: opts.oem, ...hashSecret(secret), replace: opts.replace });
  } finally {
    await store.close();
  }
  process.stdout.write(`registered ${opts.vin} (${opts.oem})\n  username / client id: ${opts.vin}\n  secret (shown once): ${secret}\n`);
}

export async function vehiclesListCommand(opts: { config?: string }): Promise<void> {
  const config = loadConfigFile(opts.config);
  const store = await createStore(config.store, config.dataDir);
  try {
    for (const v of await store.listVehicles()) process.stdout.write(`${v.vin}\t${v.oem}\t${new Date(v.createdAt).toISOString()}\n`);
  } finally {
    await store.close();
  }
}
