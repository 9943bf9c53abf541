/**
 * Policies of registry OEMs: upload → validate → store as a version (by content hash) →
 * activate; the history; rollback (the activation of an older hash); the diff between the
 * active version and another. Activation is all or nothing and recorded (policy_activations);
 * the last activated version is what the gateway activates again at start.
 *
 * A config OEM's policy is its `policyFile` (re-read on SIGHUP): read-only here, like the OEM.
 */
import type { Catalog } from '../catalog/index.js';
import { NO_COMMANDS } from '../policy/commands.js';
import { parsePolicy, type CompiledPolicy } from '../policy/index.js';
import { diffPolicies, type DiffLine } from '../policy/diff.js';
import { categoryOf, isShekaraError, ShekaraError } from '../errors.js';
import { notFound, type Actor, type AdminContext } from './context.js';
import { iso } from '../time.js';
import type { OemAdmin } from './oems.js';

/** The name an uploaded text is parsed under; problems are reported as `line N path: reason`. */
const UPLOAD = 'policy';

export interface ActivationView {
  readonly oem: string;
  readonly from: string | null;
  readonly to: string;
  readonly changed: boolean;
  readonly droppedHeld: number;
}

export interface PolicyDiffView {
  readonly from: string | null;
  readonly to: string;
  readonly lines: DiffLine[];
}

export interface UploadView {
  readonly oem: string;
  readonly hash: string;
  /** False when this exact text was uploaded before (nothing new stored). */
  readonly created: boolean;
  readonly warnings: string[];
  readonly diff: PolicyDiffView;
  readonly activation: ActivationView | null;
}

export interface PolicyHistoryView {
  readonly oem: string;
  readonly active: { readonly hash: string; readonly activatedAt: string } | null;
  readonly versions: {
    readonly hash: string;
    readonly uploadedAt: string;
    readonly source: string;
    readonly active: boolean;
  }[];
  readonly activations: { readonly hash: string; readonly activatedAt: string; readonly source: string }[];
}

/** Nothing may leave: the left side of a diff for an OEM without an active policy. */
// What an OEM without an active policy is compared against: nothing allowed at all.
const NO_POLICY = { purposes: [], zones: [], named: [], commands: NO_COMMANDS } as unknown as CompiledPolicy;

/**
 * Validates and compiles an uploaded text. A problem reads `line 7 purposes.0.fields.X: reason`
 * (there is no file name to give); every problem is in `details.problems`.
 */
export function compileUpload(text: string, oem: string, source: string = UPLOAD, catalog?: Catalog): CompiledPolicy {
  let policy: CompiledPolicy;
  try {
    policy = parsePolicy(text, source, catalog);
  } catch (err) {
    if (!isShekaraError(err) || categoryOf(err.code) !== 'policy') throw err;
    const rewrite = (p: string) =>
      p
        .replace(new RegExp(`^${source}:(\\d+)(?::\\d+)? `), 'line $1 ')
        .replace(new RegExp(`^${source}:(\\d+):(\\d+): `), 'line $1: ')
        .replace(new RegExp(`^${source} `), '');
    const raw = (err.details.problems as string[] | undefined) ?? [err.message];
    const problems = raw.map(rewrite);
    throw new ShekaraError(err.code, `invalid policy:\n  ${problems.join('\n  ')}`, {
      cause: err,
      details: { ...err.details, problems },
      answer: { problems },
    });
  }
  if (policy.oem !== oem) {
    const problem = `oem: the policy is for OEM "${policy.oem}", not "${oem}"`;
    throw new ShekaraError('SHK_POLICY_INVALID', `invalid policy:\n  ${problem}`, {
      details: { problems: [problem], path: 'oem', reason: 'OEM mismatch' },
      answer: { problems: [problem] },
    });
  }
  return policy;
}

export function createPolicyAdmin(ctx: AdminContext, oems: OemAdmin) {
  const { store } = ctx;

  async function activeCompiled(oem: string): Promise<CompiledPolicy | undefined> {
    if (ctx.live) return ctx.live.policy.policyOf(oem);
    const [latest] = await store.listPolicyActivations(oem);
    return latest ? parsePolicy(latest.content, latest.source, ctx.catalog) : undefined;
  }

  async function diffAgainstActive(oem: string, to: CompiledPolicy): Promise<PolicyDiffView> {
    const active = await activeCompiled(oem);
    return { from: active?.hash ?? null, to: to.hash, lines: diffPolicies(active ?? NO_POLICY, to) };
  }

  async function version(oem: string, hash: string) {
    const v = await store.getPolicyVersion(oem, hash);
    if (!v) throw notFound(`OEM ${oem} has no policy version ${hash}`);
    return v;
  }

  /** Inside ctx.serial. Live: the engine records then swaps. CLI: recorded; the gateway activates it at its next start or SIGHUP. */
  async function activateCompiled(policy: CompiledPolicy, actor: Actor): Promise<ActivationView> {
    if (ctx.live) {
      const r = await ctx.live.policy.activatePolicy(policy);
      if (r.changed)
        ctx.log?.info(
          { actor, oem: r.oem, from: r.from, policyHash: r.to, droppedHeld: r.droppedHeld },
          'admin: policy activated',
        );
      return r;
    }
    const [latest] = await store.listPolicyActivations(policy.oem);
    const changed = await store.recordPolicyActivation({
      oem: policy.oem,
      policyHash: policy.hash,
      source: actor,
      content: policy.text,
      activatedAt: ctx.now(),
    });
    return { oem: policy.oem, from: latest?.policyHash ?? null, to: policy.hash, changed, droppedHeld: 0 };
  }

  return {
    upload(oem: string, text: string, opts: { activate?: boolean }, actor: Actor): Promise<UploadView> {
      return ctx.serial(async () => {
        await oems.writable(oem);
        const policy = compileUpload(text, oem, UPLOAD, ctx.catalog);
        const created = await store.putPolicyVersion({
          oem,
          policyHash: policy.hash,
          content: text,
          source: actor,
          uploadedAt: ctx.now(),
        });
        const diff = await diffAgainstActive(oem, policy);
        const activation = opts.activate
          ? await activateCompiled(compileUpload(text, oem, actor, ctx.catalog), actor)
          : null;
        ctx.log?.info({ actor, oem, policyHash: policy.hash, created }, 'admin: policy version uploaded');
        return { oem, hash: policy.hash, created, warnings: [...policy.warnings], diff, activation };
      });
    },

    /** Activates a stored version; with an older hash this is the rollback. */
    activate(oem: string, hash: string, actor: Actor): Promise<ActivationView> {
      return ctx.serial(async () => {
        await oems.writable(oem);
        const v = await version(oem, hash);
        return activateCompiled(compileUpload(v.content, oem, actor, ctx.catalog), actor);
      });
    },

    async history(oem: string): Promise<PolicyHistoryView> {
      await oems.existing(oem);
      const activations = await store.listPolicyActivations(oem);
      const activeHash = activations[0]?.policyHash;
      return {
        oem,
        active: activations[0]
          ? { hash: activations[0].policyHash, activatedAt: iso(activations[0].activatedAt) }
          : null,
        versions: (await store.listPolicyVersions(oem)).map((v) => ({
          hash: v.policyHash,
          uploadedAt: iso(v.uploadedAt),
          source: v.source,
          active: v.policyHash === activeHash,
        })),
        activations: activations.map((a) => ({
          hash: a.policyHash,
          activatedAt: iso(a.activatedAt),
          source: a.source,
        })),
      };
    },

    async show(oem: string, hash: string) {
      await oems.existing(oem);
      const v = await version(oem, hash);
      const [latest] = await store.listPolicyActivations(oem);
      return {
        oem,
        hash: v.policyHash,
        text: v.content,
        uploadedAt: iso(v.uploadedAt),
        source: v.source,
        active: latest?.policyHash === v.policyHash,
      };
    },

    async diff(oem: string, hash: string): Promise<PolicyDiffView> {
      await oems.existing(oem);
      const v = await version(oem, hash);
      return diffAgainstActive(oem, compileUpload(v.content, oem, UPLOAD, ctx.catalog));
    },

    /** The stored version to activate again at start (registry OEMs only), if any. */
    async lastActivated(oem: string): Promise<CompiledPolicy | undefined> {
      const [latest] = await store.listPolicyActivations(oem);
      if (!latest) return undefined;
      try {
        return parsePolicy(latest.content, latest.source, ctx.catalog);
      } catch (cause) {
        throw new ShekaraError(
          'SHK_POLICY_INVALID',
          `OEM ${oem}: the last activated policy ${latest.policyHash} no longer compiles (${(cause as Error).message}); activate another version with \`shekara policy activate\``,
          { cause },
        );
      }
    },
  };
}

export type PolicyAdmin = ReturnType<typeof createPolicyAdmin>;
