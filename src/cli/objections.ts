/** `shekara objections list|resolve`: the operator's side of owners' objections, like /admin/v1/objections. */
import { loadConfigFile } from '../config/load.js';
import { createStore, type ObjectionStatus } from '../store/index.js';
import { ShekaraError } from '../errors.js';
import { isOverdue } from '../api/views/objection.js';
import { iso } from '../time.js';
import { cliIo } from './io.js';

const STATUSES: readonly ObjectionStatus[] = ['open', 'upheld', 'rejected'];

export async function objectionsListCommand(opts: {
  config?: string;
  status?: string;
  overdue?: boolean;
}): Promise<void> {
  if (opts.status !== undefined && !STATUSES.includes(opts.status as ObjectionStatus)) {
    throw new ShekaraError('SHK_CONFIG_INVALID', `--status ${opts.status}: one of ${STATUSES.join(', ')}`);
  }
  const config = loadConfigFile(opts.config, { env: cliIo().env });
  const store = await createStore(config.store, config.dataDir, config.keys);
  try {
    const now = Date.now();
    const rows = await store.listObjections({
      ...(opts.status ? { status: opts.status as ObjectionStatus } : {}),
      ...(opts.overdue ? { overdueAt: now } : {}),
      limit: 100_000,
    });
    for (const o of rows) {
      const state =
        o.status === 'open' ? (isOverdue(o, now) ? 'open OVERDUE' : 'open') : `${o.status} ${iso(o.resolvedAt!)}`;
      cliIo().stdout.write(
        `${o.id}\t${o.vin}\t${o.oem}\t${o.purpose}\treceived ${iso(o.receivedAt)}\tdue ${iso(o.dueAt)}\t${state}\t${JSON.stringify(o.reason)}\n`,
      );
    }
  } finally {
    await store.close();
  }
}

export async function objectionsResolveCommand(
  id: string,
  opts: { config?: string; status: string; answer: string },
): Promise<void> {
  if (opts.status !== 'upheld' && opts.status !== 'rejected')
    throw new ShekaraError('SHK_CONFIG_INVALID', `--status ${opts.status}: upheld or rejected`);
  if (opts.answer.trim() === '')
    throw new ShekaraError('SHK_CONFIG_INVALID', '--answer: the reply to the owner, in words');
  const config = loadConfigFile(opts.config, { env: cliIo().env });
  const store = await createStore(config.store, config.dataDir, config.keys);
  try {
    const r = await store.resolveObjection({
      id,
      status: opts.status,
      answer: opts.answer,
      resolvedAt: Date.now(),
      actor: { source: 'cli', apiKey: null, owner: null },
    });
    if (!r) throw new ShekaraError('SHK_CONFIG_INVALID', `no objection ${id} (see \`shekara objections list\`)`);
    const late = r.objection.resolvedAt! > r.objection.dueAt ? ` (after its deadline ${iso(r.objection.dueAt)})` : '';
    cliIo().stdout.write(`objection ${id}: ${r.objection.status}${late}; logged as leaf ${r.leafIndex}\n`);
  } finally {
    await store.close();
  }
}
