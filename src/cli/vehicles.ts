/**
 * `shekara vehicles add|list|show|rotate|revoke|whois`: vehicles and their device credentials. A
 * secret is printed once; only its salted hash is stored. A rotated or revoked credential fails
 * for every new connection at once; a running gateway closes the connections that used it on
 * SIGHUP (the admin API closes them at once).
 */
import { checkVin, type VehicleView } from '../admin/index.js';
import { CLI_ACTOR, json, out, withAdmin } from './admin-store.js';
import { ShekaraError } from '../errors.js';
import { PSEUDONYM_MASTER_KEY } from '../policy/pseudonym.js';
import { createVehicleRef, resolveVehicleRef, VEHICLE_REF_RE } from '../vehicle-ref.js';

const CUT_HINT =
  'a car connected with the old credentials is disconnected when the gateway gets SIGHUP (the admin API disconnects it at once)';
const line = (v: VehicleView) =>
  [v.vin, v.oem, v.status, v.createdAt, v.secretSetAt, v.revokedAt ?? ''].join('\t').trimEnd();

export async function vehiclesAddCommand(opts: {
  config?: string;
  vin: string;
  oem: string;
  secret?: string;
  replace?: boolean;
}): Promise<void> {
  checkVin(opts.vin); // before the store is opened: a typo creates nothing
  const r = await withAdmin(
    opts.config,
    (a) => a.vehicles.register({ vin: opts.vin, oem: opts.oem, secret: opts.secret, replace: opts.replace }, CLI_ACTOR),
    { broker: 'required' },
  );
  out(
    `registered ${r.vehicle.vin} (${r.vehicle.oem})\n  username / client id: ${r.vehicle.vin}\n  secret (shown once): ${r.secret}`,
  );
  if (opts.replace) out(`  ${CUT_HINT}`);
}

export async function vehiclesListCommand(opts: { config?: string; oem?: string }): Promise<void> {
  for (const v of await withAdmin(opts.config, (a) => a.vehicles.list({ oem: opts.oem }))) out(line(v));
}

export async function vehiclesShowCommand(vin: string, opts: { config?: string }): Promise<void> {
  await withAdmin(opts.config, async (a) =>
    json({ ...(await a.vehicles.show(vin)), owners: await a.access.ownersOfVehicle(vin) }),
  );
}

export async function vehiclesRotateCommand(vin: string, opts: { config?: string; secret?: string }): Promise<void> {
  const r = await withAdmin(opts.config, (a) => a.vehicles.rotate(vin, { secret: opts.secret }, CLI_ACTOR), {
    broker: 'required',
  });
  out(
    `rotated the secret of ${vin}; the old one no longer authenticates\n  secret (shown once): ${r.secret}\n  ${CUT_HINT}`,
  );
}

export async function vehiclesRevokeCommand(vin: string, opts: { config?: string }): Promise<void> {
  const r = await withAdmin(opts.config, (a) => a.vehicles.revoke(vin, CLI_ACTOR), { broker: 'best-effort' });
  out(
    r.changed
      ? `revoked the credentials of ${vin}: it is refused from now on (rotate to issue new ones)\n  ${CUT_HINT}`
      : `${vin} was already revoked`,
  );
}

/**
 * `vehicles whois REF`: the VIN behind a vehicle reference in the gateway's log. Logs never
 * hold a VIN; resolving one takes the store (the key the references derive from lives there).
 */
export async function vehiclesWhoisCommand(ref: string, opts: { config?: string }): Promise<void> {
  const target = ref.trim();
  if (!VEHICLE_REF_RE.test(target))
    throw new ShekaraError('SHK_BAD_REQUEST', `"${target}" is not a vehicle reference (vr_ and 16 hex digits)`);
  const vins = await withAdmin(opts.config, async (_a, store) => {
    const masterKey = await store.getSecret(PSEUDONYM_MASTER_KEY);
    // No key yet: the gateway never started on this store, so no log line can name a car.
    if (!masterKey) return [];
    return resolveVehicleRef(
      createVehicleRef(masterKey),
      target,
      (await store.listVehicles()).map((v) => v.vin),
    );
  });
  if (vins.length === 0)
    throw new ShekaraError('SHK_NOT_FOUND', `no registered vehicle has the reference ${target} in this store`);
  for (const vin of vins) out(vin);
}
