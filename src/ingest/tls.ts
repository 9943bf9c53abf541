/**
 * MQTT over TLS, optionally with vehicle client certificates (mTLS). The handshake accepts a
 * car without a certificate (it may still authenticate with its secret); whether a presented
 * certificate is good — chain, revocation — is decided in `authenticate`, so a refusal is a
 * CONNACK with a logged reason rather than a bare socket reset.
 *
 * Certificates, keys and the revocation list are re-read by `reload()` (SIGHUP), and the CRL
 * also whenever its file changes: a revoked car cannot connect again, without a restart.
 */
import { readFileSync, watchFile, unwatchFile } from 'node:fs';
import { createServer, type Server, type TLSSocket, type SecureContextOptions } from 'node:tls';
import type { MqttTlsConfig } from '../config/schema.js';

export interface PeerIdentity {
  /** A client certificate was presented. */
  readonly presented: boolean;
  /** It chains to the vehicle CA and is not revoked. */
  readonly authorized: boolean;
  readonly commonName: string | undefined;
  readonly error: string | undefined;
}

export function peerIdentity(socket: TLSSocket): PeerIdentity {
  const cert = socket.getPeerCertificate();
  const presented = cert !== null && Object.keys(cert).length > 0;
  const cn = presented ? cert.subject?.CN : undefined;
  return {
    presented,
    authorized: presented && socket.authorized,
    commonName: Array.isArray(cn) ? cn[0] : cn,
    error: socket.authorizationError ? String(socket.authorizationError) : undefined,
  };
}

export interface MqttsServer {
  readonly server: Server;
  reload(): void;
  close(): void;
}

export function createMqttsServer(
  cfg: MqttTlsConfig,
  onSecureSocket: (socket: TLSSocket) => void,
  onReloadError: (err: Error) => void,
): MqttsServer {
  const context = (): SecureContextOptions => ({
    key: readFileSync(cfg.keyFile!),
    cert: readFileSync(cfg.certFile!),
    ...(cfg.clientCaFile ? { ca: readFileSync(cfg.clientCaFile) } : {}),
    ...(cfg.crlFile ? { crl: readFileSync(cfg.crlFile) } : {}),
  });
  const server = createServer(
    {
      ...context(),
      minVersion: 'TLSv1.2',
      requestCert: cfg.clientCaFile !== undefined,
      rejectUnauthorized: false,
    },
    onSecureSocket,
  );
  const reload = () => {
    try {
      server.setSecureContext({ ...context(), minVersion: 'TLSv1.2' });
    } catch (err) {
      onReloadError(err as Error); // keep serving with the previous context
    }
  };
  if (cfg.crlFile) watchFile(cfg.crlFile, { interval: 500 }, reload);
  return {
    server,
    reload,
    close() {
      if (cfg.crlFile) unwatchFile(cfg.crlFile, reload);
      server.close();
    },
  };
}
