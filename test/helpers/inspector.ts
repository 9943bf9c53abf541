/**
 * Reads a child Node process's own memory figures through its inspector (the process started with
 * `--inspect=127.0.0.1:0`, which prints the socket's address to stderr): for tests that must tell
 * memory the process still holds from memory V8 has not collected yet. Loopback only, test only.
 */
import { WebSocket } from 'undici';

export interface Inspected {
  /** A full, compacting garbage collection in the process's main isolate (HeapProfiler.collectGarbage). */
  collectGarbage(): Promise<void>;
  /** `process.memoryUsage()` in the process, in KB. */
  memoryKb(): Promise<{ rss: number; heapTotal: number; heapUsed: number; external: number }>;
  close(): void;
}

/** The inspector's WebSocket address from a process's stderr, once it has printed it. */
export const inspectorUrl = (stderr: string): string | undefined =>
  /Debugger listening on (ws:\/\/127\.0\.0\.1:\d+\/[\w-]+)/.exec(stderr)?.[1];

export async function inspect(url: string): Promise<Inspected> {
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve(), { once: true });
    ws.addEventListener('error', () => reject(new Error(`inspector at ${url}: cannot connect`)), { once: true });
  });
  let next = 1;
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  ws.addEventListener('message', (ev) => {
    const m = JSON.parse(String(ev.data)) as { id?: number; result?: unknown; error?: { message: string } };
    const w = m.id === undefined ? undefined : waiting.get(m.id);
    if (!w) return;
    waiting.delete(m.id!);
    if (m.error) w.reject(new Error(m.error.message));
    else w.resolve(m.result);
  });
  const call = (method: string, params: object = {}): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = next++;
      waiting.set(id, { resolve, reject });
      ws.send(JSON.stringify({ id, method, params }));
    });
  return {
    async collectGarbage() {
      await call('HeapProfiler.collectGarbage');
    },
    async memoryKb() {
      const r = (await call('Runtime.evaluate', {
        expression: 'JSON.stringify(process.memoryUsage())',
        returnByValue: true,
      })) as { result: { value: string } };
      const u = JSON.parse(r.result.value) as Record<'rss' | 'heapTotal' | 'heapUsed' | 'external', number>;
      const kb = (n: number) => Math.round(n / 1024);
      return { rss: kb(u.rss), heapTotal: kb(u.heapTotal), heapUsed: kb(u.heapUsed), external: kb(u.external) };
    },
    close() {
      ws.close();
    },
  };
}
