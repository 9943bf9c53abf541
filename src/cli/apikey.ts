/** `shekara apikey create|list|revoke`: API keys per role, printed once, stored hashed. */
import { ShekaraError } from '../errors.js';
import { CLI_ACTOR, out, withAdmin } from './admin-store.js';

export async function apikeyCreateCommand(opts: {
  config?: string;
  role: string;
  label?: string;
  oem?: string;
}): Promise<void> {
  const k = await withAdmin(opts.config, (a) =>
    a.access.createApiKey({ role: opts.role, label: opts.label, oem: opts.oem }, CLI_ACTOR),
  );
  out(
    `created ${k.role} key ${k.id}${k.scope ? ` for OEM ${k.scope}` : ''}${k.label ? ` (${k.label})` : ''}\n  key (shown once; only its hash is stored): ${k.key}\n  use it as: Authorization: Bearer ${k.key}`,
  );
}

export async function apikeyListCommand(opts: { config?: string }): Promise<void> {
  for (const k of await withAdmin(opts.config, (a) => a.access.listApiKeys())) {
    const state = k.revokedAt === null ? 'active' : `revoked ${k.revokedAt}`;
    out(`${k.id}\t${k.role}${k.scope ? `:${k.scope}` : ''}\t${k.createdAt}\t${state}\t${k.label}`);
  }
}

/** The CLI may revoke any key, the last operator key too: it is the recovery path on the gateway host. */
export async function apikeyRevokeCommand(id: string, opts: { config?: string }): Promise<void> {
  await withAdmin(opts.config, (a) => a.access.revokeApiKey(id, { keepLastOperator: false }, CLI_ACTOR)).catch(
    (err: unknown) => {
      if (err instanceof ShekaraError && err.code === 'SHK_NOT_FOUND')
        throw new ShekaraError('SHK_NOT_FOUND', `${err.message} (see \`shekara apikey list\`)`);
      throw err;
    },
  );
  out(`revoked ${id}`);
}
