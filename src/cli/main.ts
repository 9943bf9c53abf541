/**
 * `shekara` command line. Each subcommand lives in its own file; this one only declares them.
 * Exit codes: 0 success, 1 runtime failure, 2 bad usage, config or input.
 */
import { Command, Option } from 'commander';
import { isShekaraError } from '../errors.js';
import { startCommand } from './start.js';
import { simulateCommand } from './simulate.js';
import { oemSinkCommand } from './oem-sink.js';
import { vehiclesAddCommand, vehiclesListCommand } from './vehicles.js';
import { configCheckCommand, policyCheckCommand } from './check.js';

const configOption = () =>
  new Option('-c, --config <file>', 'gateway config YAML (see examples/shekara.yaml)').env('SHEKARA_CONFIG');

const program = new Command('shekara')
  .description('Shekara — data-localization gateway for connected vehicles. '
    + 'Terminates cars\' MQTT and HTTPS traffic in the country, stores it locally, and forwards '
    + 'only policy-approved, pseudonymized fields to the OEM abroad, logging every crossing.')
  .version('0.1.0')
  .showHelpAfterError()
  .addHelpText('after', `
Examples:
  npm start                                   gateway with the demo config (examples/shekara.yaml)
  shekara oem-sink --port 9090                stand-in OEM endpoint that prints what crosses
  shekara simulate -c examples/shekara.yaml --vehicles 10 --rate 20 --duration 30
  shekara vehicles add -c examples/shekara.yaml --vin LSHKZ000000000042 --oem demo-oem
  shekara config check examples/shekara.yaml

Environment: SHEKARA_CONFIG, SHEKARA_MQTT_PORT, SHEKARA_HTTP_PORT, SHEKARA_DATA_DIR, SHEKARA_LOG_LEVEL`);

program.command('start')
  .description('run the gateway: MQTT and HTTPS ingest, local store, policy, egress workers')
  .addOption(configOption())
  .action(startCommand);

program.command('simulate')
  .description('drive N simulated cars (real MQTT clients) publishing telemetry to the gateway')
  .addOption(configOption())
  .option('-n, --vehicles <n>', 'number of cars', toInt, 10)
  .option('-r, --rate <msgs>', 'messages per second, all cars together', toNumber, 10)
  .option('-d, --duration <seconds>', 'how long to publish', toNumber, 30)
  .option('--oem <id>', 'OEM the cars belong to (default: the first OEM in the config)')
  .addOption(new Option('--qos <qos>', 'MQTT QoS').choices(['0', '1']).default('1'))
  .option('--url <url>', 'broker URL (default: mqtt://127.0.0.1:<mqtt.port from the config>)')
  .action(simulateCommand);

program.command('oem-sink')
  .description('a real HTTP server standing in for an OEM endpoint; prints what it receives')
  .option('-p, --port <port>', 'port to listen on', toInt, 9090)
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .option('-o, --out <file>', 'also append each delivery as a JSON line to this file')
  .option('-q, --quiet', 'do not print deliveries (count them only)')
  .action(oemSinkCommand);

const vehicles = program.command('vehicles').description('register and list vehicles');
vehicles.command('add')
  .description('register a vehicle; prints its secret once (only a hash is stored)')
  .addOption(configOption())
  .requiredOption('--vin <vin>', '17-character VIN; also the MQTT client id and username')
  .requiredOption('--oem <id>', 'OEM the vehicle belongs to (must be in the config)')
  .option('--secret <secret>', `use this secret (at least 24 characters) instead of generating one`)
  .option('--replace', 're-key a vehicle that is already registered')
  .action(vehiclesAddCommand);
vehicles.command('list').description('list registered vehicles').addOption(configOption()).action(vehiclesListCommand);

program.command('config').description('config tools')
  .command('check').argument('[file]', 'config YAML (default: --config / SHEKARA_CONFIG)')
  .description('validate a config file and the policies it names; exit 2 with the reasons if invalid')
  .action(configCheckCommand);

program.command('policy').description('policy tools')
  .command('check').argument('<file>', 'policy YAML')
  .description('validate and compile a policy; exit 2 with file:line, path and reason if invalid')
  .action(policyCheckCommand);

function toInt(v: string): number {
  if (!/^\d+$/.test(v)) throw new Error(`expected a whole number, got "${v}"`);
  return Number(v);
}
function toNumber(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`expected a positive number, got "${v}"`);
  return n;
}

program.parseAsync(process.argv).catch((err: unknown) => {
  if (isShekaraError(err)) {
    console.error(`shekara: ${err.code}: ${err.message}`);
    process.exit(err.code.startsWith('SHK_CONFIG') || err.code.startsWith('SHK_POLICY') || err.code === 'SHK_PORT_IN_USE' ? 2 : 1);
  }
  console.error(`shekara: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
