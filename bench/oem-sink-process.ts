/**
 * The OEM sink of the Kafka bench as its own process (`shekara oem-sink --out FILE`), so the cars
 * in the bench's process do not compete with it for the event loop; each delivery is a JSON line
 * with the time it arrived, read back here.
 */
import { spawn } from 'node:child_process';
import { closeSync, fstatSync, openSync, readSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';

export interface Sink {
  url: string;
  pid: number;
  count: number;
  first: number;
  last: number;
  latencies: number[];
  measureFrom: number;
  close(): void;
}

export const freePort = (): Promise<number> =>
  new Promise<number>((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => resolve(p));
    });
  });

export async function startSink(dir: string, given?: number): Promise<Sink> {
  const port = given ?? (await freePort());
  const out = path.join(dir, 'sink.jsonl');
  writeFileSync(out, '');
  const child = spawn(
    process.execPath,
    ['bin/shekara.js', 'oem-sink', '--port', String(port), '--quiet', '--out', out],
    { stdio: 'ignore' },
  );
  const s = {
    count: 0,
    first: 0,
    last: 0,
    latencies: [] as number[],
    measureFrom: Infinity,
    url: `http://127.0.0.1:${port}/oem`,
    pid: child.pid!,
  } as Sink;
  let offset = 0;
  let partial = '';
  // Only the bytes written since the last poll: reading the whole file each time cost this
  // process ~0.1 ms of CPU per delivered record by the end of a drain, on the gateway's cores.
  const fd = openSync(out, 'r');
  const poll = setInterval(() => {
    const size = fstatSync(fd).size;
    if (size <= offset) return;
    const buf = Buffer.alloc(size - offset);
    readSync(fd, buf, 0, buf.length, offset);
    const text = partial + buf.toString('utf8');
    offset = size;
    const lines = text.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line) continue;
      const d = JSON.parse(line) as { receivedAt: string; body: { observedAt: string } };
      const at = Date.parse(d.receivedAt);
      const sentAt = Date.parse(d.body.observedAt);
      s.count += 1;
      if (!s.first) s.first = at;
      s.last = Math.max(s.last, at);
      if (sentAt >= s.measureFrom) s.latencies.push(at - sentAt);
    }
  }, 100);
  await new Promise((r) => setTimeout(r, 500));
  s.close = () => {
    clearInterval(poll);
    closeSync(fd);
    child.kill('SIGTERM');
  };
  return s;
}
