/**
 * The `shekara audit` commands, declared apart from main.ts to keep it short. Only commander
 * is loaded here; the actions (src/cli/audit.ts) are imported when a command runs.
 */
import type { Command, Option } from 'commander';
import { toInt, type Lazy } from './command-kit.js';

export function addAuditCommands(program: Command, lazy: Lazy, configOption: () => Option): void {
  const load = () => import('./audit.js');
  const audit = program.command('audit').description('the egress log: public key, checkpoints, export');
  audit
    .command('pubkey')
    .description("print the log's verifier key (give it to the regulator)")
    .addOption(configOption())
    .action(lazy(load, (m) => m.auditPubkeyCommand));
  audit
    .command('checkpoint')
    .description('print a signed checkpoint (default: the latest)')
    .addOption(configOption())
    .option('--size <n>', 'the checkpoint of this tree size', toInt)
    .action(lazy(load, (m) => m.auditCheckpointCommand));
  audit
    .command('checkpoints')
    .description('list the signed checkpoints, newest first: size, signed at, root hash (base64)')
    .addOption(configOption())
    .option('--before <size>', 'only checkpoints smaller than this tree size (the next page)', toInt)
    .option('--limit <n>', 'at most this many', toInt, 100)
    .option('--json', 'JSON with the signed notes, as GET /regulator/v1/checkpoints answers')
    .action(lazy(load, (m) => m.auditCheckpointsCommand));
  audit
    .command('export')
    .description('write the verifiable export (NDJSON, one leaf per line) up to a checkpoint')
    .addOption(configOption())
    .option('--size <n>', 'tree size (default: the latest checkpoint)', toInt)
    .option('-o, --out <file>', 'write here instead of stdout')
    .action(lazy(load, (m) => m.auditExportCommand));
}
