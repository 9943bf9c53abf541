/**
 * A throwaway PKI made with the machine's openssl: a vehicle CA, a server certificate for
 * 127.0.0.1, vehicle certificates with CN = VIN, and a CRL that can be re-issued.
 */
// eslint-disable-next-line no-restricted-imports -- openssl makes a test key or certificate in well under a second
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const ssl = (dir: string, ...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

export interface TestPki {
  readonly dir: string;
  readonly caFile: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly crlFile: string;
  vehicle(vin: string): { cert: string; key: string };
  revoke(certFile: string): void;
}

export function createTestPki(): TestPki {
  const dir = mkdtempSync(path.join(tmpdir(), 'shekara-pki-'));
  const f = (name: string) => path.join(dir, name);
  writeFileSync(f('index.txt'), '');
  writeFileSync(f('crlnumber'), '01\n');
  writeFileSync(
    f('ca.cnf'),
    [
      '[ ca ]',
      'default_ca = vehicle_ca',
      '[ vehicle_ca ]',
      `database = ${f('index.txt')}`,
      `crlnumber = ${f('crlnumber')}`,
      'default_md = sha256',
      'default_crl_days = 1',
      `certificate = ${f('ca.pem')}`,
      `private_key = ${f('ca.key')}`,
    ].join('\n'),
  );
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  ssl(
    dir,
    'req',
    '-x509',
    ...ec,
    '-days',
    '2',
    '-subj',
    '/CN=Shekara test vehicle CA',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
  );
  const issue = (name: string, subject: string, ext?: string) => {
    ssl(dir, 'req', ...ec, '-subj', subject, '-keyout', `${name}.key`, '-out', `${name}.csr`);
    writeFileSync(f(`${name}.ext`), ext ?? 'basicConstraints=CA:FALSE\n');
    ssl(
      dir,
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '1',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.pem`,
    );
    return { cert: f(`${name}.pem`), key: f(`${name}.key`) };
  };
  const server = issue('server', '/CN=localhost', 'subjectAltName=IP:127.0.0.1\n');
  const gencrl = () => ssl(dir, 'ca', '-config', 'ca.cnf', '-gencrl', '-out', 'crl.pem');
  gencrl();
  return {
    dir,
    caFile: f('ca.pem'),
    serverCert: server.cert,
    serverKey: server.key,
    crlFile: f('crl.pem'),
    vehicle: (vin) => issue(`vehicle-${vin}`, `/CN=${vin}`),
    revoke(certFile) {
      ssl(dir, 'ca', '-config', 'ca.cnf', '-revoke', certFile);
      gencrl();
    },
  };
}

/** The gateway's `mqtt` config with its MQTTS listener on this PKI (both ports 0: the test reads them back). */
export function mqttsOn(pki: TestPki, tls: { crlFile?: string } = {}) {
  return {
    host: '127.0.0.1',
    port: 0,
    tls: {
      enabled: true,
      host: '127.0.0.1',
      port: 0,
      certFile: pki.serverCert,
      keyFile: pki.serverKey,
      clientCaFile: pki.caFile,
      ...tls,
    },
  };
}
