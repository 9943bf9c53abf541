/**
 * An OEM's mTLS files are checked the way the transport will use them, before a definition is
 * saved and again each time one is applied: each file readable and a regular file, the
 * certificates and key parse, and the key belongs to the certificate. A problem names the field
 * and the rule (and the path, which the operator chose); never the file's content.
 */
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export interface OemFileProblem {
  /** The definition's field: `mtls.certFile`, `mtls.keyFile`, `mtls.caFile` or `mtls`. */
  readonly field: string;
  readonly reason: string;
}

interface MtlsPaths {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile?: string;
}

/** The first problem with the OEM's mTLS files, or undefined when they will work (or there are none). */
export function checkMtlsFiles(mtls: MtlsPaths | null | undefined): OemFileProblem | undefined {
  if (!mtls) return undefined;
  const read = (field: string, file: string): Buffer | OemFileProblem => {
    if (!path.isAbsolute(file)) return { field, reason: 'must be an absolute path on the gateway host' };
    try {
      if (!statSync(file).isFile()) return { field, reason: `${file} is not a regular file on the gateway host` };
      return readFileSync(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      return { field, reason: `cannot read ${file} on the gateway host (${code})` };
    }
  };
  const certs = (field: string, file: string): X509Certificate | OemFileProblem => {
    const buf = read(field, file);
    if (!Buffer.isBuffer(buf)) return buf;
    try {
      return new X509Certificate(buf);
    } catch {
      return { field, reason: `${file} does not hold a PEM or DER certificate` };
    }
  };
  const cert = certs('mtls.certFile', mtls.certFile);
  if (!(cert instanceof X509Certificate)) return cert;
  const keyBuf = read('mtls.keyFile', mtls.keyFile);
  if (!Buffer.isBuffer(keyBuf)) return keyBuf;
  let key: KeyObject;
  try {
    key = createPrivateKey(keyBuf);
  } catch {
    return { field: 'mtls.keyFile', reason: `${mtls.keyFile} does not hold an unencrypted PEM or DER private key` };
  }
  if (!cert.checkPrivateKey(key))
    return { field: 'mtls.keyFile', reason: `${mtls.keyFile} is not the private key of mtls.certFile` };
  if (mtls.caFile !== undefined) {
    const ca = certs('mtls.caFile', mtls.caFile);
    if (!(ca instanceof X509Certificate)) return ca;
  }
  return undefined;
}
