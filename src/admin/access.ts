/**
 * Who may call the HTTP APIs: API keys per role (an OEM key bound to one registry OEM) and
 * owner tokens (an owner bound to their vehicles, for /owner/v1). Each secret is shown once,
 * when it is made; the store keeps only its hash.
 */
import type { ApiKeyRow, ApiRole, OwnerBindingRow } from '../store/index.js';
import { checkVin } from './vehicles.js';
import { ShekaraError } from '../errors.js';
import { badInput, notFound, type Actor, type AdminContext } from './context.js';
import { iso, isoOrNull } from '../time.js';
import type { OemAdmin } from './oems.js';

export const API_ROLES: readonly ApiRole[] = ['regulator', 'operator', 'oem', 'owner-app'];

export interface ApiKeyView {
  readonly id: string;
  readonly role: ApiRole;
  readonly scope: string | null;
  readonly label: string;
  readonly createdAt: string;
  readonly revokedAt: string | null;
}

export interface OwnerView {
  readonly id: string;
  readonly ownerRef: string;
  readonly vins: string[];
  readonly createdAt: string;
  readonly revokedAt: string | null;
}

const keyView = (k: ApiKeyRow): ApiKeyView => ({
  id: k.id,
  role: k.role,
  scope: k.scope,
  label: k.label,
  createdAt: iso(k.createdAt),
  revokedAt: isoOrNull(k.revokedAt),
});
const ownerView = (o: OwnerBindingRow): OwnerView => ({
  id: o.id,
  ownerRef: o.ownerRef,
  vins: [...o.vins],
  createdAt: iso(o.createdAt),
  revokedAt: isoOrNull(o.revokedAt),
});

export function createAccessAdmin(ctx: AdminContext, oems: OemAdmin) {
  const { store } = ctx;
  return {
    async createApiKey(
      input: { role: string; label?: string; oem?: string },
      actor: Actor,
    ): Promise<ApiKeyView & { key: string }> {
      if (!API_ROLES.includes(input.role as ApiRole)) throw badInput('role', `must be one of ${API_ROLES.join(', ')}`);
      // An OEM key without its OEM would see no tenant at all; a scope on another role means nothing.
      if (input.role === 'oem' && input.oem === undefined)
        throw badInput('oem', 'required with role oem: the OEM the key is bound to');
      if (input.role !== 'oem' && input.oem !== undefined)
        throw badInput('oem', `goes only with role oem, not ${input.role}`);
      if (input.oem !== undefined && !(await oems.rowOf(input.oem)))
        throw badInput('oem', `no OEM "${input.oem}" in the registry`);
      const label = input.label ?? '';
      if (label.length > 200) throw badInput('label', 'must be at most 200 characters');
      const now = ctx.now();
      const { id, key } = await store.createApiKey({
        role: input.role as ApiRole,
        label,
        now,
        scope: input.oem ?? null,
      });
      ctx.log?.info({ actor, apiKey: id, role: input.role, scope: input.oem ?? null }, 'admin: API key created');
      return {
        id,
        role: input.role as ApiRole,
        scope: input.oem ?? null,
        label,
        createdAt: iso(now),
        revokedAt: null,
        key,
      };
    },

    async listApiKeys(): Promise<ApiKeyView[]> {
      return (await store.listApiKeys()).map(keyView);
    },

    /**
     * Revokes a key at once. With `keepLastOperator` (the API), the last active operator key is
     * refused: revoking it would lock every operator out of /admin/v1, and only the CLI on the
     * gateway host could let one in again. The CLI itself may revoke any key.
     */
    revokeApiKey(id: string, opts: { keepLastOperator: boolean }, actor: Actor): Promise<ApiKeyView> {
      return ctx.serial(async () => {
        const keys = await store.listApiKeys();
        const key = keys.find((k) => k.id === id && k.revokedAt === null);
        if (!key) throw notFound(`no active API key ${id}`);
        if (
          opts.keepLastOperator &&
          key.role === 'operator' &&
          keys.filter((k) => k.role === 'operator' && k.revokedAt === null).length === 1
        ) {
          throw new ShekaraError(
            'SHK_ADMIN_CONFLICT',
            `key ${id} is the last active operator key; create another operator key first (or revoke it with \`shekara apikey revoke\` on the gateway host)`,
          );
        }
        await store.revokeApiKey(id, ctx.now());
        ctx.log?.info({ actor, apiKey: id, role: key.role }, 'admin: API key revoked');
        return keyView((await store.listApiKeys()).find((k) => k.id === id)!);
      });
    },

    async createOwnerToken(
      input: { ownerRef: string; vins: readonly string[] },
      actor: Actor,
    ): Promise<OwnerView & { token: string }> {
      if (input.ownerRef.trim() === '' || input.ownerRef.length > 200)
        throw badInput('ownerRef', 'must be 1 to 200 characters');
      if (input.vins.length === 0) throw badInput('vins', 'name at least one vehicle');
      if (new Set(input.vins).size !== input.vins.length) throw badInput('vins', 'must not repeat a VIN');
      for (const [i, vin] of input.vins.entries()) {
        checkVin(vin, `vins.${i}`);
        if (!(await store.getVehicle(vin))) throw badInput(`vins.${i}`, `no vehicle ${vin} is registered`);
      }
      const now = ctx.now();
      const { id, token } = await store.createOwnerToken({ ownerRef: input.ownerRef, vins: input.vins, now });
      ctx.log?.info({ actor, ownerToken: id, vehicles: input.vins.length }, 'admin: owner token created');
      return {
        id,
        ownerRef: input.ownerRef,
        vins: [...input.vins].sort(),
        createdAt: iso(now),
        revokedAt: null,
        token,
      };
    },

    async ownersOfVehicle(vin: string): Promise<OwnerView[]> {
      if (!(await store.getVehicle(vin))) throw notFound(`no vehicle ${vin}`);
      return (await store.ownersOfVehicle(vin)).map(ownerView);
    },

    async revokeOwnerToken(id: string, actor: Actor): Promise<{ id: string; revoked: true }> {
      if (!(await store.revokeOwnerToken(id, ctx.now()))) throw notFound(`no active owner token ${id}`);
      ctx.log?.info({ actor, ownerToken: id }, 'admin: owner token revoked');
      return { id, revoked: true };
    },
  };
}

export type AccessAdmin = ReturnType<typeof createAccessAdmin>;
