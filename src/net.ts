/** Listening with errors an operator can act on. */
import type { Server } from 'node:net';
import { ShekaraError } from './errors.js';

/** Listens and resolves with the bound port; a busy port becomes SHK_PORT_IN_USE naming it. */
export function listen(server: Server, port: number, host: string, what: string, envVar?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (err.code === 'EADDRINUSE') {
        reject(
          new ShekaraError(
            'SHK_PORT_IN_USE',
            `${what} port ${port} on ${host} is already in use by another program; choose another port in the config${envVar ? ` or with ${envVar}` : ''}`,
            { cause: err, details: { port, host, listener: what } },
          ),
        );
      } else if (err.code === 'EACCES') {
        reject(
          new ShekaraError(
            'SHK_PORT_IN_USE',
            `${what} port ${port} on ${host} needs privileges this process does not have`,
            { cause: err, details: { port, host } },
          ),
        );
      } else {
        reject(err);
      }
    };
    const onListening = () => {
      server.off('error', onError);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}
