/**
 * The `shekara incident` commands, declared apart from main.ts to keep it short. Only commander
 * is loaded here; the actions (src/cli/incident.ts) are imported when a command runs.
 */
import { Option, type Command } from 'commander';
import type { Lazy } from './command-kit.js';

const repeat = (v: string, prev: string[] = []) => [...prev, v];

export function addIncidentCommands(program: Command, lazy: Lazy, configOption: () => Option): void {
  const load = () => import('./incident.js');
  const incident = program
    .command('incident')
    .description(
      'personal-data incidents: open one (the notice is pre-filled from the store and the log, its one-business-day ' +
        'clock starts), export the notice, close it; every step is a leaf of the egress log (docs/regulator.md)',
    );
  incident
    .command('list')
    .description('incidents, newest first: id, status, when the notice is due (or was exported), vehicles, persons')
    .addOption(configOption())
    .action(lazy(load, (m) => m.incidentListCommand));
  incident
    .command('show')
    .argument('<id>')
    .description('one incident as JSON, with the identifiers the notice needs (VINs, persons)')
    .addOption(configOption())
    .action(lazy(load, (m) => m.incidentShowCommand));
  incident
    .command('open')
    .description('open an incident and print it as JSON (pre-filled vehicles, persons, OEMs, countries, categories)')
    .addOption(configOption())
    .requiredOption('--summary <text>', 'what happened')
    .requiredOption('--discovered-at <date>', 'when it was discovered (RFC 3339): the clock starts here')
    .option('--from <date>', 'suspected scope: start (RFC 3339)')
    .option('--to <date>', 'suspected scope: end (RFC 3339)')
    .option('--vin <vin>', 'an affected vehicle (repeat for several; none: every vehicle in the scope)', repeat)
    .option('--oem <id>', 'an OEM involved (repeat for several)', repeat)
    .option('--measure <text>', 'a measure taken (repeat for several)', repeat)
    .action(lazy(load, (m) => m.incidentOpenCommand));
  incident
    .command('notice')
    .argument('<id>')
    .description('export the notice to the authorized body (a logged step), with a checkpoint signed now')
    .addOption(configOption())
    .addOption(
      new Option('--format <format>', 'HTML to print to PDF, or JSON').choices(['html', 'json']).default('html'),
    )
    .option('-o, --out <file>', 'write here (owner-only) instead of stdout')
    .action(lazy(load, (m) => m.incidentNoticeCommand));
  incident
    .command('close')
    .argument('<id>')
    .description('close an incident, adding the measures taken')
    .addOption(configOption())
    .option('--measure <text>', 'a measure taken (repeat for several)', repeat)
    .action(lazy(load, (m) => m.incidentCloseCommand));
}
