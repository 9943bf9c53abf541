import { loadConfigFile } from '../config/load.js';
import { createStore } from '../store/index.js';
import { ShekaraError } from '../errors.js';
import type { ApiRole } from '../store/index.js';

const ROLES: readonly ApiRole[] = ['regulator', 'operator', 'oem', 'owner-app'];

export async function apikeyCreateCommand(opts: { config?: string; role: string; label?: string; oem?: string }): Promise<void> {
  if (!ROLES.includes(opts.role as ApiRole)) {
    throw new ShekaraError('SHK_CONFIG_INVALID', `--role ${opts.role}: one of ${ROLES.join(', ')}`);
  }
  // An OEM key without its OEM would see no tenant at all; a scope on another role means nothing.
  if ((opts.role === 'oem') !== (opts.oem !== undefined)) {
    throw new ShekaraError('SHK_CONFIG_INVALID', opts.role === 'oem' ? '--role oem needs --oem ID: the OEM the key is bound to' : `--oem goes only with --role oem, not ${opts.role}`);
  }
  const config = loadConfigFile(opts.config);
  if (opts.oem !== undefined && !config.oems.some((o) => o.id === opts.oem)) {
    throw new ShekaraError('SHK_CONFIG_INVALID', `--oem ${opts.oem}: no such OEM in the config (${config.oems.map((o) => o.id).join(', ') || 'none'})`);
  }
  const store = await createStore(config.store, config.dataDir);
  try {
    const { id, key } = await store.createApiKey({ role: opts.role as ApiRole, label: opts.label ?? '', now: Date.now(), scope: opts.oem ?? null });
    process.stdout.write(`created ${opts.role} key ${id}${opts.oem ? ` for OEM ${opts.oem}` : ''}${opts.label ? ` (${opts.label})` : ''}\n  key (shown once; only its hash is stored): ${key}\n  use it as: Authorization: Bearer ${key}\n`);
  } finally {
    await store.close();
  }
}

export async function apikeyListCommand(opts: { config?: string }): Promise<void> {
  const config = loadConfigFile(opts.config);
  const store = await createStore(config.store, config.dataDir);
  try {
    for (const k of await store.listApiKeys()) {
      const state = k.revokedAt === null ? 'active' : `revoked ${new Date(k.revokedAt).toISOString()}`;
      process.stdout.write(`${k.id}\t${k.role}${k.scope ? `:${k.scope}` : ''}\t${new Date(k.createdAt).toISOString()}\t${state}\t${k.label}\n`);
    }
  } finally {
    await store.close();
  }
}

export async function apikeyRevokeCommand(id: string, opts: { config?: string }): Promise<void> {
  const config = loadConfigFile(opts.config);
  const store = await createStore(config.store, config.dataDir);
  try {
    if (!(await store.revokeApiKey(id, Date.now()))) throw new ShekaraError('SHK_CONFIG_INVALID', `no active API key ${id} (see \`shekara apikey list\`)`);
    process.stdout.write(`revoked ${id}\n`);
  } finally {
    await store.close();
  }
}
