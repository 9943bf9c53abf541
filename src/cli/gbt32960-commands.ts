/**
 * The `shekara gbt32960` commands, declared apart from main.ts to keep it short. Only commander
 * is loaded here; the actions (gbt32960.ts, gbt32960-pin.ts) are imported when a command runs.
 */
import type { Command, Option } from 'commander';
import type { Lazy } from './command-kit.js';

export function addGbt32960Commands(program: Command, lazy: Lazy, configOption: () => Option): void {
  const load = () => import('./gbt32960.js');
  const loadPin = () => import('./gbt32960-pin.js');
  const gbt = program
    .command('gbt32960')
    .description('GB/T 32960 tools for operators: decode a frame, clear an ICCID pin (docs/gbt32960.md)');
  gbt
    .command('decode')
    .argument('<input>', 'a frame as hex, or a file of hex or raw bytes (several frames allowed)')
    .description('print each frame as decoded fields (JSON); abnormal/invalid values are left out')
    .action(lazy(load, (m) => m.gbt32960DecodeCommand));
  gbt
    .command('clear-iccid-pin')
    .argument('<vin>', 'the vehicle whose terminal got a new SIM card')
    .description("after a SIM swap: clear the terminal's ICCID pin so its next login pins the new card")
    .addOption(configOption())
    .addHelpText(
      'after',
      `
With gbt32960.identity.pinIccid (the default) a terminal's first login pins the ICCID of its SIM
card, and a login with another ICCID is refused (counted as iccid-not-pinned). After a SIM swap,
clear the pin: the terminal's next login is accepted and pins the new card. The login serial
count is kept, so a replayed login of the old card is still refused. Acts on the store; a running
gateway sees it at the terminal's next login (no SIGHUP needed). The same action in the admin API:
POST /admin/v1/vehicles/{vin}/gbt32960/iccid-pin/clear. Both are in the access log.

Example:
  shekara gbt32960 clear-iccid-pin LGBTK000000000001 -c /etc/shekara/shekara.yaml`,
    )
    .action(lazy(loadPin, (m) => m.gbt32960ClearIccidPinCommand));
}
