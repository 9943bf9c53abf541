/**
 * The OEM registry as the operator manages it. Config OEMs are read-only here (their
 * definition is the config file); API OEMs live in the store. Every change is written to the
 * store first and then applied to the running gateway (egress routes, policy engine), so it
 * takes effect without a restart.
 */
import { randomBytes } from 'node:crypto';
import type { OemConfig } from '../config/schema.js';
import type { OemDefinition, OemRow } from '../store/index.js';
import type { OemDestination } from '../egress/index.js';
import { signingSecretName } from '../egress/sign.js';
import { ShekaraError } from '../errors.js';
import { badInput, notFound, type Actor, type AdminContext } from './context.js';
import { iso, isoOrNull } from '../time.js';
import { checkMtlsFiles } from './oem-files.js';

export const OEM_ID_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;
const COUNTRY_RE = /^[A-Z]{2}$/;
const MIN_SIGNING_KEY_BYTES = 32;

export interface MtlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile?: string;
}

export interface OemInput {
  readonly id: string;
  readonly name?: string;
  readonly endpoint: string;
  readonly allowedCountries?: readonly string[];
  readonly allowPrivateNetworks?: boolean;
  /** base64url of the HMAC key (at least 32 bytes); absent: one is generated. */
  readonly signingKey?: string;
  readonly mtls?: MtlsFiles | null;
}

export type OemPatch = Partial<Omit<OemInput, 'id' | 'signingKey'>>;

export interface OemView {
  readonly id: string;
  readonly name: string;
  readonly endpoint: string;
  readonly allowedCountries: string[];
  readonly allowPrivateNetworks: boolean;
  readonly mtls: MtlsFiles | null;
  /** Where the body-signing key is kept; never the key itself. */
  readonly signingKey: 'file' | 'local-secret';
  readonly source: 'config' | 'api';
  readonly enabled: boolean;
  readonly disabledAt: string | null;
  /** Why the gateway holds this OEM disabled although the registry enables it (a broken mTLS file). */
  readonly problem: string | null;
  readonly activePolicy: { readonly hash: string; readonly activatedAt: string } | null;
  readonly createdAt: string | null;
  readonly updatedAt: string | null;
}

/** A config OEM as a registry definition (what seeding writes). */
export function definitionOf(o: OemConfig): OemDefinition {
  return {
    id: o.id,
    name: o.name ?? o.id,
    endpoint: o.endpoint,
    allowedCountries: [...o.allowedCountries],
    allowPrivateNetworks: o.allowPrivateNetworks,
    signingKeyFile: o.signingKeyFile ?? null,
    mtls: o.mtls ? { ...o.mtls } : null,
  };
}

export function destinationOf(r: OemRow): OemDestination {
  return {
    id: r.id,
    endpoint: r.endpoint,
    allowedCountries: r.allowedCountries,
    allowPrivateNetworks: r.allowPrivateNetworks,
    ...(r.signingKeyFile ? { signingKeyFile: r.signingKeyFile } : {}),
    ...(r.mtls ? { mtls: r.mtls } : {}),
    enabled: r.disabledAt === null,
  };
}

export function createOemAdmin(ctx: AdminContext) {
  const { store } = ctx;

  /** The registry row; a config OEM the store has not seen yet (CLI before a first start) is built from the config. */
  async function rowOf(id: string): Promise<OemRow | undefined> {
    const row = await store.getOem(id);
    const cfg = ctx.configOems.get(id);
    if (!cfg || row?.source === 'config') return row;
    return { ...definitionOf(cfg), source: 'config', disabledAt: null, createdAt: 0, updatedAt: 0 };
  }

  async function view(r: OemRow): Promise<OemView> {
    const [active] = await store.listPolicyActivations(r.id);
    return {
      id: r.id,
      name: r.name,
      endpoint: r.endpoint,
      allowedCountries: [...r.allowedCountries],
      allowPrivateNetworks: r.allowPrivateNetworks,
      mtls: r.mtls,
      signingKey: r.signingKeyFile ? 'file' : 'local-secret',
      source: r.source,
      enabled: r.disabledAt === null && !ctx.problems.has(r.id),
      disabledAt: isoOrNull(r.disabledAt),
      problem: ctx.problems.get(r.id) ?? null,
      activePolicy: active ? { hash: active.policyHash, activatedAt: iso(active.activatedAt) } : null,
      createdAt: r.createdAt ? iso(r.createdAt) : null,
      updatedAt: r.updatedAt ? iso(r.updatedAt) : null,
    };
  }

  async function existing(id: string): Promise<OemRow> {
    const row = await rowOf(id);
    if (!row) throw notFound(`no OEM ${id} in the registry`);
    return row;
  }

  async function writable(id: string): Promise<OemRow> {
    const row = await existing(id);
    if (row.source === 'config') {
      throw new ShekaraError(
        'SHK_ADMIN_READ_ONLY',
        `OEM ${id} is defined in the config file: change it there (and restart), or remove it from the config to manage it here`,
      );
    }
    return row;
  }

  /**
   * Applies a stored row to the running gateway. Disabling stops new projections before the
   * route is held; enabling opens the route before projections start.
   */
  async function apply(row: OemRow): Promise<void> {
    if (!ctx.live) return;
    // A stored definition whose files broke since (a file replaced, a mount gone) holds this
    // OEM alone: disabled, without its mTLS files, the reason logged and shown in /admin/v1.
    const broken = checkMtlsFiles(row.mtls);
    if (broken) {
      const problem = `${broken.field}: ${broken.reason}`;
      if (ctx.problems.get(row.id) !== problem)
        ctx.log?.error({ oem: row.id, problem }, 'OEM disabled: its stored configuration cannot be used');
      ctx.problems.set(row.id, problem);
      ctx.live.policy.upsertOem({ id: row.id, enabled: false });
      await ctx.live.egress.upsertOem({ ...destinationOf({ ...row, mtls: null }), enabled: false });
      return;
    }
    if (ctx.problems.delete(row.id)) ctx.log?.info({ oem: row.id }, 'OEM configuration usable again');
    const enabled = row.disabledAt === null;
    if (!enabled) ctx.live.policy.upsertOem({ id: row.id, enabled });
    await ctx.live.egress.upsertOem(destinationOf(row));
    if (enabled) ctx.live.policy.upsertOem({ id: row.id, enabled });
  }

  return {
    rowOf,
    existing,
    writable,
    apply,

    async list(): Promise<OemView[]> {
      const rows = new Map((await store.listOems()).map((r) => [r.id, r]));
      for (const id of ctx.configOems.keys()) {
        const r = await rowOf(id);
        if (r) rows.set(id, r);
      }
      return Promise.all([...rows.values()].sort((a, b) => a.id.localeCompare(b.id)).map(view));
    },

    async show(id: string): Promise<OemView> {
      return view(await existing(id));
    },

    register(input: OemInput, actor: Actor): Promise<{ oem: OemView; signingKey?: string }> {
      return ctx.serial(async () => {
        if (!OEM_ID_RE.test(input.id))
          throw badInput('id', `must match ${OEM_ID_RE.source} (lower-case letters, digits, '-')`);
        if (ctx.configOems.has(input.id))
          throw new ShekaraError('SHK_ADMIN_CONFLICT', `OEM ${input.id} is defined in the config file`, {
            details: { field: 'id' },
          });
        if (await store.getOem(input.id))
          throw new ShekaraError('SHK_ADMIN_CONFLICT', `OEM ${input.id} is already registered`, {
            details: { field: 'id' },
          });
        const def = checkDefinition({
          ...input,
          name: input.name ?? input.id,
          allowedCountries: input.allowedCountries ?? [],
          allowPrivateNetworks: input.allowPrivateNetworks ?? false,
          mtls: input.mtls ?? null,
          signingKeyFile: null,
        });
        const name = signingSecretName(input.id);
        let shown: string | undefined;
        if (input.signingKey !== undefined) {
          const key = Buffer.from(input.signingKey, 'base64url');
          if (!/^[A-Za-z0-9_-]+$/.test(input.signingKey) || key.length < MIN_SIGNING_KEY_BYTES) {
            throw badInput('signingKey', `must be base64url of at least ${MIN_SIGNING_KEY_BYTES} bytes`);
          }
          const stored = await store.putSecretIfAbsent(name, key);
          if (!stored.equals(key))
            throw new ShekaraError(
              'SHK_ADMIN_CONFLICT',
              `the store already holds another signing key for OEM ${input.id}`,
              { details: { field: 'signingKey' } },
            );
        } else {
          // Generated here, shown once; afterwards only `shekara oem signing-key` prints it again.
          shown = (await store.putSecretIfAbsent(name, randomBytes(MIN_SIGNING_KEY_BYTES))).toString('base64url');
        }
        const row = await store.insertOem({ ...def, now: ctx.now() });
        ctx.log?.info({ actor, oem: row.id, endpoint: row.endpoint }, 'admin: OEM registered');
        await apply(row);
        return { oem: await view(row), ...(shown ? { signingKey: shown } : {}) };
      });
    },

    update(id: string, patch: OemPatch, actor: Actor): Promise<OemView> {
      return ctx.serial(async () => {
        const old = await writable(id);
        const def = checkDefinition({ ...old, ...dropUndefined(patch) });
        const row = (await store.updateOem(id, def, ctx.now()))!;
        ctx.log?.info({ actor, oem: id, changed: Object.keys(dropUndefined(patch)) }, 'admin: OEM changed');
        await apply(row);
        return view(row);
      });
    },

    setEnabled(id: string, enabled: boolean, actor: Actor): Promise<OemView> {
      return ctx.serial(async () => {
        const old = await writable(id);
        if ((old.disabledAt === null) === enabled) return view(old);
        const row = (await store.setOemDisabled(id, enabled ? null : ctx.now(), ctx.now()))!;
        ctx.log?.info(
          { actor, oem: id },
          enabled ? 'admin: OEM enabled' : 'admin: OEM disabled; its pending deliveries wait',
        );
        await apply(row);
        return view(row);
      });
    },
  };
}

export type OemAdmin = ReturnType<typeof createOemAdmin>;

function dropUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The checks the config schema makes for config OEMs, for a definition that arrives at run time. */
function checkDefinition(d: Omit<OemDefinition, 'id'> & { id: string; signingKey?: string }): OemDefinition {
  if (d.name.trim() === '' || d.name.length > 200) throw badInput('name', 'must be 1 to 200 characters');
  let url: URL;
  try {
    url = new URL(d.endpoint);
  } catch {
    throw badInput('endpoint', 'is not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw badInput('endpoint', 'must be an http:// or https:// URL');
  if (url.username || url.password)
    throw badInput('endpoint', 'must not carry credentials; use mtls or the signing key');
  d.allowedCountries.forEach((c, i) => {
    if (!COUNTRY_RE.test(c))
      throw badInput(`allowedCountries.${i}`, 'must be an ISO 3166-1 alpha-2 code in capitals, e.g. DE');
  });
  if (new Set(d.allowedCountries).size !== d.allowedCountries.length)
    throw badInput('allowedCountries', 'must not repeat a country');
  if (d.mtls) {
    if (url.protocol !== 'https:') throw badInput('mtls', 'a client certificate needs an https:// endpoint');
    const problem = checkMtlsFiles(d.mtls);
    if (problem) throw badInput(problem.field, problem.reason);
  }
  return {
    id: d.id,
    name: d.name,
    endpoint: d.endpoint,
    allowedCountries: [...d.allowedCountries],
    allowPrivateNetworks: d.allowPrivateNetworks,
    signingKeyFile: d.signingKeyFile,
    mtls: d.mtls
      ? { certFile: d.mtls.certFile, keyFile: d.mtls.keyFile, ...(d.mtls.caFile ? { caFile: d.mtls.caFile } : {}) }
      : null,
  };
}
