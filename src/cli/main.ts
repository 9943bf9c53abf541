/**
 * `shekara` command line. Each subcommand lives in its own file; this one only declares them,
 * and runs one command line: `runCli`, which bin/shekara.js calls and the tests call in-process.
 * Exit codes: 0 success, 1 runtime failure, 2 bad usage, config or input.
 */
import { Command, CommanderError, Option } from 'commander';
import { categoryOf, isShekaraError } from '../errors.js';
import { withAccessLeaf } from './access-log.js';
import { addIncidentCommands } from './incident-commands.js';
import { addGbt32960Commands } from './gbt32960-commands.js';
import { addPolicyCommands } from './policy-commands.js';
import { addAuditCommands } from './audit-commands.js';
import { addOemCommands } from './oem-commands.js';
import { addVehicleCommands } from './vehicle-commands.js';
import { toInt, toNumber, type Lazy } from './command-kit.js';
import { processIo, withCliIo, type CliIo } from './io.js';

/**
 * A subcommand's module is imported only when that command runs: `shekara --help` and light
 * commands (verify, config check) no longer load the gateway (fastify, kafkajs, pg, the
 * OpenTelemetry SDK). Commander still knows every command, option and help text from here.
 * An action that returns a number gives the run's exit code (catalog show of an unknown path: 2).
 */
function lazyFor(setExitCode: (code: number) => void): Lazy {
  return (load, pick) =>
    async (...args: unknown[]): Promise<void> => {
      // Commander passes the command last; a command that touches the store leaves an access leaf.
      await withAccessLeaf(args.at(-1) as Command, async () => {
        const code = await (pick(await load()) as (...a: unknown[]) => unknown)(...args);
        if (typeof code === 'number') setExitCode(code);
      });
    };
}

const load = {
  apikey: () => import('./apikey.js'),
  backup: () => import('./backup.js'),
  catalog: () => import('./catalog.js'),
  check: () => import('./check.js'),
  objections: () => import('./objections.js'),
  oemSink: () => import('./oem-sink.js'),
  report: () => import('./report.js'),
  simulate: () => import('./simulate.js'),
  start: () => import('./start.js'),
  verify: () => import('./verify.js'),
};

const configOption = () =>
  new Option('-c, --config <file>', 'gateway config YAML (see examples/shekara.yaml)').env('SHEKARA_CONFIG');

/**
 * A fresh program per run: commander keeps parsed option values on its command objects, so a
 * program parsed once MUST NOT parse a second command line. Output and exits go through `io`
 * and `setExitCode` (commander's own `process.exit` is overridden), never the process's.
 */
function createProgram(io: CliIo, setExitCode: (code: number) => void): Command {
  const lazy = lazyFor(setExitCode);
  const program = new Command('shekara');
  // Before any subcommand is declared: subcommands copy these settings when they are made.
  program.exitOverride().configureOutput({
    writeOut: (s) => io.stdout.write(s),
    writeErr: (s) => io.stderr.write(s),
    // A caller's own streams are no terminal: help as through a pipe (width 80, no colours).
    ...(io.stdout === process.stdout ? {} : { getOutHelpWidth: () => 80, getOutHasColors: () => false }),
    ...(io.stderr === process.stderr ? {} : { getErrHelpWidth: () => 80, getErrHasColors: () => false }),
  });
  program.hook('preAction', (_program, action) => configFromEnv(action, io.env));
  program
    .description(
      'Shekara — data-localization gateway for connected vehicles. ' +
        "Terminates cars' MQTT and HTTPS traffic in the country, stores it locally, and forwards " +
        'only policy-approved, pseudonymized fields to the OEM abroad, logging every crossing.',
    )
    .version('0.1.0')
    .showHelpAfterError()
    .addHelpText(
      'after',
      `
Examples:
  npm start                                   gateway with the demo config (examples/shekara.yaml)
  shekara oem-sink --port 9090                stand-in OEM endpoint that prints what crosses
  shekara simulate -c examples/shekara.yaml --vehicles 10 --rate 20 --duration 30
  shekara vehicles add -c examples/shekara.yaml --vin LSHKZ000000000042 --oem demo-oem
  shekara oem add acme -c examples/shekara.yaml --endpoint https://oem.example/in --country DE
  shekara policy upload acme.yaml --oem acme --activate -c examples/shekara.yaml
  shekara config check examples/shekara.yaml

Access log: every command that reads or changes personal data, keys, policies or the registry in
  the store appends an \`access\` leaf to the egress log (command, result, OS user, host; never
  its arguments) — docs/audit.md "The access log".

Environment: SHEKARA_CONFIG, SHEKARA_MQTT_PORT, SHEKARA_HTTP_PORT, SHEKARA_DATA_DIR, SHEKARA_LOG_LEVEL;
  SHEKARA_STORE_URL (a PostgreSQL URL: store.kind postgres, password kept out of the file);
  the standard OTEL_* variables for telemetry (docs/observability.md): OTEL_SERVICE_NAME,
  OTEL_RESOURCE_ATTRIBUTES, OTEL_EXPORTER_OTLP_ENDPOINT/_HEADERS/_PROTOCOL, OTEL_TRACES_SAMPLER(_ARG),
  OTEL_METRICS_EXPORTER=otlp, OTEL_SDK_DISABLED`,
    );

  program
    .command('start')
    .description('run the gateway: MQTT and HTTPS ingest, local store, policy, egress workers')
    .addOption(configOption())
    .addOption(
      new Option(
        '--role <role>',
        'all: ingest and deliver; ingest: no deliveries here; egress: deliveries and APIs, no ingest (default: config `role`, all)',
      ).choices(['all', 'ingest', 'egress']),
    )
    .addHelpText(
      'after',
      `
Store (config \`store\`, docs/deployment.md): SQLite under dataDir by default; for several
instances, store.kind postgres with store.url (or SHEKARA_STORE_URL), store.schema, store.poolSize.
Retention (config \`retention\`): raw records, route points and account data are deleted once past
their periods, on a schedule; the egress log is exempt.

Telemetry (config \`telemetry\`, docs/observability.md), all off by default and free when off:
  tracing.enabled             one trace per record, exported over OTLP to tracing.otlpUrl
                              (absent: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT / _ENDPOINT)
  metrics.prometheus.enabled  GET /metrics on its own listener (127.0.0.1:9464), not the HTTP port
  metrics.otlpUrl             push metrics to an OTLP collector every 15 s (or OTEL_METRICS_EXPORTER=otlp)
  The protocol is http/json unless OTEL_EXPORTER_OTLP_PROTOCOL says http/protobuf or grpc.

Roles (docs/egress.md "Egress gets its share"): with --role all, deliveries run in a worker thread
of their own (egress.thread), apart from the ingest event loop. In production run --role ingest
and --role egress processes on one PostgreSQL store (local outbox) or with Kafka; on SQLite at
most one process may deliver (a second --role egress or all exits with
SHK_EGRESS_DELIVERING_ELSEWHERE).`,
    )
    .action(lazy(load.start, (m) => m.startCommand));

  program
    .command('simulate')
    .description('drive N simulated cars (real MQTT clients) publishing telemetry to the gateway')
    .addOption(configOption())
    .option('-n, --vehicles <n>', 'number of cars', toInt, 10)
    .option('-r, --rate <msgs>', 'messages per second, all cars together', toNumber, 10)
    .option('-d, --duration <seconds>', 'how long to publish', toNumber, 30)
    .option('--oem <id>', 'OEM the cars belong to (default: the first OEM in the config)')
    .addOption(new Option('--qos <qos>', 'MQTT QoS').choices(['0', '1']).default('1'))
    .option('--url <url>', 'broker URL (default: mqtt://127.0.0.1:<mqtt.port from the config>)')
    .addOption(
      new Option('--protocol <protocol>', 'how the cars talk: MQTT JSON, or GB/T 32960 over TCP (gbt32960.tcp.port)')
        .choices(['mqtt', 'gbt32960'])
        .default('mqtt'),
    )
    .addOption(
      new Option('--edition <year>', 'GB/T 32960.3 edition (with --protocol gbt32960)')
        .choices(['2016', '2025'])
        .default('2016'),
    )
    .action(lazy(load.simulate, (m) => m.simulateCommand));

  addGbt32960Commands(program, lazy, configOption);

  program
    .command('oem-sink')
    .description('a real HTTP server standing in for an OEM endpoint; prints what it receives')
    .option('-p, --port <port>', 'port to listen on', toInt, 9090)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('-o, --out <file>', 'also append each delivery as a JSON line to this file')
    .option('-q, --quiet', 'do not print deliveries (count them only)')
    .action(lazy(load.oemSink, (m) => m.oemSinkCommand));

  addVehicleCommands(program, lazy, configOption);

  program
    .command('backup')
    .description('write an online, consistent copy of the SQLite store (safe while the gateway runs)')
    .addOption(configOption())
    .requiredOption('--to <file>', 'where to write the copy (must not exist)')
    .action(lazy(load.backup, (m) => m.backupCommand));

  addOemCommands(program, lazy, configOption);

  program
    .command('config')
    .description('config tools')
    .command('check')
    .argument('[file]', 'config YAML (default: --config / SHEKARA_CONFIG)')
    .description('validate a config file and the policies it names; exit 2 with the reasons if invalid')
    .action(lazy(load.check, (m) => m.configCheckCommand));

  const catalog = program
    .command('catalog')
    .description('the signal catalog: COVESA VSS types, units, ranges and privacy classes (for policy authors)');
  catalog
    .command('show')
    .argument('<path>', 'a signal path, e.g. Vehicle.Speed')
    .description('one signal: class, datatype, unit, min/max, allowed values and where the entry comes from')
    .addOption(configOption())
    .option('--json', 'print JSON')
    .action(lazy(load.catalog, (m) => m.catalogShowCommand));
  catalog
    .command('search')
    .argument('<text>', 'words the path must contain, e.g. "battery charge"')
    .description('signals whose path contains every word (case-insensitive), with class and type')
    .addOption(configOption())
    .option('--limit <n>', 'at most this many', toInt, 50)
    .option('--json', 'print JSON')
    .action(lazy(load.catalog, (m) => m.catalogSearchCommand));

  addPolicyCommands(program, lazy, configOption);

  const apikey = program
    .command('apikey')
    .description('API keys for the HTTP APIs, one role each (regulator, operator, oem, owner-app); stored hashed');
  apikey
    .command('create')
    .description('create a key; prints it once')
    .addOption(configOption())
    .addOption(
      new Option('--role <role>', 'what the key may do')
        .choices(['regulator', 'operator', 'oem', 'owner-app'])
        .makeOptionMandatory(),
    )
    .option('--label <text>', 'who holds it, for `apikey list`')
    .option(
      '--oem <id>',
      "with --role oem: the registry OEM the key is bound to (it sees only that OEM's vehicles and data)",
    )
    .action(lazy(load.apikey, (m) => m.apikeyCreateCommand));
  apikey
    .command('list')
    .description('list keys (never the keys themselves)')
    .addOption(configOption())
    .action(lazy(load.apikey, (m) => m.apikeyListCommand));
  apikey
    .command('revoke')
    .argument('<id>', 'key id from `apikey list`')
    .description('revoke a key at once')
    .addOption(configOption())
    .action(lazy(load.apikey, (m) => m.apikeyRevokeCommand));

  addAuditCommands(program, lazy, configOption);

  program
    .command('report')
    .argument('<name>', 'inventory | processing | ledger | access')
    .description(
      'a compliance report from the store, with the checkpoint it was computed against: inventory (localization ' +
        'statement), processing (record per OEM × purpose; --since), ledger (cross-border counts for --from/--to), ' +
        'access (keys, roles, CLI users and what they did in --from/--to)',
    )
    .addOption(configOption())
    .option('--from <date>', 'ledger, access: start of the period (RFC 3339; default 1 January UTC)')
    .option('--to <date>', 'ledger, access: end of the period, exclusive (default now)')
    .option('--since <date>', 'processing: also list what changed since this date')
    .addOption(
      new Option('--format <format>', 'JSON, or HTML to print to PDF').choices(['json', 'html']).default('json'),
    )
    .option('-o, --out <file>', 'write here instead of stdout')
    .action(lazy(load.report, (m) => m.reportCommand));

  program
    .command('evidence')
    .description(
      'write an evidence pack: the signed checkpoint, the whole log up to it, the reports, every policy version ' +
        'and the incidents, in one JSON file that `shekara verify --pack FILE --pubkey KEY` checks offline',
    )
    .addOption(configOption())
    .option('--from <date>', 'ledger period start (RFC 3339; default 1 January UTC)')
    .option('--to <date>', 'ledger period end, exclusive (default now)')
    .requiredOption('-o, --out <file>', 'the pack file')
    .action(lazy(load.report, (m) => m.evidenceCommand));

  addIncidentCommands(program, lazy, configOption);

  const objections = program
    .command('objections')
    .description("owners' objections to automated processing: answer each within three days");
  objections
    .command('list')
    .description('list objections, oldest first: id, VIN, OEM, purpose, received, due, status, reason')
    .addOption(configOption())
    .addOption(new Option('--status <status>', 'only these').choices(['open', 'upheld', 'rejected']))
    .option('--overdue', 'only open objections past their deadline')
    .action(lazy(load.objections, (m) => m.objectionsListCommand));
  objections
    .command('resolve')
    .argument('<id>', 'objection id from `objections list`')
    .description(
      'answer an open objection: upheld keeps its automated purpose stopped for the vehicle, rejected lets it resume',
    )
    .addOption(configOption())
    .addOption(new Option('--status <status>', 'the decision').choices(['upheld', 'rejected']).makeOptionMandatory())
    .requiredOption('--answer <text>', 'the reply the owner sees (only its SHA-256 goes into the log)')
    .action(lazy(load.objections, (m) => m.objectionsResolveCommand));

  program
    .command('verify')
    .description('check an egress-log export against signed checkpoints, offline; exit 1 naming what failed')
    .option('--export <file>', 'NDJSON export (GET /regulator/v1/log/export or `shekara audit export`)')
    .option('--pack <file>', 'an evidence pack (`shekara evidence`) instead of --export and --checkpoint')
    .option(
      '--checkpoint <file>',
      'checkpoint note; give two to check consistency',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .requiredOption('--pubkey <key|file>', "the log's verifier key, or a file holding it")
    .option('--entry <seq>', "also check this entry's inclusion proof", toInt)
    .option('-q, --quiet', 'print nothing on success (the exit status is the answer); failures still go to stderr')
    .option(
      '--allow-unsigned-tail',
      'accept leaves after the largest checkpoint (no signature covers them); without it they fail the check',
    )
    .action(lazy(load.verify, (m) => m.verifyCommand));

  return program;
}

/**
 * `-c` falls back to SHEKARA_CONFIG of the run's environment. Commander's own fallback (which
 * also prints "(env: SHEKARA_CONFIG)" in the help) reads `process.env`; this replaces what it
 * took from there with the run's value, or with nothing when the run's environment lacks it.
 */
function configFromEnv(action: Command, env: CliIo['env']): void {
  for (const option of action.options) {
    if (!option.envVar) continue;
    const key = option.attributeName();
    const source = action.getOptionValueSource(key);
    if (source !== undefined && source !== 'default' && source !== 'env') continue;
    if (option.envVar in env) action.setOptionValueWithSource(key, env[option.envVar], 'env');
    else if (source === 'env') action.setOptionValueWithSource(key, option.defaultValue, 'default');
  }
}

/** Exit 2: the command or its input was wrong (bad field, no such thing, read-only, conflict). */
const USAGE_CODES = new Set([
  'SHK_PORT_IN_USE',
  'SHK_BAD_REQUEST',
  'SHK_NOT_FOUND',
  'SHK_ADMIN_CONFLICT',
  'SHK_ADMIN_READ_ONLY',
  'SHK_STORE_VEHICLE_EXISTS',
]);

/**
 * Runs one command line (`argv` without node and the script: `['vehicles', 'list', '-c', f]`)
 * and resolves to its exit code; it never ends the process. What the command prints goes to
 * `io` (default: the process's streams and environment). A command that stays up (`start`,
 * `oem-sink`) resolves once SIGINT or SIGTERM has stopped it; with 1, the caller MUST end the
 * process (a gateway that did not close in time may never let it end).
 */
export async function runCli(argv: readonly string[], callerIo?: CliIo): Promise<number> {
  const io = callerIo ?? processIo();
  let exitCode = 0;
  const program = createProgram(io, (code) => (exitCode = code));
  const parse = () => program.parseAsync(argv, { from: 'user' });
  try {
    // The process's own streams need no context (`cliIo()` falls back to them): the binary, and
    // the gateway it starts, never pay for AsyncLocalStorage (on Node 20 it hooks every promise).
    await (callerIo ? withCliIo(callerIo, parse) : parse());
    return exitCode;
  } catch (err: unknown) {
    // --help, --version and usage errors: commander has printed what it had to say.
    if (err instanceof CommanderError) return err.exitCode;
    if (isShekaraError(err)) {
      io.stderr.write(`shekara: ${err.code}: ${err.message}\n`);
      return USAGE_CODES.has(err.code) || categoryOf(err.code) === 'config' || categoryOf(err.code) === 'policy'
        ? 2
        : 1;
    }
    io.stderr.write(`shekara: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
}
