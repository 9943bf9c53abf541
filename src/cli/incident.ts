/**
 * `shekara incident list|show|open|notice|close`: the operator's incident workflow on the
 * command line, the same as /admin/v1/incidents (src/incidents): open one and Shekara pre-fills
 * the notice from the store and the log and starts the business-day clock; export the notice
 * as a document (HTML to print, or JSON) carrying a checkpoint signed now; close it. Every step
 * is an `incident` leaf with `source: cli`.
 */
import { writeFileSync } from 'node:fs';
import { PRIVATE_FILE_MODE } from '../keys/private-dir.js';
import { loadConfigFile } from '../config/load.js';
import { createStore, type Store } from '../store/index.js';
import { createIncidents } from '../incidents/index.js';
import { noticeTables } from '../incidents/notice.js';
import { checkpointRef } from '../reports/index.js';
import { renderHtml } from '../reports/html.js';
import { ErrorCodes, ShekaraError } from '../errors.js';
import type { Config } from '../config/schema.js';
import { checkpointNow } from './report.js';
import { json, out } from './admin-store.js';
import { iso } from '../time.js';
import { cliIo } from './io.js';

const ACTOR = { source: 'cli', apiKey: null } as const;

async function withIncidents<T>(
  configFile: string | undefined,
  fn: (incidents: ReturnType<typeof createIncidents>, store: Store, config: Readonly<Config>) => Promise<T>,
): Promise<T> {
  const config = loadConfigFile(configFile, { env: cliIo().env });
  const store = await createStore(config.store, config.dataDir, config.keys);
  try {
    return await fn(createIncidents(config, { store, now: Date.now }), store, config);
  } finally {
    await store.close();
  }
}

function time(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const ms = Date.parse(v);
  if (!Number.isFinite(ms))
    throw new ShekaraError(ErrorCodes.SHK_BAD_REQUEST, `${name}: "${v}" is not an RFC 3339 date-time`);
  return ms;
}

export async function incidentListCommand(opts: { config?: string }): Promise<void> {
  const now = Date.now();
  for (const i of await withIncidents(opts.config, (x) => x.list())) {
    const clock =
      i.noticeExportedAt !== null
        ? `notice exported ${iso(i.noticeExportedAt)}`
        : `notice due ${iso(i.dueAt)}${now > i.dueAt ? ' (OVERDUE)' : ''}`;
    out(`${i.id}\t${i.status}\t${clock}\t${i.vehicles.length} vehicles\t${i.persons.length} persons\t${i.summary}`);
  }
}

export async function incidentShowCommand(id: string, opts: { config?: string }): Promise<void> {
  json(await withIncidents(opts.config, (x) => x.get(id)));
}

export async function incidentOpenCommand(opts: {
  config?: string;
  summary: string;
  discoveredAt: string;
  from?: string;
  to?: string;
  vin?: string[];
  oem?: string[];
  measure?: string[];
}): Promise<void> {
  const i = await withIncidents(opts.config, (x) =>
    x.open(
      {
        summary: opts.summary,
        discoveredAt: time('--discovered-at', opts.discoveredAt)!,
        scopeFrom: time('--from', opts.from),
        scopeTo: time('--to', opts.to),
        vins: opts.vin?.map((v) => v.toUpperCase()),
        oems: opts.oem,
        measures: opts.measure,
      },
      ACTOR,
    ),
  );
  cliIo().stderr.write(
    `opened incident ${i.id}: notice due ${iso(i.dueAt)}; ${i.vehicles.length} vehicles, ${i.persons.length} persons, ${i.crossings} crossings in scope\n`,
  );
  json(i);
}

export async function incidentNoticeCommand(
  id: string,
  opts: { config?: string; format: 'html' | 'json'; out?: string },
): Promise<void> {
  const text = await withIncidents(opts.config, async (x, store, config) => {
    const i = await x.exportNotice(id, ACTOR);
    const env = {
      report: 'incident-notice',
      title: 'Personal-data incident notice',
      generatedAt: iso(Date.now()),
      checkpoint: checkpointRef(config.audit.origin, (await checkpointNow(store, config)).checkpoint),
      params: { incident: i.id },
      data: i,
    };
    return opts.format === 'json' ? `${JSON.stringify(env, null, 2)}\n` : renderHtml(env, noticeTables(i));
  });
  if (opts.out) {
    writeFileSync(opts.out, text, { mode: PRIVATE_FILE_MODE }); // it names VINs and persons
    cliIo().stderr.write(`incident notice ${id}: written to ${opts.out}\n`);
  } else cliIo().stdout.write(text);
}

export async function incidentCloseCommand(id: string, opts: { config?: string; measure?: string[] }): Promise<void> {
  const i = await withIncidents(opts.config, (x) => x.close(id, opts.measure ?? [], ACTOR));
  out(`closed incident ${i.id}; steps: ${i.steps.map((s) => s.action).join(', ')}`);
}
