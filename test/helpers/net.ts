import { createServer } from 'node:net';

/** A loopback port that was free a moment ago (for child processes that need a fixed port). */
export const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
