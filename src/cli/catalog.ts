/**
 * `shekara catalog show PATH` and `shekara catalog search TEXT`: what the gateway knows of a
 * signal (type, unit, range, allowed values, privacy class), for policy authors.
 */
import { loadConfigFile } from '../config/load.js';
import { createCatalog, defaultCatalog, type Catalog, type SignalSpec } from '../catalog/index.js';
import { cliIo } from './io.js';

interface Opts {
  config?: string;
  json?: boolean;
}

function catalogFor(opts: Opts): Catalog {
  return opts.config ? createCatalog(loadConfigFile(opts.config, { env: cliIo().env }).catalog) : defaultCatalog();
}

function describe(s: SignalSpec): string {
  const range = s.min !== undefined || s.max !== undefined ? ` ${s.min ?? '…'}..${s.max ?? '…'}` : '';
  const unit = s.unit ? ` ${s.unit}` : '';
  const allowed = s.allowed ? ` allowed: ${s.allowed.join(', ')}` : '';
  const pattern = s.pattern ? ` pattern: ${s.pattern.source}` : '';
  return `${s.path}  ${s.class}  ${s.datatype}${unit}${range}${allowed}${pattern}`;
}

function asJson(s: SignalSpec): Record<string, unknown> {
  return { ...s, pattern: s.pattern?.source };
}

/** Exit 2 when the path is not in the catalog. */
export function catalogShowCommand(path: string, opts: Opts): number {
  const cat = catalogFor(opts);
  const s = cat.lookup(path);
  if (!s) {
    if (cat.isBranch(path)) {
      const under = cat.paths().filter((p) => p.startsWith(`${path}.`)).length;
      cliIo().stdout.write(
        `${path}: a branch (class ${cat.classOf(path)}), ${under} signal(s) below; try \`shekara catalog search ${path}\`\n`,
      );
      return 0;
    }
    cliIo().stderr.write(`${path}: not in the catalog (${cat.release}): a car's value for it stays in the country\n`);
    return 2;
  }
  if (opts.json) cliIo().stdout.write(`${JSON.stringify(asJson(s), null, 2)}\n`);
  else
    cliIo().stdout.write(
      [
        `path:     ${s.path}`,
        `class:    ${s.class}`,
        `type:     ${s.type}`,
        `datatype: ${s.datatype}`,
        ...(s.unit ? [`unit:     ${s.unit}`] : []),
        ...(s.min !== undefined ? [`min:      ${s.min}`] : []),
        ...(s.max !== undefined ? [`max:      ${s.max}`] : []),
        ...(s.allowed ? [`allowed:  ${s.allowed.join(', ')}`] : []),
        ...(s.pattern ? [`pattern:  ${s.pattern.source}`] : []),
        `from:     ${s.origin} (${cat.release})`,
        '',
      ].join('\n'),
    );
  return 0;
}

export function catalogSearchCommand(text: string, opts: Opts & { limit?: number }): void {
  const cat = catalogFor(opts);
  const hits = cat.search(text, opts.limit ?? 50);
  if (opts.json) {
    cliIo().stdout.write(`${JSON.stringify(hits.map(asJson), null, 2)}\n`);
    return;
  }
  for (const s of hits) cliIo().stdout.write(`${describe(s)}\n`);
  cliIo().stdout.write(`${hits.length} signal(s) (${cat.release})\n`);
}
