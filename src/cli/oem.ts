/**
 * `shekara oem signing-key`: the HMAC key that signs every body sent to an OEM, for the
 * operator to hand to that OEM out of band. Created on first use if the gateway has not yet.
 */
import { loadConfigFile } from '../config/load.js';
import { createStore } from '../store/index.js';
import { currentSigningKey, SIGNATURE_HEADER } from '../egress/sign.js';
import { ShekaraError } from '../errors.js';

export async function oemSigningKeyCommand(opts: { config?: string; oem: string }): Promise<void> {
  const config = loadConfigFile(opts.config);
  const oem = config.oems.find((o) => o.id === opts.oem);
  if (!oem) throw new ShekaraError('SHK_CONFIG_INVALID', `--oem ${opts.oem}: not in the config; known: ${config.oems.map((o) => o.id).join(', ') || '(none)'}`);
  if (oem.signingKeyFile) {
    process.stdout.write(`OEM ${oem.id} signs with the key in ${oem.signingKeyFile} (its UTF-8 bytes are the HMAC key).\n`);
    return;
  }
  const store = await createStore(config.store, config.dataDir);
  try {
    // The newest key: after `POST /oem/v1/webhook-secret/rotate`, the rotated one.
    const key = await currentSigningKey(oem, store);
    process.stdout.write(`${key.toString('base64url')}\n`);
    process.stderr.write(`HMAC-SHA256 key for OEM ${oem.id} (base64url; decode to bytes). Each delivery carries\n`
      + `  ${SIGNATURE_HEADER}: t=<unix seconds>,v1=<hex HMAC(key, "<t>.<body>")>\n`
      + '  (during a rotation\'s overlap a second v1= is signed with the previous key)\n'
      + 'Hand it to the OEM over a secure channel; it never needs to leave the country otherwise.\n');
  } finally {
    await store.close();
  }
}
