/**
 * `shekara gbt32960 clear-iccid-pin <vin>`: after a SIM swap, the terminal's next login pins the
 * new card (src/store/gbt32960-terminals/). Apart from gbt32960.ts so that `decode` loads no store.
 */
import { checkVin } from '../admin/index.js';
import { CLI_ACTOR, out, withAdmin } from './admin-store.js';

export async function gbt32960ClearIccidPinCommand(vin: string, opts: { config?: string }): Promise<void> {
  checkVin(vin); // before the store is opened
  const r = await withAdmin(opts.config, (a) => a.vehicles.clearGbt32960IccidPin(vin, CLI_ACTOR));
  out(
    r.cleared
      ? `cleared the ICCID pin of ${vin}: its terminal's next login pins the ICCID it presents`
      : `${vin} had no ICCID pin (its terminal never logged in, or the pin was already cleared); its next login pins the ICCID it presents`,
  );
}
