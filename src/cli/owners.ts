/**
 * `shekara owners create|list|revoke`: bind an owner (the operator's reference for a person) to
 * vehicles; the token, printed once, goes to the owner's app (header shekara-owner-token).
 */
import { CLI_ACTOR, out, withAdmin } from './admin-store.js';

export async function ownersCreateCommand(opts: { config?: string; ownerRef: string; vin: string[] }): Promise<void> {
  const o = await withAdmin(opts.config, (a) =>
    a.access.createOwnerToken({ ownerRef: opts.ownerRef, vins: opts.vin }, CLI_ACTOR),
  );
  out(
    `bound owner ${o.ownerRef} to ${o.vins.join(', ')} (token id ${o.id})\n  owner token (shown once; only its hash is stored): ${o.token}\n  the owner's app sends it as: shekara-owner-token: ${o.token}`,
  );
}

export async function ownersListCommand(opts: { config?: string; vin: string }): Promise<void> {
  for (const o of await withAdmin(opts.config, (a) => a.access.ownersOfVehicle(opts.vin))) {
    out(
      `${o.id}\t${o.ownerRef}\t${o.createdAt}\t${o.revokedAt === null ? 'active' : `revoked ${o.revokedAt}`}\t${o.vins.join(',')}`,
    );
  }
}

export async function ownersRevokeCommand(id: string, opts: { config?: string }): Promise<void> {
  await withAdmin(opts.config, (a) => a.access.revokeOwnerToken(id, CLI_ACTOR));
  out(`revoked owner token ${id}`);
}
