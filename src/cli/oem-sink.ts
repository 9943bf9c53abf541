import { startOemSink } from '../sim/oem-sink.js';
import { cliIo } from './io.js';

export async function oemSinkCommand(opts: {
  port: number;
  host: string;
  out?: string;
  quiet?: boolean;
}): Promise<number> {
  let count = 0;
  const sink = await startOemSink({
    port: opts.port,
    host: opts.host,
    out: opts.out,
    print: (d) => {
      count += 1;
      if (!opts.quiet) cliIo().stdout.write(`${JSON.stringify(d.body)}\n`);
    },
  });
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => {
    stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      cliIo().stderr.write(`oem-sink: ${count} deliveries received\n`);
      void sink.close().then(resolve);
    };
  });
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // Announced once the handlers are in: a script that waits for this line may stop the sink at once.
  cliIo().stderr.write(
    `oem-sink: listening on http://${opts.host}:${sink.port}/ — every POST is printed as one JSON line${opts.out ? ` and appended to ${opts.out}` : ''}\n`,
  );
  await stopped;
  return 0;
}
