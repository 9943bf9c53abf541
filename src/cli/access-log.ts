/**
 * The CLI's half of the access log (Order 672/НҚ of 22 Dec 2025: log users' actions; the API's
 * half is src/api/access-log.ts). Every command that reads or changes personal data, keys,
 * policies or the registry in the store appends one `access` leaf when it ends — {action: 'cli',
 * command ('vehicles show'), category, result ('ok' or the error code), user (the operating-
 * system login that ran it), host, role 'cli', apiKey null} — never its arguments, so no VIN
 * or secret reaches the leaf. A command that fails is logged with its error code, as the API
 * logs a 404. Deny by default: a command is logged unless it is listed below as touching no
 * store data.
 *
 * The leaf is written after the command, with the store's own credentials: whoever can run the
 * CLI on the gateway host can also open the store without it. The leaf records the tool's use;
 * it is not a barrier. If it cannot be appended the command exits 1 saying so.
 */
import { hostname, userInfo } from 'node:os';
import type { Command } from 'commander';
import { categoryOf, isShekaraError, ShekaraError } from '../errors.js';
import { cliIo } from './io.js';

/** Commands that read no personal data, keys, policies or registry from the store. */
const NOT_LOGGED = new Set([
  'start', // the gateway itself: its API requests are logged by the API
  'simulate',
  'oem-sink',
  'gbt32960 decode',
  'config check',
  'catalog show',
  'catalog search',
  'policy check',
  'policy dry-run',
  'policy diff',
  'policy schema',
  'audit pubkey',
  'audit checkpoint',
  'audit checkpoints',
  'verify',
]);

/** The command's path without the program's name: 'vehicles add', 'report'. */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** What a command touches, in the API's words (src/api/access-log.ts); null: not logged. */
export function cliCategory(command: string): string | null {
  if (NOT_LOGGED.has(command)) return null;
  const [first = 'other'] = command.split(' ');
  if (command === 'oem signing-key') return 'keys';
  const byFirst: Record<string, string> = {
    oem: 'registry',
    policy: 'policies',
    apikey: 'keys',
    audit: 'egress-log',
    report: 'reports',
    evidence: 'reports',
    backup: 'store',
    gbt32960: 'vehicles',
  };
  return byFirst[first] ?? first;
}

/** Who runs the command: the login name, else the numeric uid (a container without a passwd entry). */
function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid:${process.getuid?.() ?? 'unknown'}`;
  }
}

async function appendLeaf(configFile: string | undefined, body: Record<string, string | null>): Promise<void> {
  // Loaded here: commands that are not logged never load the store.
  const { loadConfigFile } = await import('../config/load.js');
  const { createStore } = await import('../store/index.js');
  const config = loadConfigFile(configFile, { env: cliIo().env });
  const store = await createStore(config.store, config.dataDir, config.keys);
  try {
    await store.appendAuditEvent('access', Date.now(), body);
  } finally {
    await store.close();
  }
}

/** Runs a command and appends its access leaf (if it is a logged one); the command's error is passed on. */
export async function withAccessLeaf(cmd: Command, run: () => Promise<void>): Promise<void> {
  const command = commandPath(cmd);
  const category = cliCategory(command);
  if (category === null) return run();
  let failure: unknown;
  try {
    await run();
  } catch (err) {
    failure = err;
  }
  const code = failure === undefined ? 'ok' : isShekaraError(failure) ? failure.code : 'error';
  // A config that cannot be read: the command opened no store, and neither can the leaf.
  if (isShekaraError(failure) && categoryOf(failure.code) === 'config') throw failure;
  try {
    await appendLeaf((cmd.opts() as { config?: string }).config, {
      action: 'cli',
      command,
      category,
      result: code,
      user: osUser(),
      host: hostname(),
      role: 'cli',
      apiKey: null,
    });
  } catch (cause) {
    const message = `"${command}" ran (${code}) but its access-log leaf could not be appended: ${(cause as Error).message}`;
    if (failure !== undefined) {
      cliIo().stderr.write(`shekara: ${message}\n`);
      throw failure;
    }
    throw new ShekaraError('SHK_STORE_UNAVAILABLE', message, { cause });
  }
  if (failure !== undefined) throw failure;
}
