/**
 * The `shekara policy` commands, declared apart from main.ts to keep it short. Only commander
 * is loaded here; the actions (policy.ts for files, policy-registry.ts for the store) are
 * imported when a command runs.
 */
import type { Command, Option } from 'commander';
import type { Lazy } from './command-kit.js';

export function addPolicyCommands(program: Command, lazy: Lazy, configOption: () => Option): void {
  const load = () => import('./policy.js');
  const loadRegistry = () => import('./policy-registry.js');
  const policy = program
    .command('policy')
    .description('policy tools: check, dry-run, diff, schema; upload, activate, history of registry OEMs');
  policy
    .command('check')
    .argument('<file>', 'policy YAML')
    .description('validate and compile a policy; exit 2 with file:line, path and reason if invalid')
    .action(lazy(load, (m) => m.policyCheckCommand));
  policy
    .command('dry-run')
    .description('print, per input record, what the policy would let leave and what not, then a summary')
    .requiredOption('--policy <file>', 'policy YAML')
    .requiredOption('--input <file>', 'NDJSON: one car payload (shekara-json/1, docs/telemetry.md) per line')
    .option('--vin <vin>', 'VIN for payloads without a "vin" key')
    .option('--canonical', 'input lines are canonical records (vin, observedAt, signals, account) instead of payloads')
    .option('--assume-consent', 'treat purposes that require consent as granted')
    .option('--json', 'one JSON line per record, then the summary')
    .action(lazy(load, (m) => m.policyDryRunCommand));
  policy
    .command('diff')
    .argument('<old>', 'policy YAML in force')
    .argument('<new>', 'policy YAML proposed')
    .description('show which purposes and fields a change opens or closes')
    .action(lazy(load, (m) => m.policyDiffCommand));
  policy
    .command('upload')
    .argument('<file>', 'policy YAML')
    .description(
      'validate a policy for a registry OEM and store it as a version (by hash); show what it opens or closes against the active one',
    )
    .addOption(configOption())
    .requiredOption('--oem <id>', 'the OEM (registered with `oem add` or the admin API)')
    .option('--activate', 'also activate it')
    .action(lazy(loadRegistry, (m) => m.policyUploadCommand));
  policy
    .command('activate')
    .argument('<hash>', 'a stored version (sha256:…) from `policy history`')
    .description('make a stored version active, all or nothing; an older hash is a rollback')
    .addOption(configOption())
    .requiredOption('--oem <id>', 'the OEM')
    .action(lazy(loadRegistry, (m) => m.policyActivateCommand));
  policy
    .command('history')
    .description('stored versions and every activation of an OEM, newest first')
    .addOption(configOption())
    .requiredOption('--oem <id>', 'the OEM')
    .action(lazy(loadRegistry, (m) => m.policyHistoryCommand));
  policy
    .command('schema')
    .description('print the JSON Schema of the policy format (docs/policy.schema.json)')
    .action(lazy(load, (m) => m.policySchemaCommand));
}
