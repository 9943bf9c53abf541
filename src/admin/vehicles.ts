/**
 * Vehicles and their device credentials. A secret is shown once, when it is made; only its
 * salted hash is stored (ingest/credentials.ts). Rotating or revoking takes effect for the next
 * connection at once, and — on the running gateway — closes the car's live MQTT connections,
 * so the old secret stops working at once.
 */
import type { VehicleRow } from '../store/index.js';
import { generateSecret, hashSecret, MIN_SECRET_LENGTH, VIN_RE } from '../ingest/credentials.js';
import { badInput, notFound, type Actor, type AdminContext } from './context.js';
import { iso, isoOrNull } from '../time.js';
import type { OemAdmin } from './oems.js';

export interface VehicleView {
  readonly vin: string;
  readonly oem: string;
  /** `revoked`: the car is refused whatever it presents (secret or certificate). */
  readonly status: 'active' | 'revoked';
  readonly createdAt: string;
  readonly secretSetAt: string;
  readonly revokedAt: string | null;
}

export const vehicleView = (v: VehicleRow): VehicleView => ({
  vin: v.vin,
  oem: v.oem,
  status: v.revokedAt === null ? 'active' : 'revoked',
  createdAt: iso(v.createdAt),
  secretSetAt: iso(v.secretSetAt),
  revokedAt: isoOrNull(v.revokedAt),
});

/** Checked before anything is opened or written (the CLI calls it first too). */
export function checkVin(vin: string, field = 'vin'): void {
  if (!VIN_RE.test(vin)) throw badInput(field, 'a VIN is 17 characters of digits and capitals, without I, O or Q');
}

function checkSecret(secret: string | undefined): string {
  if (secret !== undefined && secret.length < MIN_SECRET_LENGTH)
    throw badInput('secret', `must be at least ${MIN_SECRET_LENGTH} characters`);
  return secret ?? generateSecret();
}

export function createVehicleAdmin(ctx: AdminContext, oems: OemAdmin) {
  const { store } = ctx;
  const existing = async (vin: string) => {
    const v = await store.getVehicle(vin);
    if (!v) throw notFound(`no vehicle ${vin}`);
    return v;
  };
  const disconnect = (vin: string) => ctx.live?.disconnectVehicle(vin) ?? 0;
  // External-broker mode: the change reaches the broker before the call returns (the new
  // secret is only in hand now; the broker hashes it), from the API (the live gateway's sync)
  // or the CLI (its own connection). A broker that cannot be reached fails the call; the
  // periodic reconcile then disables what the broker holds out of date.
  const broker = () => ctx.broker ?? ctx.live?.brokerCredentials?.();
  const pushSecret = async (vin: string, secret: string) => {
    const b = broker();
    if (b) await b.set((await store.getVehicle(vin))!, secret);
  };

  return {
    existing,

    /** `replace` (CLI only): re-key a registered vehicle, possibly moving it to another OEM. */
    async register(
      input: { vin: string; oem: string; secret?: string; replace?: boolean },
      actor: Actor,
    ): Promise<{ vehicle: VehicleView; secret: string; disconnected: number }> {
      checkVin(input.vin);
      if (!(await oems.rowOf(input.oem))) throw badInput('oem', `no OEM "${input.oem}" in the registry`);
      const secret = checkSecret(input.secret);
      await store.registerVehicle({ vin: input.vin, oem: input.oem, ...hashSecret(secret), replace: input.replace });
      await pushSecret(input.vin, secret);
      const disconnected = input.replace ? disconnect(input.vin) : 0;
      ctx.log?.info({ actor, vehicle: ctx.vehicleRef(input.vin), oem: input.oem }, 'admin: vehicle registered');
      return { vehicle: vehicleView((await store.getVehicle(input.vin))!), secret, disconnected };
    },

    async list(filter: { oem?: string } = {}): Promise<VehicleView[]> {
      return (await store.listVehicles())
        .filter((v) => filter.oem === undefined || v.oem === filter.oem)
        .map(vehicleView);
    },

    async show(vin: string): Promise<VehicleView> {
      return vehicleView(await existing(vin));
    },

    /** A new secret (shown once); a revocation is lifted. Live connections are closed. */
    async rotate(
      vin: string,
      opts: { secret?: string },
      actor: Actor,
    ): Promise<{ vehicle: VehicleView; secret: string; disconnected: number }> {
      await existing(vin);
      const secret = checkSecret(opts.secret);
      await store.rotateVehicleSecret(vin, hashSecret(secret), ctx.now());
      await pushSecret(vin, secret);
      const disconnected = disconnect(vin);
      ctx.log?.info({ actor, vehicle: ctx.vehicleRef(vin), disconnected }, 'admin: vehicle secret rotated');
      return { vehicle: vehicleView(await existing(vin)), secret, disconnected };
    },

    /** Revokes the credentials: the car is refused and, when connected, disconnected. Idempotent. */
    async revoke(vin: string, actor: Actor): Promise<{ vehicle: VehicleView; changed: boolean; disconnected: number }> {
      await existing(vin);
      const changed = await store.revokeVehicleCredentials(vin, ctx.now());
      await broker()?.revoke(vin);
      const disconnected = disconnect(vin);
      if (changed)
        ctx.log?.info({ actor, vehicle: ctx.vehicleRef(vin), disconnected }, 'admin: vehicle credentials revoked');
      return { vehicle: vehicleView(await existing(vin)), changed, disconnected };
    },

    /**
     * After a SIM swap: clears the GB/T 32960 terminal's ICCID pin (config gbt32960.identity.pinIccid),
     * so its next login pins the new card. The login serial count stays. Idempotent.
     */
    async clearGbt32960IccidPin(vin: string, actor: Actor): Promise<{ vin: string; cleared: boolean }> {
      await existing(vin);
      const cleared = await store.clearGbt32960IccidPin(vin);
      if (cleared) ctx.log?.info({ actor, vehicle: ctx.vehicleRef(vin) }, 'admin: GB/T 32960 ICCID pin cleared');
      return { vin, cleared };
    },
  };
}

export type VehicleAdmin = ReturnType<typeof createVehicleAdmin>;
