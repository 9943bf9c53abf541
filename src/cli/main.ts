/**
 * `shekara` command line. Each subcommand lives in its own file; this one only declares them.
 * Exit codes: 0 success, 1 runtime failure, 2 bad usage, config or input.
 */
import { Command, Option } from 'commander';
import { isShekaraError } from '../errors.js';
import { startCommand } from './start.js';
import { backupCommand } from './backup.js';
import { oemSigningKeyCommand } from './oem.js';
import { simulateCommand } from './simulate.js';
import { oemSinkCommand } from './oem-sink.js';
import { vehiclesAddCommand, vehiclesListCommand } from './vehicles.js';
import { apikeyCreateCommand, apikeyListCommand, apikeyRevokeCommand } from './apikey.js';
import { auditCheckpointCommand, auditExportCommand, auditPubkeyCommand } from './audit.js';
import { verifyCommand } from './verify.js';
import { objectionsListCommand, objectionsResolveCommand } from './objections.js';
import { configCheckCommand } from './check.js';
import { policyCheckCommand, policyDiffCommand, policyDryRunCommand, policySchemaCommand } from './policy.js';

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

program.command('backup')
  .description('write an online, consistent copy of the SQLite store (safe while the gateway runs)')
  .addOption(configOption())
  .requiredOption('--to <file>', 'where to write the copy (must not exist)')
  .action(backupCommand);

program.command('oem').description('OEM tools')
  .command('signing-key')
  .description('print the HMAC key that signs every body sent to an OEM (to hand to the OEM)')
  .addOption(configOption())
  .requiredOption('--oem <id>', 'OEM id from the config')
  .action(oemSigningKeyCommand);

program.command('config').description('config tools')
  .command('check').argument('[file]', 'config YAML (default: --config / SHEKARA_CONFIG)')
  .description('validate a config file and the policies it names; exit 2 with the reasons if invalid')
  .action(configCheckCommand);

const policy = program.command('policy').description('policy tools: check, dry-run, diff, schema');
policy.command('check').argument('<file>', 'policy YAML')
  .description('validate and compile a policy; exit 2 with file:line, path and reason if invalid')
  .action(policyCheckCommand);
policy.command('dry-run')
  .description('print, per input record, what the policy would let leave and what not, then a summary')
  .requiredOption('--policy <file>', 'policy YAML')
  .requiredOption('--input <file>', 'NDJSON: one car payload (shekara-json/1, docs/telemetry.md) per line')
  .option('--vin <vin>', 'VIN for payloads without a "vin" key')
  .option('--canonical', 'input lines are canonical records (vin, observedAt, signals, account) instead of payloads')
  .option('--assume-consent', 'treat purposes that require consent as granted')
  .option('--json', 'one JSON line per record, then the summary')
  .action(policyDryRunCommand);
policy.command('diff').argument('<old>', 'policy YAML in force').argument('<new>', 'policy YAML proposed')
  .description('show which purposes and fields a change opens or closes')
  .action(policyDiffCommand);
policy.command('schema')
  .description('print the JSON Schema of the policy format (docs/policy.schema.json)')
  .action(policySchemaCommand);

const apikey = program.command('apikey').description('API keys for the HTTP APIs, one role each (regulator, operator, oem, owner-app); stored hashed');
apikey.command('create')
  .description('create a key; prints it once')
  .addOption(configOption())
  .addOption(new Option('--role <role>', 'what the key may do').choices(['regulator', 'operator', 'oem', 'owner-app']).makeOptionMandatory())
  .option('--label <text>', 'who holds it, for `apikey list`')
  .option('--oem <id>', 'with --role oem: the OEM the key is bound to (it sees only that OEM\'s vehicles and data)')
  .action(apikeyCreateCommand);
apikey.command('list').description('list keys (never the keys themselves)').addOption(configOption()).action(apikeyListCommand);
apikey.command('revoke').argument('<id>', 'key id from `apikey list`').description('revoke a key at once').addOption(configOption()).action(apikeyRevokeCommand);

const audit = program.command('audit').description('the egress log: public key, checkpoints, export');
audit.command('pubkey').description('print the log\'s verifier key (give it to the regulator)').addOption(configOption()).action(auditPubkeyCommand);
audit.command('checkpoint').description('print a signed checkpoint (default: the latest)').addOption(configOption())
  .option('--size <n>', 'the checkpoint of this tree size', toInt).action(auditCheckpointCommand);
audit.command('export').description('write the verifiable export (NDJSON, one leaf per line) up to a checkpoint').addOption(configOption())
  .option('--size <n>', 'tree size (default: the latest checkpoint)', toInt).option('-o, --out <file>', 'write here instead of stdout')
  .action(auditExportCommand);

const objections = program.command('objections').description('owners\' objections to automated processing: answer each within three days');
objections.command('list').description('list objections, oldest first: id, VIN, OEM, purpose, received, due, status, reason')
  .addOption(configOption())
  .addOption(new Option('--status <status>', 'only these').choices(['open', 'upheld', 'rejected']))
  .option('--overdue', 'only open objections past their deadline')
  .action(objectionsListCommand);
objections.command('resolve').argument('<id>', 'objection id from `objections list`')
  .description('answer an open objection: upheld keeps its automated purpose stopped for the vehicle, rejected lets it resume')
  .addOption(configOption())
  .addOption(new Option('--status <status>', 'the decision').choices(['upheld', 'rejected']).makeOptionMandatory())
  .requiredOption('--answer <text>', 'the reply the owner sees (only its SHA-256 goes into the log)')
  .action(objectionsResolveCommand);

program.command('verify')
  .description('check an egress-log export against signed checkpoints, offline; exit 1 naming what failed')
  .requiredOption('--export <file>', 'NDJSON export (GET /regulator/v1/log/export or `shekara audit export`)')
  .requiredOption('--checkpoint <file>', 'checkpoint note; give two to check consistency', (v: string, prev: string[] = []) => [...prev, v])
  .requiredOption('--pubkey <key|file>', 'the log\'s verifier key, or a file holding it')
  .option('--entry <seq>', 'also check this entry\'s inclusion proof', toInt)
  .option('-q, --quiet', 'no progress on stderr')
  .action(verifyCommand);

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
