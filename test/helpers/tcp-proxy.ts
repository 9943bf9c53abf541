/**
 * A loopback TCP proxy in the test's own process, between a client and a server: it keeps what
 * it passed to the client on each connection, and can cut every connection at a chosen moment —
 * a network drop the test places exactly (e.g. while a commit is under way), which neither end
 * can be told to do.
 */
import net from 'node:net';

export interface TcpProxy {
  readonly port: number;
  /** What the server sent to the client on the n-th connection so far (0: the first). */
  toClient(n: number): Buffer;
  /** Drops every open connection, both sides at once. New ones are still accepted. */
  cut(): void;
  /** The server is gone: every open connection dropped, and each new one closed as soon as it opens, until up(). */
  down(): void;
  up(): void;
  close(): Promise<void>;
}

/** Resolves once data this process wrote to a loopback socket was read by its peer here too. */
export async function afterLoopbackRead(): Promise<void> {
  // Two turns of the event loop: the second one's poll phase has read what the first wrote.
  for (let i = 0; i < 2; i++) await new Promise((r) => setImmediate(r));
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const open = new Set<net.Socket>();
  const received: Buffer[][] = [];
  let isDown = false;
  const server = net.createServer((client) => {
    if (isDown) return void client.destroy();
    const chunks: Buffer[] = [];
    received.push(chunks);
    const upstream = net.connect(target.port, target.host);
    for (const s of [client, upstream]) {
      open.add(s);
      s.once('close', () => open.delete(s));
      s.on('error', () => undefined); // a cut connection errors on the other side: expected
    }
    upstream.on('data', (d: Buffer) => {
      chunks.push(d);
      client.write(d);
    });
    client.on('data', (d: Buffer) => upstream.write(d));
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    toClient: (n) => Buffer.concat(received[n] ?? []),
    cut: () => open.forEach((s) => s.destroy()),
    down: () => {
      isDown = true;
      open.forEach((s) => s.destroy());
    },
    up: () => {
      isDown = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        open.forEach((s) => s.destroy());
        server.close(() => resolve());
      }),
  };
}
