/**
 * `shekara policy upload|activate|history`: policy versions of registry OEMs in the store.
 * Upload validates (errors as `line path: reason`, exit 2), stores the version by hash and
 * shows what it would open or close against the active one; activate makes a stored version
 * active (an older hash is the rollback). Config OEMs' policies are their files.
 */
import type { DiffLine } from '../policy/diff.js';
import type { ActivationView } from '../admin/index.js';
import { readSourceFile } from '../yaml-source.js';
import { APPLY_HINT, CLI_ACTOR, out, withAdmin } from './admin-store.js';

const diffLine = (l: DiffLine) => `  ${l.effect.padEnd(7)} ${l.purpose}: ${l.what}`;
const activation = (a: ActivationView) =>
  a.changed
    ? `activated ${a.to} for OEM ${a.oem} (was ${a.from ?? 'none'})\n  ${APPLY_HINT}`
    : `${a.to} is already the active version of OEM ${a.oem}`;

export async function policyUploadCommand(
  file: string,
  opts: { config?: string; oem: string; activate?: boolean },
): Promise<void> {
  const text = readSourceFile(file, 'policy');
  const r = await withAdmin(opts.config, (a) =>
    a.policies.upload(opts.oem, text, { activate: opts.activate }, CLI_ACTOR),
  );
  out(`${r.created ? 'stored' : 'already stored'} policy version ${r.hash} for OEM ${r.oem}`);
  for (const w of r.warnings) out(`  warning: ${w}`);
  out(
    r.diff.lines.length
      ? `against the active version (${r.diff.from ?? 'none'}):`
      : `no change against the active version (${r.diff.from ?? 'none'})`,
  );
  for (const l of r.diff.lines) out(diffLine(l));
  out(r.activation ? activation(r.activation) : `not active yet: shekara policy activate ${r.hash} --oem ${r.oem}`);
}

export async function policyActivateCommand(hash: string, opts: { config?: string; oem: string }): Promise<void> {
  out(activation(await withAdmin(opts.config, (a) => a.policies.activate(opts.oem, hash, CLI_ACTOR))));
}

export async function policyHistoryCommand(opts: { config?: string; oem: string }): Promise<void> {
  const h = await withAdmin(opts.config, (a) => a.policies.history(opts.oem));
  out(
    `OEM ${h.oem}: active ${h.active ? `${h.active.hash} since ${h.active.activatedAt}` : '(none: nothing is sent)'}`,
  );
  out('versions (newest first):');
  for (const v of h.versions) out(`  ${v.hash}\t${v.uploadedAt}\t${v.source}${v.active ? '\tactive' : ''}`);
  out('activations (newest first):');
  for (const a of h.activations) out(`  ${a.activatedAt}\t${a.hash}\t${a.source}`);
}
