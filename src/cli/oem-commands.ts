/**
 * The `shekara oem` commands (the OEM registry), declared apart from main.ts to keep it short.
 * Only commander is loaded here; the actions (src/cli/oem.ts) are imported when a command runs.
 */
import type { Command, Option } from 'commander';
import type { Lazy } from './command-kit.js';

const countries = (v: string, prev: string[] = []) => [...prev, v];

export function addOemCommands(program: Command, lazy: Lazy, configOption: () => Option): void {
  const load = () => import('./oem.js');
  const oem = program
    .command('oem')
    .description('the OEM registry (acts on the store; config OEMs are read-only; see docs/admin.md)');
  oem
    .command('add')
    .argument('<id>', 'lower-case OEM id')
    .description(
      'register an OEM; prints its generated body-signing key once. It is sent nothing until a policy is activated',
    )
    .addOption(configOption())
    .option('--name <name>', 'display name (default: the id)')
    .requiredOption('--endpoint <url>', 'the one http(s) URL approved projections are POSTed to')
    .option(
      '--country <CC>',
      'a country (ISO 3166-1 alpha-2) the endpoint may resolve to; repeat for several',
      countries,
    )
    .option('--allow-private-networks', 'allow loopback and private-use addresses (they have no country)')
    .option('--signing-key <base64url>', 'import the body-signing key (at least 32 bytes) instead of generating one')
    .option('--mtls-cert <file>', 'client certificate for an https endpoint (absolute path)')
    .option('--mtls-key <file>', 'its private key (absolute path)')
    .option('--mtls-ca <file>', 'CA to verify the endpoint with (absolute path)')
    .action(lazy(load, (m) => m.oemAddCommand));
  oem
    .command('update')
    .argument('<id>')
    .description('change an OEM registered with `oem add` or the admin API')
    .addOption(configOption())
    .option('--name <name>')
    .option('--endpoint <url>')
    .option('--country <CC>', 'replaces the allowed countries; repeat for several', countries)
    .option('--allow-private-networks')
    .option('--no-allow-private-networks', 'refuse loopback and private-use addresses again')
    .option('--mtls-cert <file>')
    .option('--mtls-key <file>')
    .option('--mtls-ca <file>')
    .option('--no-mtls', 'remove the client certificate')
    .action(lazy(load, (m) => m.oemUpdateCommand));
  oem
    .command('list')
    .description('list the registry: id, source, state, endpoint, active policy, name')
    .addOption(configOption())
    .action(lazy(load, (m) => m.oemListCommand));
  oem
    .command('show')
    .argument('<id>')
    .description('one OEM, as JSON (never its signing key)')
    .addOption(configOption())
    .action(lazy(load, (m) => m.oemShowCommand));
  oem
    .command('disable')
    .argument('<id>')
    .description('send the OEM nothing; its pending deliveries wait')
    .addOption(configOption())
    .action(lazy(load, (m) => m.oemEnableCommand(false)));
  oem
    .command('enable')
    .argument('<id>')
    .description('enable a disabled OEM again')
    .addOption(configOption())
    .action(lazy(load, (m) => m.oemEnableCommand(true)));
  oem
    .command('signing-key')
    .description('print the HMAC key that signs every body sent to an OEM (to hand to the OEM)')
    .addOption(configOption())
    .requiredOption('--oem <id>', 'OEM id from the registry')
    .action(lazy(load, (m) => m.oemSigningKeyCommand));
}
