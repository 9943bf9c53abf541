/**
 * `shekara oem add|update|list|show|disable|enable|signing-key`: the OEM registry from the
 * command line. Config OEMs are listed but read-only (change the config file).
 */
import { currentSigningKey, SIGNATURE_HEADER } from '../egress/sign.js';
import { destinationOf, type OemPatch, type OemView } from '../admin/index.js';
import { ShekaraError } from '../errors.js';
import { APPLY_HINT, CLI_ACTOR, json, out, withAdmin } from './admin-store.js';
import { cliIo } from './io.js';

interface OemOpts {
  config?: string;
  name?: string;
  endpoint?: string;
  country?: string[];
  allowPrivateNetworks?: boolean;
  signingKey?: string;
  mtlsCert?: string;
  mtlsKey?: string;
  mtlsCa?: string;
  mtls?: boolean;
}

const line = (o: OemView) =>
  [
    o.id,
    o.source,
    o.enabled ? 'enabled' : 'disabled',
    o.endpoint,
    o.activePolicy?.hash ?? '(no active policy)',
    o.name,
  ].join('\t');

function mtlsOf(opts: OemOpts): OemPatch['mtls'] {
  if (opts.mtls === false) return null; // --no-mtls
  if (opts.mtlsCert === undefined && opts.mtlsKey === undefined && opts.mtlsCa === undefined) return undefined;
  if (!opts.mtlsCert || !opts.mtlsKey)
    throw new ShekaraError('SHK_BAD_REQUEST', '--mtls-cert and --mtls-key go together', { details: { field: 'mtls' } });
  return { certFile: opts.mtlsCert, keyFile: opts.mtlsKey, ...(opts.mtlsCa ? { caFile: opts.mtlsCa } : {}) };
}

export async function oemAddCommand(id: string, opts: OemOpts): Promise<void> {
  if (!opts.endpoint)
    throw new ShekaraError('SHK_BAD_REQUEST', '--endpoint URL is required', { details: { field: 'endpoint' } });
  const r = await withAdmin(opts.config, (a) =>
    a.oems.register(
      {
        id,
        name: opts.name,
        endpoint: opts.endpoint!,
        allowedCountries: opts.country ?? [],
        allowPrivateNetworks: opts.allowPrivateNetworks ?? false,
        signingKey: opts.signingKey,
        mtls: mtlsOf(opts),
      },
      CLI_ACTOR,
    ),
  );
  out(`registered OEM ${r.oem.id} (${r.oem.name}) → ${r.oem.endpoint}`);
  out(
    `  allowed countries: ${r.oem.allowedCountries.join(', ') || '(none)'}${r.oem.allowPrivateNetworks ? '; private networks allowed' : ''}`,
  );
  if (r.signingKey) out(`  body-signing key (shown once; base64url, decode to bytes): ${r.signingKey}`);
  out('  no active policy yet: nothing is sent to it until `shekara policy upload --activate`');
  out(`  ${APPLY_HINT}`);
}

export async function oemUpdateCommand(id: string, opts: OemOpts): Promise<void> {
  const patch: OemPatch = {
    name: opts.name,
    endpoint: opts.endpoint,
    allowedCountries: opts.country,
    allowPrivateNetworks: opts.allowPrivateNetworks,
    mtls: mtlsOf(opts),
  };
  if (Object.values(patch).every((v) => v === undefined))
    throw new ShekaraError(
      'SHK_BAD_REQUEST',
      'nothing to change: give --name, --endpoint, --country, --[no-]allow-private-networks or --mtls-*/--no-mtls',
    );
  const o = await withAdmin(opts.config, (a) => a.oems.update(id, patch, CLI_ACTOR));
  out(`changed OEM ${o.id}: ${line(o)}`);
  out(`  ${APPLY_HINT}`);
}

export async function oemListCommand(opts: { config?: string }): Promise<void> {
  for (const o of await withAdmin(opts.config, (a) => a.oems.list())) out(line(o));
}

export async function oemShowCommand(id: string, opts: { config?: string }): Promise<void> {
  json(await withAdmin(opts.config, (a) => a.oems.show(id)));
}

export const oemEnableCommand =
  (enabled: boolean) =>
  async (id: string, opts: { config?: string }): Promise<void> => {
    const o = await withAdmin(opts.config, (a) => a.oems.setEnabled(id, enabled, CLI_ACTOR));
    out(
      enabled
        ? `enabled OEM ${o.id}: its waiting deliveries resume`
        : `disabled OEM ${o.id}: nothing is sent to it; its pending deliveries wait`,
    );
    out(`  ${APPLY_HINT}`);
  };

/**
 * The HMAC key that signs every body sent to an OEM, for the operator to hand to that OEM out
 * of band. Created on first use if the gateway has not yet.
 */
export async function oemSigningKeyCommand(opts: { config?: string; oem: string }): Promise<void> {
  await withAdmin(opts.config, async (a, store) => {
    const row = await a.oems.rowOf(opts.oem);
    if (!row)
      throw new ShekaraError(
        'SHK_NOT_FOUND',
        `--oem ${opts.oem}: no such OEM in the registry (see \`shekara oem list\`)`,
      );
    if (row.signingKeyFile) {
      out(`OEM ${row.id} signs with the key in ${row.signingKeyFile} (its UTF-8 bytes are the HMAC key).`);
      return;
    }
    // The newest key: after `POST /oem/v1/webhook-secret/rotate`, the rotated one.
    out((await currentSigningKey(destinationOf(row), store)).toString('base64url'));
    cliIo().stderr.write(
      `HMAC-SHA256 key for OEM ${row.id} (base64url; decode to bytes). Each delivery carries\n` +
        `  ${SIGNATURE_HEADER}: t=<unix seconds>,v1=<hex HMAC(key, "<t>.<body>")>\n` +
        "  (during a rotation's overlap a second v1= is signed with the previous key)\n" +
        'Hand it to the OEM over a secure channel; it never needs to leave the country otherwise.\n',
    );
  });
}
