/**
 * The `shekara vehicles` and `shekara owners` commands (cars, their credentials and the owner
 * tokens bound to them), declared apart from main.ts to keep it short. Only commander is loaded
 * here; the actions (src/cli/vehicles.ts, owners.ts) are imported when a command runs.
 */
import type { Command, Option } from 'commander';
import type { Lazy } from './command-kit.js';

export function addVehicleCommands(program: Command, lazy: Lazy, configOption: () => Option): void {
  const loadVehicles = () => import('./vehicles.js');
  const loadOwners = () => import('./owners.js');
  const vehicles = program
    .command('vehicles')
    .description(
      'vehicles and their device credentials (acts on the store; add/rotate/revoke also on an external broker with credentialSync: docs/external-broker.md)',
    );
  vehicles
    .command('add')
    .description('register a vehicle; prints its secret once (only a hash is stored)')
    .addOption(configOption())
    .requiredOption('--vin <vin>', '17-character VIN; also the MQTT client id and username')
    .requiredOption('--oem <id>', 'OEM the vehicle belongs to (must be in the OEM registry: `shekara oem list`)')
    .option('--secret <secret>', `use this secret (at least 24 characters) instead of generating one`)
    .option('--replace', 're-key a vehicle that is already registered')
    .action(lazy(loadVehicles, (m) => m.vehiclesAddCommand));
  vehicles
    .command('list')
    .description('list registered vehicles: VIN, OEM, status, registered, secret set, revoked')
    .addOption(configOption())
    .option('--oem <id>', "only this OEM's vehicles")
    .action(lazy(loadVehicles, (m) => m.vehiclesListCommand));
  vehicles
    .command('show')
    .argument('<vin>')
    .description('one vehicle and its owners, as JSON (never its secret)')
    .addOption(configOption())
    .action(lazy(loadVehicles, (m) => m.vehiclesShowCommand));
  vehicles
    .command('rotate')
    .argument('<vin>')
    .description('issue a new secret (printed once); the old one stops authenticating at once; lifts a revocation')
    .addOption(configOption())
    .option('--secret <secret>', 'use this secret (at least 24 characters) instead of generating one')
    .action(lazy(loadVehicles, (m) => m.vehiclesRotateCommand));
  vehicles
    .command('revoke')
    .argument('<vin>')
    .description("revoke the vehicle's credentials (secret and certificate alike): it is refused from now on")
    .addOption(configOption())
    .action(lazy(loadVehicles, (m) => m.vehiclesRevokeCommand));
  vehicles
    .command('whois')
    .argument('<ref>', 'a vehicle reference from the gateway log (vr_ and 16 hex digits)')
    .description('print the VIN behind a vehicle reference: log lines name cars only by these keyed references')
    .addOption(configOption())
    .action(lazy(loadVehicles, (m) => m.vehiclesWhoisCommand));

  const owners = program
    .command('owners')
    .description("owner tokens: which vehicles an owner's app may act for in /owner/v1");
  owners
    .command('create')
    .description('bind an owner to vehicles; prints the owner token once')
    .addOption(configOption())
    .requiredOption('--owner-ref <ref>', 'your own reference for the person (customer number…); never shown to OEMs')
    .requiredOption('--vin <vin>', 'a vehicle of the owner (repeat for several)', (v: string, prev: string[] = []) => [
      ...prev,
      v,
    ])
    .action(lazy(loadOwners, (m) => m.ownersCreateCommand));
  owners
    .command('list')
    .description('the owner tokens bound to a vehicle (never the tokens)')
    .addOption(configOption())
    .requiredOption('--vin <vin>', 'the vehicle')
    .action(lazy(loadOwners, (m) => m.ownersListCommand));
  owners
    .command('revoke')
    .argument('<id>', 'token id from `owners list`')
    .description('revoke an owner token at once')
    .addOption(configOption())
    .action(lazy(loadOwners, (m) => m.ownersRevokeCommand));
}
